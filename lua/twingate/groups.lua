--- tg.groups: the Group collection and its membership operations.
--
--   for g in tg.groups:each{ name = { startsWith = "eng-" } } do ... end
--   tg.groups:list(nil, { include = { "users" } })  -- every member of every group, batched
--   tg.groups:add_users(id, user_ids)                -- one groupUpdate (addedUserIds)
--   tg.groups:update(id, { addedUserIds = a, removedUserIds = r })  -- both in one request
--   for u in tg.groups:users(id) do ... end          -- every member, every page
local collections = require "twingate.collections"
local errors = require "twingate.errors"
local graphql = require "twingate.graphql"

local USER_FIELDS = "id email firstName lastName state role type"

local C = collections.define{
  name = "Group", plural = "Groups",
  list_field = "groups", get_field = "group", get_id_type = "ID!",
  filter_type = "GroupFilterInput", find_field = "name",
  fields = "id name createdAt updatedAt isActive type originId securityPolicy { id name }",
  nested = {
    users = { fields = USER_FIELDS },
    resources = { fields = "id name address { type value } remoteNetwork { id name }" },
  },
  create = {
    field = "groupCreate",
    args = { name = "String!", resourceIds = "[ID]", securityPolicyId = "ID", userIds = "[ID]" },
    -- a lost response: a group of that name created since the request counts as ours
    verify = collections.verify_by_name,
  },
  update = {
    field = "groupUpdate", idempotent = true, -- set edits and plain fields: safe to resend
    args = {
      name = "String", isActive = "Boolean", securityPolicyId = "ID",
      userIds = "[ID]", addedUserIds = "[ID]", removedUserIds = "[ID]",
      resourceIds = "[ID]", addedResourceIds = "[ID]", removedResourceIds = "[ID]",
    },
  },
  delete = { field = "groupDelete" },
}

local function check_ids(fn, ids)
  if type(ids) ~= "table" then
    errors.raise("invalid_argument", "groups:" .. fn .. "(): expects a list of user ids", nil, 0)
  end
  local ok, err = pcall(graphql.list_value, ids, "user_ids")
  if not ok then errors.raise("invalid_argument", "groups:" .. fn .. "(): " .. err.message, nil, 0) end
  for i, v in ipairs(ids) do
    if type(v) ~= "string" or v == "" then
      errors.raise("invalid_argument", "groups:" .. fn .. "(): user id #" .. i .. " is not an id string", nil, 0)
    end
  end
end

--- Add users to a group: one groupUpdate with addedUserIds (safe to resend).
-- @param id group id
-- @param user_ids array of user ids; an empty list sends nothing
-- @return the updated group (nil when nothing was sent)
function C:add_users(id, user_ids)
  check_ids("add_users", user_ids)
  if #user_ids == 0 then return nil end
  return self:update(id, { addedUserIds = user_ids })
end

--- Remove users from a group: one groupUpdate with removedUserIds (safe to resend).
-- @param id group id
-- @param user_ids array of user ids; an empty list sends nothing
-- @return the updated group (nil when nothing was sent)
function C:remove_users(id, user_ids)
  check_ids("remove_users", user_ids)
  if #user_ids == 0 then return nil end
  return self:update(id, { removedUserIds = user_ids })
end

--- Iterate over every member of a group, every page.
-- @param id group id
-- @param opts `{ fields = "id email" }`
-- @return iterator of users
-- @raise `not_found` when the group does not exist
function C:users(id, opts)
  return self:nested(id, "users", opts)
end

return C
