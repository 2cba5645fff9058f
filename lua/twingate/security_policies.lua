--- tg.security_policies: the SecurityPolicy collection (read, and which groups use a policy).
--
--   local p = tg.security_policies:find("Strict")
--   for g in tg.security_policies:groups(p.id) do print(g.name) end
--   tg.security_policies:update(p.id, { addedGroupIds = { g.id } })
--   tg.security_policies:list(nil, { include = { "groups" } })
--
-- Policies cannot be created or deleted through the API. A group removed from a
-- policy falls back to the default policy.
local collections = require "twingate.collections"

local C = collections.define{
  name = "SecurityPolicy", plural = "SecurityPolicies",
  list_field = "securityPolicies", get_field = "securityPolicy", get_id_type = "ID",
  filter_type = "SecurityPolicyFilterField", find_field = "name",
  fields = "id name createdAt updatedAt policyType",
  nested = {
    groups = { fields = "id name type isActive" },
  },
  update = {
    field = "securityPolicyUpdate", idempotent = true, -- replace or set edits: safe to resend
    args = { groupIds = "[ID]", addedGroupIds = "[ID]", removedGroupIds = "[ID]" },
  },
}

--- Iterate over every group that uses a policy (every page).
-- @param id policy id
-- @param opts `{ fields = "selection of Group" }`
-- @return iterator of groups
-- @raise `not_found` when the policy does not exist
function C:groups(id, opts)
  return self:nested(id, "groups", opts)
end

return C
