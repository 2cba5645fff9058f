-- read-naive.lua: the baseline of bench/read-tenant.sh. The same read as
-- read-ours.lua (same page size, same fields), the way public clients do it:
-- one request per page of every list, unbatched; nested connections read
-- object by object (each group's users, each group's resources, each
-- resource's access), each to its last page.
--   twingate-lua bench/read-naive.lua
local twingate = require "twingate"
local tg = twingate.connect()

local PAGE = "pageInfo { hasNextPage endCursor }"

local function all(doc, vars)
  local out = {}
  for n in tg:each(doc, vars) do out[#out + 1] = n end
  return out
end

local gdef = tg.groups.def
local groups = all("query G($first: Int, $after: String) { groups(first: $first, after: $after) { edges { node { "
  .. gdef.fields .. " } } " .. PAGE .. " } }")
local members, group_resources = 0, 0
for _, g in ipairs(groups) do
  g.users = all("query GU($id: ID!, $first: Int, $after: String) { group(id: $id) { users(first: $first, after: $after) "
    .. "{ edges { node { " .. gdef.nested.users.fields .. " } } " .. PAGE .. " } } }", { id = g.id })
  g.resources = all("query GR($id: ID!, $first: Int, $after: String) { group(id: $id) { resources(first: $first, "
    .. "after: $after) { edges { node { " .. gdef.nested.resources.fields .. " } } " .. PAGE .. " } } }", { id = g.id })
  members = members + #g.users
  group_resources = group_resources + #g.resources
end

local rdef = tg.resources.def
local resources = all("query R($first: Int, $after: String) { resources(first: $first, after: $after) { edges { node { "
  .. rdef.fields .. " } } " .. PAGE .. " } }")
local edges = 0
local access_sel = require("twingate.collections").nested_selection(rdef.nested.access)
for _, r in ipairs(resources) do
  r.access = all("query RA($id: ID!, $first: Int, $after: String) { resource(id: $id) { access(first: $first, "
    .. "after: $after) { " .. access_sel .. " } } }", { id = r.id })
  edges = edges + #r.access
end

local udef = tg.users.def
local users = all("query U($first: Int, $after: String) { users(first: $first, after: $after) { edges { node { "
  .. udef.fields .. " } } " .. PAGE .. " } }")

print(string.format("naive: %d groups, %d memberships, %d group-resource links, %d resources, %d access edges, %d users",
  #groups, members, group_resources, #resources, edges, #users))
