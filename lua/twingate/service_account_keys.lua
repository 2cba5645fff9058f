--- tg.service_account_keys: keys of service accounts (their tokens are secrets).
--
--   local key = tg.service_account_keys:create{ serviceAccountId = sa.id, name = "deploy",
--                                               expirationTime = 30 }   -- days; 0 = never expires
--   save_somewhere_safe(key.token)          -- returned ONCE, by create only
--   tg.service_account_keys:update(key.id, { name = "deploy-2" })
--   tg.service_account_keys:revoke(key.id)
--   tg.service_account_keys:delete(key.id)  -- the API refuses to delete an active key
--   tg.service_account_keys:get(id); tg.service_account_keys:find("deploy", { serviceAccountId = sa.id })
--
-- Keys are listed per service account: `tg.service_accounts:keys(sa.id)`.
--
-- The token is registered with `errors.add_secret` as soon as it arrives, so it
-- is redacted ("[REDACTED]") from every log line and error message of this
-- process; it is never logged. It cannot be read again later: keep it from the
-- return value of `create`. A create is never resent after a lost response (a
-- resend would make a second key whose token nobody saw).
local collections = require "twingate.collections"
local errors = require "twingate.errors"
local json = require "twingate.json"

local FIELDS = "id name createdAt updatedAt expiresAt revokedAt status serviceAccount { id name }"

local C = collections.define{
  name = "ServiceAccountKey", plural = "ServiceAccountKeys",
  list_field = "serviceAccountKeys", get_field = "serviceAccountKey", get_id_type = "ID",
  fields = FIELDS,
  update = {
    field = "serviceAccountKeyUpdate", idempotent = true,
    args = { name = "String!" },
  },
  delete = { field = "serviceAccountKeyDelete" },
}

local function bad(fn, msg)
  errors.raise("invalid_argument", "service_account_keys:" .. fn .. "(): " .. msg, nil, 0)
end

local function not_listable()
  bad("each", "keys are listed per service account: use tg.service_accounts:keys(id)")
end

--- Not available: the API has no root list of keys (see `tg.service_accounts:keys(id)`).
-- @raise `invalid_argument`
function C:each() not_listable() end
--- Not available (see `each`).
function C:list() not_listable() end

--- The key with this name.
-- With `opts.serviceAccountId`, the account's keys are read (every page) and a
-- name shared by several keys raises `invalid_argument` listing their ids;
-- without it, the API's `serviceAccountKey(name:)` answers (one request; the API
-- picks when several keys across accounts share the name).
-- @param name string
-- @param opts `{ serviceAccountId = id, fields = "selection" }`
-- @return the key or nil
function C:find(name, opts)
  if type(name) ~= "string" or name == "" then bad("find", "expects a key name string") end
  if opts ~= nil and type(opts) ~= "table" then bad("find", "options must be a table") end
  opts = opts or {}
  local sel = opts.fields or FIELDS
  if opts.serviceAccountId ~= nil then
    local sa = require("twingate.service_accounts").new(self.client)
    local hits = {}
    for k in sa:keys(opts.serviceAccountId, { fields = "id name " .. sel }) do
      if k.name == name then hits[#hits + 1] = k end
    end
    return self:_one(hits, "name", name, function() return true end)
  end
  local data = self.client:query("query FindServiceAccountKey($name: String) { serviceAccountKey(name: $name) { "
    .. sel .. " } }", { name = name })
  local k = data.serviceAccountKey
  if type(k) ~= "table" then return nil end
  return k
end

--- Create a key. Its token is in the result (`key.token`) and nowhere else, ever.
-- @param input `{ serviceAccountId = id, name = "optional", expirationTime = days (0..365, 0 = never) }`
-- @param opts `{ fields = "selection of ServiceAccountKey" }`
-- @return the key with `token` (with --dry-run a placeholder without a token)
-- @raise `invalid_argument` for a bad input, `not_found` when the account does not exist
function C:create(input, opts)
  if type(input) ~= "table" then bad("create", "expects { serviceAccountId =, name =, expirationTime = days }") end
  for k in pairs(input) do
    if k ~= "serviceAccountId" and k ~= "name" and k ~= "expirationTime" then
      bad("create", "unknown field '" .. tostring(k) .. "' (valid: expirationTime, name, serviceAccountId)")
    end
  end
  if type(input.serviceAccountId) ~= "string" or input.serviceAccountId == "" then
    bad("create", "'serviceAccountId' is required")
  end
  local days = input.expirationTime
  if math.type(days) ~= "integer" or days < 0 or days > 365 then
    bad("create", "'expirationTime' is required: whole days 0..365 (0 = the key never expires)")
  end
  if input.name ~= nil and (type(input.name) ~= "string" or input.name == "") then
    bad("create", "'name' must be a non-empty string")
  end
  if opts ~= nil and type(opts) ~= "table" then bad("create", "options must be a table") end
  local sel = (opts and opts.fields) or FIELDS
  local doc = "mutation ServiceAccountKeyCreate($serviceAccountId: ID!, $name: String, $expirationTime: Int!) { "
    .. "serviceAccountKeyCreate(serviceAccountId: $serviceAccountId, name: $name, expirationTime: $expirationTime) "
    .. "{ ok error token entity { " .. sel .. " } } }"
  local vars = { serviceAccountId = input.serviceAccountId, name = input.name, expirationTime = days }
  local data = self:_mutate("create", doc, vars, { idempotent = false })
  local p = data.serviceAccountKeyCreate
  if p.dry_run then return self:_placeholder(nil, input) end
  errors.add_secret(p.token)
  local key = p.entity
  if type(key) ~= "table" then key = {} end
  key.token = p.token ~= json.null and p.token or nil
  return key
end

--- Rename a key (serviceAccountKeyUpdate).
-- @param id key id
-- @param input `{ name = "new name" }`
-- @return the key
function C:update(id, input, opts)
  return collections.Collection.update(self, id, input, opts)
end

--- Revoke a key (serviceAccountKeyRevoke); revoking a revoked key is a no-op.
-- @param id key id
-- @return the key (status REVOKED)
-- @raise `not_found` when the key does not exist
function C:revoke(id, opts)
  if type(id) ~= "string" or id == "" then bad("revoke", "expects a key id string") end
  if opts ~= nil and type(opts) ~= "table" then bad("revoke", "options must be a table") end
  local doc = "mutation ServiceAccountKeyRevoke($id: ID!) { serviceAccountKeyRevoke(id: $id) { ok error entity { "
    .. ((opts and opts.fields) or FIELDS) .. " } } }"
  local data = self:_mutate("revoke", doc, { id = id }, { idempotent = true })
  local p = data.serviceAccountKeyRevoke
  if p.dry_run then return self:_placeholder(id, { status = "REVOKED" }) end
  return p.entity
end

--- Delete a key (serviceAccountKeyDelete). The API refuses active keys: revoke first.
-- @param id key id
-- @return true
function C:delete(id)
  return collections.Collection.delete(self, id)
end

return C
