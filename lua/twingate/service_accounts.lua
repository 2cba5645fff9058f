--- tg.service_accounts: the ServiceAccount collection.
--
--   local sa = tg.service_accounts:create{ name = "ci", resourceIds = { r.id } }
--   tg.service_accounts:update(sa.id, { addedResourceIds = { r2.id }, removedResourceIds = { r.id } })
--   for k in tg.service_accounts:keys(sa.id) do print(k.name, k.status) end
--   for r in tg.service_accounts:resources(sa.id) do print(r.name) end
--   tg.service_accounts:list(nil, { include = { "resources", "keys" } })  -- every page, batched
--   tg.service_accounts:delete(sa.id)   -- also deletes its keys and access edges
--
-- Keys are created, revoked and deleted through `tg.service_account_keys`.
local collections = require "twingate.collections"

local KEY_FIELDS = "id name createdAt updatedAt expiresAt revokedAt status"

local C = collections.define{
  name = "ServiceAccount", plural = "ServiceAccounts",
  list_field = "serviceAccounts", get_field = "serviceAccount", get_id_type = "ID!",
  filter_type = "ServiceAccountFilterInput", find_field = "name",
  fields = "id name createdAt updatedAt",
  nested = {
    resources = { fields = "__typename id name address { type value } remoteNetwork { id name }" },
    keys = { fields = KEY_FIELDS },
  },
  create = {
    field = "serviceAccountCreate",
    args = { name = "String!", resourceIds = "[ID]" },
    -- a lost response: an account of that name created since the request counts as ours
    verify = collections.verify_by_name,
  },
  update = {
    field = "serviceAccountUpdate", idempotent = true, -- a new name and set edits: safe to resend
    args = { name = "String", resourceIds = "[ID]", addedResourceIds = "[ID]", removedResourceIds = "[ID]" },
  },
  delete = { field = "serviceAccountDelete" },
}

C.KEY_FIELDS = KEY_FIELDS

--- Iterate over every key of a service account (every page; tokens are never readable).
-- @param id service account id
-- @param opts `{ fields = "selection of ServiceAccountKey" }`
-- @return iterator of keys `{ id, name, createdAt, updatedAt, expiresAt, revokedAt, status }`
-- @raise `not_found` when the service account does not exist
function C:keys(id, opts)
  return self:nested(id, "keys", opts)
end

--- Iterate over every resource a service account can reach (every page).
-- @param id service account id
-- @param opts `{ fields = "selection on the Resource interface" }`
-- @return iterator of resources
-- @raise `not_found` when the service account does not exist
function C:resources(id, opts)
  return self:nested(id, "resources", opts)
end

return C
