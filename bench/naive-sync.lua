-- naive-sync.lua: the baseline for bench/sync-members.sh. It does the membership sync
-- the way hand-written scripts and the public CLIs do: one request per page of every
-- list (nested member lists read group by group), and one mutation per CSV row.
-- It exists only to be measured against scripts/sync-group-members.lua.
--   twingate-lua bench/naive-sync.lua MEMBERS.csv
local twingate = require "twingate"
local tg = twingate.connect()
local path = assert(arg[1], "usage: naive-sync.lua MEMBERS.csv")

local users = {}
for u in tg:each([[query U($after: String, $first: Int) {
  users(after: $after, first: $first) { pageInfo { hasNextPage endCursor } edges { node { id email } } } }]]) do
  if u.email then users[u.email:lower()] = u.id end
end

local groups = {}
for g in tg:each([[query G($after: String, $first: Int) {
  groups(after: $after, first: $first) { pageInfo { hasNextPage endCursor } edges { node { id name } } } }]]) do
  groups[g.name] = g.id
end

local members = {}   -- group id -> { user id = true }, read group by group
local function members_of(gid)
  if members[gid] then return members[gid] end
  local set = {}
  for u in tg:each([[query M($id: ID!, $after: String, $first: Int) {
    group(id: $id) { users(after: $after, first: $first) { pageInfo { hasNextPage endCursor } edges { node { id } } } } }]],
    { id = gid }) do
    set[u.id] = true
  end
  members[gid] = set
  return set
end

local added = 0
for row in twingate.csv.open(path, { header = true }):rows() do
  local gid, uid = groups[row.group], users[(row.email or ""):lower()]
  if gid and uid and not members_of(gid)[uid] then
    tg:mutate([[mutation A($id: ID!, $u: [ID]) { groupUpdate(id: $id, addedUserIds: $u) { ok error } }]],
      { id = gid, u = { uid } })
    members[gid][uid] = true
    added = added + 1
  end
end
print(string.format("naive sync: %d members added", added))
