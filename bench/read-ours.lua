-- read-ours.lua: the read side of bench/read-tenant.sh, done with the module:
-- every group with all its users and resources, every resource with all its
-- access edges, every user. Nested lists are completed with batched aliased
-- follow-up queries (include).
--   twingate-lua bench/read-ours.lua
local tg = require("twingate").connect()

local groups = tg.groups:list(nil, { include = { "users", "resources" } })
local resources = tg.resources:list(nil, { include = { "access" } })
local users = tg.users:list()

local members, group_resources, edges = 0, 0, 0
for _, g in ipairs(groups) do
  members = members + #g.users
  group_resources = group_resources + #g.resources
end
for _, r in ipairs(resources) do edges = edges + #r.access end
print(string.format("ours: %d groups, %d memberships, %d group-resource links, %d resources, %d access edges, %d users",
  #groups, members, group_resources, #resources, edges, #users))
