--- tg.resources: every kind of Resource (network, Kubernetes, SSH, web app) and its access.
--
--   for r in tg.resources:each{ name = { startsWith = "db-" } } do print(r.__typename, r.id) end
--   local r = tg.resources:find("db")                  -- raises when several have that name
--   tg.resources:list(nil, { include = { "access" } }) -- every access edge of every resource
--   local r = tg.resources:create{ name = "db", address = "10.0.0.5", remoteNetworkId = rn.id,
--     protocols = "tcp:5432;icmp", tags = { env = "prod" }, alias = "db.corp" }
--   tg.resources:update(r.id, { alias = twingate.null, securityPolicyId = twingate.null })
--   tg.resources:create_ssh{ name = "bastion", address = "10.0.0.9", remoteNetworkId = rn.id,
--     gatewayId = gw.id, upstream = 22 }
--   tg.resources:access_add(r.id, { { principalId = g.id, expiresAt = os.time() + 86400 } })
--   for e in tg.resources:access(r.id) do print(e.principal.__typename, e.principal.name) end
--   tg.resources:delete(r.id)                          -- any kind (resourceDelete)
--
-- One method per mutation, so the arguments are checked against the right one:
-- `create`/`update` (network resources: resourceCreate/resourceUpdate),
-- `create_kubernetes`/`update_kubernetes`, `create_ssh`/`update_ssh`,
-- `create_web_app`/`update_web_app`. The API refuses `update` of a resource of
-- another kind as "does not exist" (`not_found`); `r.__typename` says which to use.
--
-- Inputs use the API's argument names, with these conveniences (every kind):
-- - `alias`: `twingate.null` removes it; "" or a blank one (only white space or
--   invisible characters, e.g. "\u{A0}"; see `twingate.text.is_blank`) is
--   refused here, before anything is sent (`invalid_argument`).
-- - `protocols`: a ProtocolsInput table or the compact string of
--   `twingate.protocols` ("tcp:22,443;udp:53;icmp", "all", "tcp:none"); validated.
-- - `tags` and `requestHeaderRewrites`: `{ { key =, value = } }` or the map form
--   `{ env = "prod" }` (sent sorted by key); `twingate.null` removes all.
-- - `securityPolicyId = twingate.null` resets to the default policy.
-- - `upstream`/`downstream`: `{ port = n }` or just `n`.
-- - In access edges, `expiresAt` may be a number (seconds since the epoch).
-- Omitted keys keep their current value.
local collections = require "twingate.collections"
local errors = require "twingate.errors"
local graphql = require "twingate.graphql"
local json = require "twingate.json"
local log = require "twingate.log"
local protocols = require "twingate.protocols"
local text = require "twingate.text"

local PAGE_INFO = "pageInfo { hasNextPage endCursor }"

-- Fields every kind has (the Resource interface).
local COMMON = "id name createdAt updatedAt address { type value } alias isActive isVisible "
  .. "isBrowserShortcutEnabled protocols { allowIcmp tcp { policy ports { start end } } "
  .. "udp { policy ports { start end } } } remoteNetwork { id name } securityPolicy { id name } "
  .. "tags { key value } approvalMode accessPolicy { mode durationSeconds }"

-- Fields of each concrete type.
local SPECIFIC = {
  NetworkResource = "routingMode",
  KubernetesResource = "gateway { id address } clusterRef upstream { port } downstream { port }",
  SSHResource = "gateway { id address } upstream { port } downstream { port }",
  WebAppResource = "gateway { id address } upstream { port } downstream { port } requestHeaderRewrites { key value }",
}
local TYPES = { "NetworkResource", "KubernetesResource", "SSHResource", "WebAppResource" }

--- The default selection on the Resource interface: common fields, `__typename`,
-- and the type-specific fields through inline fragments.
local DEFAULT_FIELDS = (function()
  local s = "__typename " .. COMMON
  for _, t in ipairs(TYPES) do s = s .. " ... on " .. t .. " { " .. SPECIFIC[t] .. " }" end
  return s
end)()

--- The selection of a concrete type (mutation payloads of create/update return
-- the concrete type, where fragments of other types are invalid).
local function type_fields(t)
  return "__typename " .. COMMON .. " " .. SPECIFIC[t]
end

local PRINCIPAL_FIELDS = "__typename ... on Group { id name } ... on ServiceAccount { id name }"

-- One access edge, read as a whole: the edge's own fields and its principal.
local function access_edge_selection(principal_fields)
  return "principal: node { " .. (principal_fields or PRINCIPAL_FIELDS) .. " } securityPolicy { id name } "
    .. "expiresAt approvalMode accessPolicy { mode durationSeconds }"
end

-- `edges` aliased as `nodes`, so the paginator takes each edge (not just its
-- node) as an item: `{ principal =, securityPolicy =, expiresAt =, ... }`.
local function access_selection(principal_fields)
  return "nodes: edges { " .. access_edge_selection(principal_fields) .. " } " .. PAGE_INFO
end

local SHARED_ARGS = {
  alias = "String", isVisible = "Boolean", securityPolicyId = "ID", tags = "[TagInput!]",
  approvalMode = "AccessApprovalMode", accessPolicy = "AccessPolicyInput",
}

local function args_of(base, extra)
  local t = {}
  for k, v in pairs(SHARED_ARGS) do t[k] = v end
  for k, v in pairs(base) do t[k] = v end
  for k, v in pairs(extra or {}) do t[k] = v end
  return t
end

local CREATE_REQUIRED = { name = "String!", address = "String!", remoteNetworkId = "ID!" }
local UPDATE_FIELDS = { name = "String", address = "String", remoteNetworkId = "ID" }

-- The mutations of each kind, with the schema's argument types.
local KINDS = {
  network = {
    type = "NetworkResource",
    create = { field = "resourceCreate", args = args_of(CREATE_REQUIRED, {
      groupIds = "[ID]", isBrowserShortcutEnabled = "Boolean", protocols = "ProtocolsInput",
      routingMode = "RoutingMode" }) },
    update = { field = "resourceUpdate", args = args_of(UPDATE_FIELDS, {
      isActive = "Boolean", isBrowserShortcutEnabled = "Boolean", protocols = "ProtocolsInput",
      groupIds = "[ID]", addedGroupIds = "[ID]", removedGroupIds = "[ID]", routingMode = "RoutingMode",
      approverGroupIds = "[ID!]", addedApproverGroupIds = "[ID!]", removedApproverGroupIds = "[ID!]" }) },
  },
  kubernetes = {
    type = "KubernetesResource",
    create = { field = "kubernetesResourceCreate", args = args_of(CREATE_REQUIRED, {
      gatewayId = "ID!", groupIds = "[ID]", protocols = "ProtocolsInput",
      upstream = "KubernetesUpstreamInput", downstream = "KubernetesDownstreamInput" }) },
    update = { field = "kubernetesResourceUpdate", args = args_of(UPDATE_FIELDS, {
      gatewayId = "ID", protocols = "ProtocolsInput",
      upstream = "KubernetesUpstreamInput", downstream = "KubernetesDownstreamInput" }) },
  },
  ssh = {
    type = "SSHResource",
    create = { field = "sshResourceCreate", args = args_of(CREATE_REQUIRED, {
      gatewayId = "ID!", groupIds = "[ID]", protocols = "ProtocolsInput",
      upstream = "SSHUpstreamInput", downstream = "SSHDownstreamInput" }) },
    update = { field = "sshResourceUpdate", args = args_of(UPDATE_FIELDS, {
      gatewayId = "ID", protocols = "ProtocolsInput",
      upstream = "SSHUpstreamInput", downstream = "SSHDownstreamInput" }) },
  },
  web_app = {
    type = "WebAppResource",
    create = { field = "webAppResourceCreate", args = args_of(CREATE_REQUIRED, {
      gatewayId = "ID!", groupIds = "[ID]", upstream = "WebAppUpstreamInput",
      downstream = "WebAppDownstreamInput", requestHeaderRewrites = "[KeyValueInputObject!]",
      approvalMode = false, accessPolicy = false }) },
    update = { field = "webAppResourceUpdate", args = args_of(UPDATE_FIELDS, {
      gatewayId = "ID", upstream = "WebAppUpstreamInput", downstream = "WebAppDownstreamInput",
      requestHeaderRewrites = "[KeyValueInputObject!]", approvalMode = false, accessPolicy = false }) },
  },
}
-- webAppResource* take no approvalMode/accessPolicy: drop the `false` markers
for _, k in pairs(KINDS) do
  for _, spec in ipairs{ k.create, k.update } do
    for a, t in pairs(spec.args) do if t == false then spec.args[a] = nil end end
  end
end
-- everything but create of a network resource is safe to resend (plain fields and set edits)
for _, k in pairs(KINDS) do k.update.idempotent = true end

local C = collections.define{
  name = "Resource", plural = "Resources",
  list_field = "resources", get_field = "resource", get_id_type = "ID!",
  filter_type = "ResourceFilterInput", find_field = "name",
  fields = DEFAULT_FIELDS,
  nested = {
    access = { fields = PRINCIPAL_FIELDS, make_selection = access_selection },
    groups = { fields = "id name" },
    serviceAccounts = { fields = "id name" },
    approverGroups = { fields = "id name" },
  },
  create = KINDS.network.create,
  update = KINDS.network.update,
  delete = { field = "resourceDelete" },
}

C.DEFAULT_FIELDS = DEFAULT_FIELDS
C.type_fields = type_fields

local Collection = collections.Collection

local function bad(fn, msg)
  errors.raise("invalid_argument", "resources:" .. fn .. "(): " .. msg, nil, 0)
end

local sorted_keys = collections.sorted_keys

local function check_opts(fn, opts)
  if opts ~= nil and type(opts) ~= "table" then bad(fn, "options must be a table") end
  return opts or {}
end

-- each/list/get/get_many/find and `include` are the generic ones of
-- collections.lua: the `access` nested definition's make_selection reads whole
-- edges there too (every page, follow-ups batched). Filter: ResourceFilterInput
-- (`name`, `tags`, `remoteNetworkId`); `include = { "access", "groups",
-- "serviceAccounts", "approverGroups" }`, `include = { access = "principal
-- selection" }` chooses the principal's fields.

--- Every access edge of a resource (groups and service accounts), every page.
-- @param id resource id
-- @param opts `{ fields = "selection of the principal" }`
-- @return iterator of `{ principal = { __typename, id, name }, securityPolicy = { id, name } | null,
--   expiresAt = ISO time | null, approvalMode = ..., accessPolicy = { mode, durationSeconds } | null }`
-- @raise `not_found` when the resource does not exist
function C:access(id, opts)
  return self:nested(id, "access", opts)
end

--- Every group with access to a resource (deprecated `groups` connection), every page.
function C:groups(id, opts) return self:nested(id, "groups", opts) end

--- Every service account with access to a resource, every page.
function C:service_accounts(id, opts) return self:nested(id, "serviceAccounts", opts) end

--- Every approver group of a resource, every page.
function C:approver_groups(id, opts) return self:nested(id, "approverGroups", opts) end

-- ---------------------------------------------------------------------------
-- Inputs
-- ---------------------------------------------------------------------------

-- `{ env = "prod" }` or `{ { key =, value = } }` -> array of { key, value } (sorted for the map form).
local function key_values(fn, name, v)
  if v == json.null then return v end
  if type(v) ~= "table" then bad(fn, name .. " must be a list of { key =, value = } or a { key = value } map") end
  local out = json.array()
  if #v > 0 or next(v) == nil then
    for k in pairs(v) do
      if math.type(k) ~= "integer" then bad(fn, name .. " mixes the list and map forms") end
    end
    for i, kv in ipairs(v) do
      if type(kv) ~= "table" or type(kv.key) ~= "string" or type(kv.value) ~= "string" then
        bad(fn, string.format("%s item #%d needs string key and value", name, i))
      end
      out[#out + 1] = { key = kv.key, value = kv.value }
    end
    return out
  end
  for _, k in ipairs(sorted_keys(v)) do
    local val = v[k]
    if type(k) ~= "string" or (type(val) ~= "string" and type(val) ~= "number" and type(val) ~= "boolean") then
      bad(fn, name .. ": map form needs string keys and string values (key " .. tostring(k) .. ")")
    end
    out[#out + 1] = { key = k, value = tostring(val) }
  end
  return out
end

local function port_input(fn, name, v)
  if math.type(v) == "integer" then return { port = v } end
  if v == json.null or (type(v) == "table" and math.type(v.port) == "integer") then return v end
  bad(fn, name .. " must be a port number or { port = n }")
end

-- Check and convert the conveniences of a create/update input (a copy is returned).
local function prepare(fn, input)
  if input == nil then return nil end
  if type(input) ~= "table" then bad(fn, "input must be a table") end
  local out = {}
  for k, v in pairs(input) do out[k] = v end
  local alias = out.alias
  if alias ~= nil and alias ~= json.null then
    if type(alias) ~= "string" then bad(fn, "alias must be a string (or twingate.null to remove it)") end
    if text.is_blank(alias) then
      bad(fn, "alias must not be empty; to remove the alias pass twingate.null")
    end
  end
  if out.protocols ~= nil and out.protocols ~= json.null then
    local ok, p = pcall(protocols.input, out.protocols)
    if not ok then
      local e = p
      bad(fn, "protocols: " .. (errors.is(e) and e.message:gsub("^protocols%.%w+%(%): ", "") or tostring(e)))
    end
    out.protocols = p
  end
  if out.tags ~= nil then out.tags = key_values(fn, "tags", out.tags) end
  if out.requestHeaderRewrites ~= nil then
    out.requestHeaderRewrites = key_values(fn, "requestHeaderRewrites", out.requestHeaderRewrites)
  end
  if out.upstream ~= nil then out.upstream = port_input(fn, "upstream", out.upstream) end
  if out.downstream ~= nil then out.downstream = port_input(fn, "downstream", out.downstream) end
  return out
end

-- A view of this collection whose definition uses another kind's mutations.
local views = setmetatable({}, { __mode = "k" })
local function view(self, kind)
  local k = KINDS[kind]
  views[self] = views[self] or {}
  local v = views[self][kind]
  if not v then
    local def = {}
    for key, val in pairs(self.def) do def[key] = val end
    def.name, def.plural = k.type, k.type .. "s"
    def.create, def.update = k.create, k.update
    def.fields = type_fields(k.type)
    v = setmetatable({ client = self.client, def = def }, getmetatable(self))
    views[self][kind] = v
  end
  return v
end

-- Ids of resources some verify has already taken as the result of a create of
-- this process: never handed to a second create.
local adopted = {}

-- Ids present before a create was sent, by the (prepared) input table of a
-- `create*` call (set there, read by verify).
local before = setmetatable({}, { __mode = "k" })

--- The ids of every resource (any kind, any network) named like one of
-- `inputs` (one read per 100 names, every page): what exists before a
-- create is sent, so that a check after a lost response never takes it for
-- the new one. Used by `create*` here and by `batch.op` (spec.snapshot).
-- @param coll the collection (or a view)
-- @param inputs array of create inputs (`name` read)
-- @return set of ids
local function snapshot(coll, inputs)
  local names, seen, ids = {}, {}, {}
  for _, input in ipairs(inputs) do
    local n = type(input) == "table" and input.name
    if type(n) == "string" and not seen[n] then seen[n] = true; names[#names + 1] = n end
  end
  for a = 1, #names, 100 do
    local chunk = json.array()
    for b = a, math.min(a + 99, #names) do chunk[#chunk + 1] = names[b] end
    for n in C.new(coll.client):each({ name = { ["in"] = chunk } }, { fields = "id" }) do ids[n.id] = true end
  end
  return ids
end

-- Whether node n is what `input` asked a create of `kind` for: every
-- identifying input the create sent (kind, name, address, remote network,
-- alias when given) matches.
local function same_resource(kind, input, n)
  if n.name ~= input.name or n.__typename ~= KINDS[kind].type then return false end
  if type(n.address) ~= "table" or n.address.value ~= input.address then return false end
  if type(n.remoteNetwork) ~= "table" or n.remoteNetwork.id ~= input.remoteNetworkId then return false end
  if type(input.alias) == "string" and n.alias ~= input.alias then return false end
  return true
end

-- After a create whose response was lost: the resource that request made, if
-- it is there. Only a resource of that kind with the same name, address,
-- remote network (and alias when one was sent) counts, and never one that
-- existed before the request was sent (`ctx.existing` from `batch.op`, or the
-- snapshot `create*` took), one created before `started` (CLOCK_SKEW
-- tolerance), or one another create of this process already took. A resumed
-- journal has no snapshot: then only the identity, the creation time and
-- the ids taken in this process decide.
local function verify(kind)
  return function(coll, input, started, _, ctx)
    local existing = (type(ctx) == "table" and ctx.existing) or before[input] or {}
    local all = C.new(coll.client):list({ name = { eq = input.name } })
    local best
    for _, n in ipairs(all) do
      local t = collections.parse_time(n.createdAt)
      if same_resource(kind, input, n) and not existing[n.id] and not adopted[n.id]
        and (t == nil or t >= started - collections.CLOCK_SKEW) then
        if not best or (n.createdAt or "") > (best.createdAt or "") then best = n end
      end
    end
    if best then
      adopted[best.id] = true
      log.info("found the resource created by the failed request", { id = best.id })
    end
    return best
  end
end
for kind, k in pairs(KINDS) do
  k.create.verify = verify(kind)
  k.create.snapshot = snapshot
end

local function create_as(self, kind, fn, input, opts)
  if input == nil or type(input) ~= "table" then bad(fn, "expects an input table") end
  local v = kind == "network" and self or view(self, kind)
  opts = check_opts(fn, opts)
  local o = { fields = opts.fields or type_fields(KINDS[kind].type) }
  local p = prepare(fn, input)
  -- what exists before the create is sent: never taken for it after a lost response
  if not self.client.dry_run then before[p] = snapshot(v, { p }) end
  local r = Collection.create(v, p, o)
  if type(r) == "table" and type(r.id) == "string" then adopted[r.id] = true end
  return r
end

local function update_as(self, kind, fn, id, input, opts)
  local v = kind == "network" and self or view(self, kind)
  opts = check_opts(fn, opts)
  local o = { fields = opts.fields or type_fields(KINDS[kind].type) }
  return Collection.update(v, id, prepare(fn, input), o)
end

--- Create a network resource (resourceCreate).
-- @param input `{ name =, address =, remoteNetworkId =, alias =, protocols =, isVisible =,
--   isBrowserShortcutEnabled =, securityPolicyId =, tags =, approvalMode =, accessPolicy =,
--   groupIds =, routingMode = }` (see the module comment for the conveniences)
-- @param opts `{ fields = "selection on NetworkResource" }`
-- Reads the resources of that name once before sending: after a lost
-- response only a resource of this kind with the same name, address, remote
-- network (and alias when given) that was not there before counts as the
-- created one; otherwise the create is sent again (the same holds for every
-- `create_*` and for `batch.op(tg.resources, "create", ...)`).
-- @return the created resource (a placeholder with --dry-run)
-- @raise `invalid_argument` for a bad input (nothing sent), `mutation` when the API refuses it
function C:create(input, opts) return create_as(self, "network", "create", input, opts) end

--- Update a network resource (resourceUpdate). Omitted keys keep their value;
-- `twingate.null` clears alias/securityPolicyId/tags. Also takes `groupIds`
-- (replace), `addedGroupIds`/`removedGroupIds` (set edits), `isActive`, `routingMode`,
-- `approverGroupIds`/`addedApproverGroupIds`/`removedApproverGroupIds`.
-- @raise `not_found` when there is no network resource with that id
function C:update(id, input, opts) return update_as(self, "network", "update", id, input, opts) end

--- Create a Kubernetes resource (kubernetesResourceCreate; needs `gatewayId`).
function C:create_kubernetes(input, opts) return create_as(self, "kubernetes", "create_kubernetes", input, opts) end
--- Update a Kubernetes resource (kubernetesResourceUpdate).
function C:update_kubernetes(id, input, opts)
  return update_as(self, "kubernetes", "update_kubernetes", id, input, opts)
end
--- Create an SSH resource (sshResourceCreate; needs `gatewayId`).
function C:create_ssh(input, opts) return create_as(self, "ssh", "create_ssh", input, opts) end
--- Update an SSH resource (sshResourceUpdate).
function C:update_ssh(id, input, opts) return update_as(self, "ssh", "update_ssh", id, input, opts) end
--- Create a web app resource (webAppResourceCreate; needs `gatewayId`; no protocols).
function C:create_web_app(input, opts) return create_as(self, "web_app", "create_web_app", input, opts) end
--- Update a web app resource (webAppResourceUpdate).
function C:update_web_app(id, input, opts) return update_as(self, "web_app", "update_web_app", id, input, opts) end

-- delete: Collection.delete (resourceDelete, for every kind; a resend that finds
-- the resource gone counts as done).

-- ---------------------------------------------------------------------------
-- Access
-- ---------------------------------------------------------------------------

local EDGE_KEYS = { principalId = true, securityPolicyId = true, expiresAt = true, approvalMode = true,
  accessPolicy = true, usageBasedAutolockDurationDays = true }

local function iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t))
end

-- A proper list (keys 1..n) or invalid_argument: a set, a map or a list with
-- holes is refused before anything is sent (ipairs would silently cut it).
local function list_arg(fn, v, what)
  if type(v) == "table" and v.principalId ~= nil then
    bad(fn, "expects a list of " .. what .. "; wrap a single edge in a list: { { principalId = ... } }")
  end
  local ok, res = pcall(graphql.list_value, v, what)
  if not ok then bad(fn, errors.is(res) and res.message or tostring(res)) end
  return res
end

local function edges_input(fn, edges)
  edges = list_arg(fn, edges, "access edges")
  local out = json.array()
  for i, e in ipairs(edges) do
    if type(e) == "string" then e = { principalId = e } end
    if type(e) ~= "table" then bad(fn, "edge #" .. i .. " must be a table or a principal id") end
    local x = {}
    for k, v in pairs(e) do
      if not EDGE_KEYS[k] then
        bad(fn, "edge #" .. i .. ": unknown field '" .. tostring(k) .. "' (valid: "
          .. table.concat(sorted_keys(EDGE_KEYS), ", ") .. ")")
      end
      x[k] = v
    end
    if type(x.principalId) ~= "string" or x.principalId == "" then
      bad(fn, "edge #" .. i .. " needs principalId (a group or service account id)")
    end
    if type(x.expiresAt) == "number" then x.expiresAt = iso(x.expiresAt) end
    out[#out + 1] = x
  end
  return out
end

local function access_mutation(self, fn, field, id, arg, argtype, value)
  if type(id) ~= "string" or id == "" then bad(fn, "expects a resource id string") end
  local op = field:sub(1, 1):upper() .. field:sub(2)
  local doc = "mutation " .. op .. "($resourceId: ID!, $" .. arg .. ": " .. argtype .. ") { " .. field
    .. "(resourceId: $resourceId, " .. arg .. ": $" .. arg .. ") { ok error entity { " .. DEFAULT_FIELDS .. " } } }"
  local data = self:_mutate(fn, doc, { resourceId = id, [arg] = value }, { idempotent = true })
  local p = data[field]
  if p.dry_run then return { id = id, dry_run = true } end
  return p.entity
end

--- Add access edges, or update existing ones (resourceAccessAdd). In each edge
-- an omitted field keeps the current value and `twingate.null` clears it. Safe
-- to resend after a lost response.
-- @param id resource id
-- @param edges array (keys 1..n) of `{ principalId =, securityPolicyId =, expiresAt = (ISO string or
--   epoch seconds), approvalMode =, accessPolicy = { mode =, durationSeconds = } }` or principal ids;
--   a single edge not wrapped in a list, a set or a list with holes raises `invalid_argument`
-- @return the resource (nil when `edges` is empty: nothing is sent)
-- @raise `not_found` when the resource or a principal does not exist
function C:access_add(id, edges)
  local a = edges_input("access_add", edges)
  if #a == 0 then return nil end
  return access_mutation(self, "access_add", "resourceAccessAdd", id, "access", "[AccessInput!]!", a)
end

--- Replace every access edge of a resource with exactly these (resourceAccessSet).
-- An empty list removes all access. Safe to resend: the result is the same set.
-- @param id resource id
-- @param edges as for `access_add`
-- @return the resource
function C:access_set(id, edges)
  local a = edges_input("access_set", edges)
  return access_mutation(self, "access_set", "resourceAccessSet", id, "access", "[AccessInput!]!", a)
end

--- Remove the access of these principals (resourceAccessRemove). Safe to resend.
-- @param id resource id
-- @param principal_ids array (keys 1..n) of group / service account ids; a set
--   (`{ [id] = true }`) or a list with holes raises `invalid_argument`
-- @return the resource (nil when the list is empty: nothing is sent)
function C:access_remove(id, principal_ids)
  principal_ids = list_arg("access_remove", principal_ids, "principal ids")
  local ids = json.array()
  for i, p in ipairs(principal_ids) do
    if type(p) ~= "string" or p == "" then bad("access_remove", "principal id #" .. i .. " is not an id string") end
    ids[i] = p
  end
  if #ids == 0 then return nil end
  return access_mutation(self, "access_remove", "resourceAccessRemove", id, "principalIds", "[ID!]!", ids)
end

return C
