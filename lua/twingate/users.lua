--- tg.users: the User collection.
--
--   local u = tg.users:find("Ada.Lovelace@Example.com")   -- case-insensitive
--   for u in tg.users:each{ role = { ["in"] = { "ADMIN" } } } do ... end
--   tg.users:create{ email = "new@example.com", firstName = "New", shouldSendInvite = false }
--   tg.users:update(id, { firstName = "Ada", lastName = "King" })   -- userDetailsUpdate
--   tg.users:set_role(id, "DEVOPS")       tg.users:set_state(id, "DISABLED")
--   tg.users:reset_mfa(id)                tg.users:delete(id)
--   tg.users:list(nil, { include = { "groups", "devices" } })
local collections = require "twingate.collections"
local errors = require "twingate.errors"

local C = collections.define{
  name = "User", plural = "Users",
  list_field = "users", get_field = "user", get_id_type = "ID!",
  filter_type = "UserFilterInput", find_field = "email",
  fields = "id email firstName lastName state role type createdAt updatedAt",
  nested = {
    groups = { fields = "id name" },
    devices = { fields = "id name isTrusted activeState serialNumber" },
  },
  create = {
    field = "userCreate",
    args = { email = "String!", firstName = "String", lastName = "String", role = "UserRole",
      shouldSendInvite = "Boolean" },
    -- emails are unique: a user with this email after a lost response is ours
    verify = function(coll, input, _, sel)
      return coll:find(input.email, { fields = sel })
    end,
  },
  update = {
    field = "userDetailsUpdate", idempotent = true,
    args = { firstName = "String", lastName = "String", state = "UserStateUpdateInput" },
  },
  delete = { field = "userDelete" },
}

--- Change a user's role (userRoleUpdate).
-- @param id user id
-- @param role "ADMIN", "DEVOPS", "SUPPORT", "MEMBER", ... (UserRole)
-- @param opts `{ fields = ... }`
-- @return the updated user (a placeholder with --dry-run)
-- @raise `not_found` when the user does not exist
function C:set_role(id, role, opts)
  if type(role) ~= "string" or role == "" then
    errors.raise("invalid_argument", "users:set_role(): expects a role name", nil, 2)
  end
  return self:_id_operation("set_role", { field = "userRoleUpdate", args = { role = "UserRole!" }, idempotent = true },
    id, { role = role }, opts)
end

--- Enable or disable a user (userDetailsUpdate state).
-- @param id user id
-- @param state "ACTIVE" or "DISABLED"
-- @param opts `{ fields = ... }`
-- @return the updated user
function C:set_state(id, state, opts)
  if state ~= "ACTIVE" and state ~= "DISABLED" then
    errors.raise("invalid_argument", "users:set_state(): state must be \"ACTIVE\" or \"DISABLED\"", nil, 2)
  end
  return self:update(id, { state = state }, opts)
end

--- Reset a user's MFA (userResetMfa).
-- @param id user id
-- @param opts `{ fields = ... }`
-- @return the user
function C:reset_mfa(id, opts)
  return self:_id_operation("reset_mfa", { field = "userResetMfa", idempotent = true }, id, nil, opts)
end

-- Characters with a meaning in regular expressions (JavaScript `u` mode and
-- Python `re` agree on escaping exactly these).
local SPECIAL = "[%^%$%\\%.%*%+%?%(%)%[%]%{%}%|%/]"

--- A regular expression matching exactly `s`, ASCII letters in either case.
-- "Ada@x.io" -> "^[aA][dD][aA]@[xX]\.[iI][oO]$"
-- @param s string
-- @return string
function C.caseless_pattern(s)
  local out = s:gsub(".", function(c)
    if c:match("%a") then return "[" .. c:lower() .. c:upper() .. "]" end
    if c:match(SPECIAL) then return "\\" .. c end
    return c
  end)
  return "^" .. out .. "$"
end

--- The user with this email, compared case-insensitively.
-- One request: the email filter's `regexp` operator with a pattern that matches
-- ASCII letters in either case (`[aA]`), anchored, other special characters
-- escaped; the result is checked again in Lua with `string.lower`, so only
-- an exact case-insensitive match is returned. Non-ASCII letters must match
-- in case.
-- @param email string
-- @param opts as for `each`
-- @return the user or nil
-- @raise `invalid_argument` when several users match
function C:find(email, opts)
  if type(email) ~= "string" or email == "" then
    errors.raise("invalid_argument", "users:find(): expects an email string", nil, 2)
  end
  local nodes = self:list({ email = { regexp = C.caseless_pattern(email) } }, opts)
  local want = email:lower()
  return self:_one(nodes, "email", email, function(v) return type(v) == "string" and v:lower() == want end)
end

return C
