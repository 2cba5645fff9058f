--- JSON for the twingate module: the only place that touches cjson.
--
-- Decoding uses cjson and then fixes what Lua cannot express directly:
-- JSON `null` inside objects becomes an absent key, `null` elements of
-- arrays stay `json.null` (so indexes do not shift), and integral numbers
-- come back as Lua integers (`totalCount` prints as `300`, not `300.0`).
--
-- Encoding walks the value in Lua and lets cjson escape the strings. That
-- gives explicit nulls (`json.null`), empty arrays (`json.array{}` -> `[]`;
-- lua-cjson 2.1.0 has no empty_array_mt), integers printed exactly (cjson
-- 2.1.0 rounds to 14 significant digits), object keys in sorted order
-- (stable output), and a clear error for values JSON cannot hold.
local cjson = require "cjson"
local errors = require "twingate.errors"

local M = {}

-- A private cjson instance, so nothing else can change its settings.
local cj = cjson.new and cjson.new() or cjson

--- The JSON null (`cjson.null`, a lightuserdata). Put it in a table to send
-- an explicit `null`; decoded arrays hold it where the JSON had `null`.
M.null = cjson.null

local null = M.null

-- Tables carrying this metatable encode as arrays, even when empty.
local array_mt = { __name = "twingate.json.array" }
M.array_mt = array_mt

--- Mark a table as a JSON array, so that it encodes as `[]` when empty.
-- A table that already has a metatable is copied into a new marked table.
-- @param t table (default: a new empty table)
-- @return the marked table
function M.array(t)
  t = t or {}
  if type(t) ~= "table" then
    errors.raise("invalid_argument", "json.array expects a table, got " .. type(t), nil, 2)
  end
  local mt = getmetatable(t)
  if mt == array_mt then return t end
  if mt ~= nil then
    local c = {}
    for i = 1, #t do c[i] = t[i] end
    t = c
  end
  return setmetatable(t, array_mt)
end

--- True if `t` was marked with `json.array`.
function M.is_array(t)
  return type(t) == "table" and getmetatable(t) == array_mt
end

-- `path` is a stack of the keys leading to the value being encoded; it is
-- only turned into text when something cannot be encoded.
local function fail(path, msg)
  local where = { "value" }
  for _, k in ipairs(path) do
    where[#where + 1] = math.type(k) == "integer" and ("[" .. k .. "]") or ("." .. tostring(k))
  end
  errors.raise("invalid_argument", "cannot encode " .. table.concat(where) .. " as JSON: " .. msg,
    nil, 0)
end

local function encode_string(s, path)
  if not utf8.len(s) then fail(path, "string is not valid UTF-8") end
  -- cjson escapes "/" as "\/"; plain "/" is valid JSON, easier to read and
  -- keeps secrets recognisable for redaction. Every "/" cjson emits is
  -- preceded by its own escape backslash, so this replacement is exact.
  return (cj.encode(s):gsub("\\/", "/"))
end

local function encode_number(n, path)
  if math.type(n) == "integer" then return string.format("%d", n) end
  if n ~= n or n == math.huge or n == -math.huge then
    fail(path, "number " .. tostring(n) .. " is not allowed in JSON")
  end
  local i = math.tointeger(n)
  if i and math.abs(n) < 2^53 then return string.format("%d", i) end
  return string.format("%.17g", n)
end

-- Returns "array", n or "object" for a table.
local function table_kind(t, path)
  if getmetatable(t) == array_mt then return "array", #t end
  local n, count, strings = 0, 0, false
  for k in pairs(t) do
    count = count + 1
    local tk = type(k)
    if tk == "string" then
      strings = true
    elseif math.type(k) == "integer" and k >= 1 then
      if k > n then n = k end
    else
      fail(path, "table key " .. tostring(k) .. " is neither a string nor a positive integer")
    end
  end
  if count == 0 then return "object" end
  if strings then
    if n > 0 then fail(path, "table mixes array items and string keys") end
    return "object"
  end
  if n ~= count then fail(path, "array has holes (use json.null for missing items)") end
  return "array", n
end

local encode_value

local function encode_table(t, out, path, seen)
  if seen[t] then fail(path, "table contains itself") end
  seen[t] = true
  local kind, n = table_kind(t, path)
  if kind == "array" then
    out[#out + 1] = "["
    for i = 1, n do
      if i > 1 then out[#out + 1] = "," end
      path[#path + 1] = i
      encode_value(t[i], out, path, seen)
      path[#path] = nil
    end
    out[#out + 1] = "]"
  else
    local keys = {}
    for k in pairs(t) do keys[#keys + 1] = k end
    table.sort(keys)
    out[#out + 1] = "{"
    for i, k in ipairs(keys) do
      if i > 1 then out[#out + 1] = "," end
      out[#out + 1] = encode_string(k, path)
      out[#out + 1] = ":"
      path[#path + 1] = k
      encode_value(t[k], out, path, seen)
      path[#path] = nil
    end
    out[#out + 1] = "}"
  end
  seen[t] = nil
end

function encode_value(v, out, path, seen)
  local tv = type(v)
  if tv == "string" then
    out[#out + 1] = encode_string(v, path)
  elseif tv == "number" then
    out[#out + 1] = encode_number(v, path)
  elseif tv == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif v == null then
    out[#out + 1] = "null"
  elseif tv == "table" then
    encode_table(v, out, path, seen)
  elseif tv == "nil" then
    out[#out + 1] = "null"
  else
    fail(path, "values of type " .. tv .. " cannot be sent")
  end
end

--- Encode a Lua value as JSON text.
-- `json.null` encodes as `null`; tables marked with `json.array` as arrays
-- (`[]` when empty); other tables as arrays when their keys are exactly
-- 1..n, as objects otherwise (an empty unmarked table is `{}`).
-- @param v value
-- @return string
-- @raise `invalid_argument` for values JSON cannot hold (functions, NaN,
-- invalid UTF-8, mixed or sparse tables, cycles)
function M.encode(v)
  local out = {}
  encode_value(v, out, {}, {})
  return table.concat(out)
end

-- A short, printable excerpt of untrusted text for error messages.
local function excerpt(s, max)
  max = max or 40
  -- redact before cutting, so a secret split by the cut cannot leak half
  local r = errors.redact(s:sub(1, max + 512))
  local e = r:sub(1, max):gsub("[%c\128-\255]", "?")
  if #r > max then e = e .. "..." end
  return e
end
M.excerpt = excerpt

-- Fix up what cjson returns: drop nulls from objects, keep them in arrays,
-- integral floats -> integers.
local function normalize(v)
  if type(v) == "table" then
    for k, x in pairs(v) do
      if x == null then
        if type(k) == "string" then v[k] = nil end
      elseif type(x) == "table" then
        normalize(x)
      elseif math.type(x) == "float" then
        local i = math.tointeger(x)
        if i and math.abs(x) <= 2^53 then v[k] = i end
      end
    end
  end
  return v
end

--- Decode JSON text to a Lua value.
-- `null` members of objects are absent, `null` items of arrays are
-- `json.null`, integral numbers are Lua integers.
-- @param s string
-- @return value
-- @raise `http` error when `s` is not JSON (with a short excerpt at most)
function M.decode(s)
  if type(s) ~= "string" then
    errors.raise("http", "the response body was not JSON (no body)", nil, 2)
  end
  local ok, v = pcall(cj.decode, s)
  if not ok then
    errors.raise("http", string.format("the response body was not JSON (%d bytes, starting %q)",
      #s, excerpt(s)), nil, 2)
  end
  if math.type(v) == "float" then
    local i = math.tointeger(v)
    if i and math.abs(v) <= 2^53 then v = i end
  end
  return normalize(v)
end

return M
