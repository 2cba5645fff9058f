--- tg.serial_numbers: trusted device serial numbers.
--
--   tg.serial_numbers:create{ "C02X1", "C02X2" }     -- one serialNumbersCreate
--   for s in tg.serial_numbers:each{ hasMatchedDevices = { eq = true } } do
--     print(s.serialNumber, #s.matchedDevices)      -- matchedDevices: a plain list
--   end
--   local s = tg.serial_numbers:find("C02X1")
--   tg.serial_numbers:delete{ "C02X1" }
-- The API has no lookup by id: use find(serial).
local collections = require "twingate.collections"
local errors = require "twingate.errors"
local json = require "twingate.json"

local C = collections.define{
  name = "SerialNumber", plural = "SerialNumbers",
  list_field = "serialNumbers", get_field = nil,
  filter_type = "SerialNumberFilterInput", find_field = "serialNumber",
  fields = "id serialNumber createdAt matchedDevices { id name serialNumber isTrusted user { id email } }",
}

local function serials(fn, list)
  if type(list) == "string" then list = { list } end
  if type(list) ~= "table" or #list == 0 then
    errors.raise("invalid_argument", "serial_numbers:" .. fn .. "(): expects a non-empty list of serial numbers", nil, 3)
  end
  local out = {}
  for i, s in ipairs(list) do
    if type(s) ~= "string" or s == "" then
      errors.raise("invalid_argument", "serial_numbers:" .. fn .. "(): serial #" .. i .. " is not a string", nil, 3)
    end
    out[i] = s
  end
  return json.array(out)
end

local function skip_nulls(list)
  local out = json.array()
  for _, n in ipairs(type(list) == "table" and list or {}) do
    if type(n) == "table" then out[#out + 1] = n end
  end
  return out
end

--- Each serial number; matchedDevices stays a plain list (null entries skipped).
-- @param filter SerialNumberFilterInput or nil
-- @param opts as for collections each
function C:each(filter, opts)
  local it = collections.Collection.each(self, filter, opts)
  return function()
    local n = it()
    if n and type(n.matchedDevices) == "table" then n.matchedDevices = skip_nulls(n.matchedDevices) end
    return n
  end
end

--- Add serial numbers (one serialNumbersCreate; existing ones are kept).
-- @param list array of serial number strings (or one string)
-- @param opts `{ fields = "selection of each serial number" }`
-- @return array of the serial number objects; with --dry-run placeholders
function C:create(list, opts)
  local sns = serials("create", list)
  opts = opts or {}
  local p = self:_operation("create", {
    field = "serialNumbersCreate", args = { serialNumbers = "[String!]!" }, idempotent = true,
    payload = "ok error entities { " .. (opts.fields or self.def.fields) .. " }",
  }, { serialNumbers = sns })
  if p.dry_run then
    local out = json.array()
    for i, s in ipairs(sns) do out[i] = self:_placeholder(nil, { serialNumber = s }) end
    return out
  end
  return skip_nulls(p.entities)
end

--- Remove serial numbers (one serialNumbersDelete).
-- @param list array of serial number strings (or one string)
-- @return true
function C:delete(list)
  local sns = serials("delete", list)
  self:_operation("delete", {
    field = "serialNumbersDelete", args = { serialNumbers = "[String!]!" }, idempotent = true, payload = "ok error",
  }, { serialNumbers = sns })
  return true
end

return C
