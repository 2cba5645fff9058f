-- import-naive.lua: the baseline for bench/import-resources.sh. It imports a
-- resources CSV the way hand-written scripts do: reads the lists, then sends one
-- mutation per row (resourceCreate, or resourceUpdate with every field for a row
-- that exists), with no diff and no batching. Only for measuring.
--   twingate-lua bench/import-naive.lua RESOURCES.csv
local twingate = require "twingate"
local protocols = require "twingate.protocols"
local tg = twingate.connect()
local path = assert(arg[1], "usage: import-naive.lua RESOURCES.csv")

local function ids(doc)
  local t = {}
  for n in tg:each(doc) do t[n.name] = n.id end
  return t
end
local nets = ids([[query N($after: String, $first: Int) { remoteNetworks(after: $after, first: $first) {
  pageInfo { hasNextPage endCursor } edges { node { id name } } } }]])
local groups = ids([[query G($after: String, $first: Int) { groups(after: $after, first: $first) {
  pageInfo { hasNextPage endCursor } edges { node { id name } } } }]])
local policies = ids([[query P($after: String, $first: Int) { securityPolicies(after: $after, first: $first) {
  pageInfo { hasNextPage endCursor } edges { node { id name } } } }]])
local existing = {}
for r in tg:each([[query R($after: String, $first: Int) { resources(after: $after, first: $first) {
  pageInfo { hasNextPage endCursor } edges { node { id name remoteNetwork { id } } } } }]]) do
  existing[r.remoteNetwork.id .. "\0" .. r.name] = r.id
end

local CREATE = [[mutation C($name: String!, $address: String!, $net: ID!, $p: ProtocolsInput, $g: [ID],
  $sp: ID, $tags: [TagInput!]) { resourceCreate(name: $name, address: $address, remoteNetworkId: $net,
  protocols: $p, groupIds: $g, securityPolicyId: $sp, tags: $tags) { ok error } }]]
local UPDATE = [[mutation U($id: ID!, $address: String, $p: ProtocolsInput, $g: [ID], $sp: ID,
  $tags: [TagInput!]) { resourceUpdate(id: $id, address: $address, protocols: $p, groupIds: $g,
  securityPolicyId: $sp, tags: $tags) { ok error } }]]

local n = 0
for row in twingate.csv.open(path, { header = true }):rows() do
  local g = {}
  for name in ((row.groups or "") .. ";"):gsub("\\;", "\1"):gmatch("([^;]*);") do
    if name ~= "" then g[#g + 1] = groups[(name:gsub("\1", ";"))] end
  end
  local tags = {}
  for k, v in (row.tags or ""):gmatch("([^;=]+)=([^;]*)") do tags[#tags + 1] = { key = k, value = v } end
  local vars = { address = row.address, p = protocols.parse(row.protocols), g = g,
    sp = policies[row.security_policy] or twingate.null, tags = tags }
  local net = nets[row.network]
  local id = existing[net .. "\0" .. row.name]
  if id then
    vars.id = id
    tg:mutate(UPDATE, vars)
  else
    vars.name, vars.net = row.name, net
    if vars.sp == twingate.null then vars.sp = nil end
    tg:mutate(CREATE, vars)
  end
  n = n + 1
end
io.stdout:write(n, " rows sent\n")
