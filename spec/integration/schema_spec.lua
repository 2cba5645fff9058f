-- Every document the module can send validates against the schema. #integration
--
-- The real module runs against a recording fake transport that answers every
-- request with minimal valid JSON (one node per list, nested connections with
-- a next page so the batched completions are built too). Each recorded
-- document goes to a temp folder as one .graphql file, then
-- `node spec/sim/validate.mjs spec/sim/schema.graphql DIR` checks them all.
-- Collections are enumerated from `twingate.kinds` and their definition
-- tables, so a new kind is covered without touching this file; special
-- operations are listed below (and a kind module may add its own in
-- `C.schema_examples = { name = function(coll) ... end }`).
local twingate = require "twingate"
local graphql = require "twingate.graphql"
local json = require "twingate.json"
local log = require "twingate.log"

local ID = "WDox" -- any id

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t or {}) do ks[#ks + 1] = k end
  table.sort(ks)
  return ks
end

-- Definitions of every kind whose module exists.
local function definitions()
  local defs, missing = {}, {}
  for _, name in ipairs(sorted_keys(twingate.kinds)) do
    local ok, mod = pcall(require, twingate.kinds[name])
    if ok and type(mod) == "table" and mod.definition then
      defs[name] = mod.definition
    else
      missing[#missing + 1] = name
    end
  end
  return defs, missing
end

local function fake_transport(defs)
  local list_fields, plain_fields, nested_keys = {}, {}, {}
  for _, def in pairs(defs) do
    if def.plain_list then plain_fields[def.list_field] = true else list_fields[def.list_field] = true end
    for k in pairs(def.nested or {}) do nested_keys[k] = true end
  end
  local function conn(nodes, more)
    local edges = {}
    for i, n in ipairs(nodes) do edges[i] = { cursor = "c" .. i, node = n } end
    return { edges = edges, pageInfo = { hasNextPage = more, endCursor = more and "c-next" or json.null },
      totalCount = #nodes }
  end
  local function node(more)
    local n = { id = ID, __typename = "X509CertificateAuthority", name = "n", email = "e@x.io",
      serialNumber = "S1", address = "a", url = "u", matchedDevices = json.array() }
    for k in pairs(nested_keys) do n[k] = conn({}, more) end
    return n
  end
  local t = { documents = {} }
  function t:request(req)
    local body = json.decode(req.body)
    self.documents[#self.documents + 1] = body.query
    local info = graphql.inspect(body.query)
    local first_page = body.variables == nil or body.variables.after == nil
    local data = {}
    for _, f in ipairs(info.fields) do
      if info.type == "mutation" then
        data[f.key] = { ok = true, entity = node(false), entities = { node(false) },
          connectorTokens = { accessToken = "access-secret-1", refreshToken = "refresh-secret-1" },
          token = "key-secret-1" }
      elseif plain_fields[f.name] then
        data[f.key] = { node(false) }
      elseif list_fields[f.name] and f.alias == nil then
        data[f.key] = conn({ node(true) }, false)
      elseif f.name == "eventsSyncOidcProviderUrl" then
        data[f.key] = "https://oidc.example"
      else
        data[f.key] = node(f.alias == nil and first_page)
      end
    end
    return { status = 200, headers = { ["content-type"] = "application/json" }, body = json.encode({ data = data }) }
  end
  return t
end

-- A value of GraphQL type `t` (values are not validated, declarations are).
local function sample(t)
  if t:sub(1, 1) == "[" then return json.array{ "x" } end
  local base = t:gsub("!$", "")
  if base == "Int" or base == "Float" then return 1 end
  if base == "Boolean" then return true end
  return "x"
end

local function all_args(spec, required_only)
  local input = {}
  for k, t in pairs(spec.args or {}) do
    if not required_only or t:sub(-1) == "!" then input[k] = sample(t) end
  end
  return input
end

-- Call fn(input) with every argument; when the module refuses our sample values
-- client-side (e.g. a protocols parser), with the required ones only.
local function with_args(spec, fn)
  local ok, err = pcall(fn, all_args(spec))
  if ok then return end
  if type(err) == "table" and err.kind == "invalid_argument" then return fn(all_args(spec, true)) end
  error(err, 0)
end

-- The operations of one collection, generically from its definition.
local function generic_ops(name, def)
  local ops = {}
  local function add(label, fn) ops[#ops + 1] = { label = name .. ":" .. label, fn = fn } end
  local includes = sorted_keys(def.nested)
  local custom = def.union and "__typename" or "id __typename"
  add("list", function(c) c:list() end)
  add("list(fields)", function(c) c:list(nil, { fields = custom }) end)
  if #includes > 0 then
    add("list(include)", function(c) c:list(nil, { include = includes }) end)
    add("list(fields, include)", function(c) c:list(nil, { fields = custom, include = { includes[1] } }) end)
  end
  if def.filter_type then
    add("list(filter)", function(c) c:list({}) end)
  end
  if def.get_field then
    add("get", function(c) c:get(ID) end)
    add("get(fields)", function(c) c:get(ID, { fields = custom }) end)
    add("get_many", function(c) c:get_many({ ID, "WDoy", "WDoz" }, { batch_size = 2 }) end)
    if #includes > 0 then
      add("get(include)", function(c) c:get(ID, { include = includes }) end)
      add("get_many(include)", function(c) c:get_many({ ID, "WDoy" }, { include = includes }) end)
    end
  end
  for _, k in ipairs(includes) do
    if def.get_field then add("nested " .. k, function(c) for _ in c:nested(ID, k) do end end) end
  end
  if def.find_field ~= false then
    add("find", function(c) pcall(c.find, c, "n") end)
  end
  if def.create then
    add("create", function(c) with_args(def.create, function(i) c:create(i) end) end)
    add("create(fields)", function(c) with_args(def.create, function(i) c:create(i, { fields = custom }) end) end)
  end
  if def.update then
    add("update", function(c) with_args(def.update, function(i) c:update(ID, i) end) end)
  end
  if def.delete then
    add("delete", function(c) c:delete(ID) end)
  end
  return ops
end

-- Special operations: called when the kind's module has the method.
local SPECIAL = {
  connectors = {
    generate_tokens = function(c) c:generate_tokens(ID) end,
  },
  users = {
    set_role = function(c) c:set_role(ID, "ADMIN") end,
    set_state = function(c) c:set_state(ID, "DISABLED") end,
    reset_mfa = function(c) c:reset_mfa(ID) end,
  },
  groups = {
    add_users = function(c) c:add_users(ID, { "WDoy" }) end,
    remove_users = function(c) c:remove_users(ID, { "WDoy" }) end,
    users = function(c) for _ in c:users(ID) do end end,
  },
  devices = {
    trust = function(c) c:trust(ID) end,
    untrust = function(c) c:untrust(ID) end,
    block = function(c) c:block(ID) end,
    unblock = function(c) c:unblock(ID) end,
    archive = function(c) c:archive(ID) end,
    unarchive = function(c) c:unarchive(ID) end,
  },
  serial_numbers = {
    create = function(c) c:create{ "S1", "S2" } end,
    delete = function(c) c:delete{ "S1" } end,
  },
  access_requests = {
    approve = function(c) c:approve(ID) end,
    reject = function(c) c:reject(ID) end,
  },
  certificate_authorities = {
    create_x509 = function(c) c:create_x509{ name = "ca", certificate = "PEM" } end,
    create_ssh = function(c) c:create_ssh{ name = "ca", publicKey = "ssh-ed25519 AAAA" } end,
    delete = function(c) c:delete(ID) end,
    delete_ssh = function(c) c:delete(ID, "SSHCertificateAuthority") end,
  },
  -- the resources engineer's kinds: covered when the methods exist
  resources = {
    access = function(c) for _ in c:access(ID) do end end,
    access_add_full = function(c)
      c:access_add(ID, { { principalId = "WDoy", securityPolicyId = "WDoz", expiresAt = 1700000000,
        approvalMode = "MANUAL", accessPolicy = { mode = "AUTO_LOCK", durationSeconds = 3600 } } })
    end,
    groups = function(c) for _ in c:groups(ID) do end end,
    service_accounts = function(c) for _ in c:service_accounts(ID) do end end,
    approver_groups = function(c) for _ in c:approver_groups(ID) do end end,
    create_kubernetes = function(c)
      c:create_kubernetes{ name = "k", address = "k8s.local", remoteNetworkId = ID, gatewayId = "WDoy" }
    end,
    update_kubernetes = function(c) c:update_kubernetes(ID, { name = "k2", alias = twingate.null }) end,
    create_ssh = function(c) c:create_ssh{ name = "s", address = "ssh.local", remoteNetworkId = ID, gatewayId = "WDoy" } end,
    update_ssh = function(c) c:update_ssh(ID, { name = "s2" }) end,
    create_web_app = function(c)
      c:create_web_app{ name = "w", address = "app.local", remoteNetworkId = ID, gatewayId = "WDoy" }
    end,
    update_web_app = function(c) c:update_web_app(ID, { name = "w2" }) end,
    access_add = function(c) c:access_add(ID, { { principalId = "WDoy" } }) end,
    access_set = function(c) c:access_set(ID, { { principalId = "WDoy" } }) end,
    access_remove = function(c) c:access_remove(ID, { "WDoy" }) end,
  },
  service_accounts = {
    keys = function(c) for _ in c:keys(ID) do end end,
    resources = function(c) for _ in c:resources(ID) do end end,
  },
  service_account_keys = {
    revoke = function(c) c:revoke(ID) end,
  },
  security_policies = {
    groups = function(c) for _ in c:groups(ID) do end end,
  },
}

local function tmpdir()
  local p = io.popen("mktemp -d")
  local d = p:read("l")
  p:close()
  return d
end

describe("#integration every document the module builds", function()
  local defs, missing = definitions()
  local transport = fake_transport(defs)
  twingate.configure{ dry_run = false } -- no pacing: nothing reaches a server
  local tg = twingate.connect{ endpoint = "http://127.0.0.1:9/api/graphql/", api_token = "schema-spec-token",
    transport = transport, sleep = function() end, random = function() return 0 end, page_size = 100 }
  local dir = tmpdir()
  local labels = {}

  setup(function() log.configure{ level = "error" } end)
  teardown(function()
    twingate.configure(nil)
    log.configure{ level = "info" }
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("builds every collection operation, special operation and client call", function()
    local failures, refused, absent = {}, {}, {}
    local function run(label, fn, coll)
      local before = #transport.documents
      local ok, err = pcall(fn, coll)
      if not ok then
        -- refused client-side before sending: nothing to validate (listed below)
        if type(err) == "table" and err.kind == "invalid_argument" and #transport.documents == before then
          refused[#refused + 1] = label .. ": " .. tostring(err.message)
        else
          failures[#failures + 1] = label .. ": " .. tostring(err)
        end
      end
      for i = before + 1, #transport.documents do labels[i] = label end
    end
    for _, name in ipairs(sorted_keys(defs)) do
      local coll = tg[name]
      for _, op in ipairs(generic_ops(name, defs[name])) do run(op.label, op.fn, coll) end
      for _, m in ipairs(sorted_keys(SPECIAL[name])) do
        local method = ({ delete_ssh = "delete", access_add_full = "access_add" })[m] or m
        if type(coll[method]) == "function" then
          run(name .. ":" .. m, SPECIAL[name][m], coll)
        else
          absent[#absent + 1] = name .. ":" .. method
        end
      end
      local mod = require(twingate.kinds[name])
      for _, m in ipairs(sorted_keys(rawget(mod, "schema_examples"))) do
        run(name .. ":" .. m, mod.schema_examples[m], coll)
      end
    end
    run("client:events_sync_oidc_provider_url", function() tg:events_sync_oidc_provider_url() end)
    assert.same({}, failures)
    assert.is_true(#transport.documents > 100, "only " .. #transport.documents .. " documents")
    if #refused > 0 then print("refused by the module (not sent):\n  " .. table.concat(refused, "\n  ")) end
    if #absent > 0 then print("special operations listed here but not in the module: " .. table.concat(absent, ", ")) end
    if #missing > 0 then print("kinds without a module yet: " .. table.concat(missing, ", ")) end
  end)

  it("sends no document that fails schema validation", function()
    assert.is_true(#transport.documents > 0)
    local seen = {}
    for i, doc in ipairs(transport.documents) do
      local f = assert(io.open(string.format("%s/%04d.graphql", dir, i), "wb"))
      f:write("# " .. (labels[i] or "?") .. "\n" .. doc .. "\n")
      f:close()
      seen[doc] = true
    end
    local p = io.popen("GRAPHQL_MODULE_DIR=spec/sim node spec/sim/validate.mjs spec/sim/schema.graphql '"
      .. dir .. "' 2>&1")
    local out = p:read("a")
    local _, _, rc = p:close()
    local unique = 0
    for _ in pairs(seen) do unique = unique + 1 end
    print(string.format("validated %d documents (%d distinct)", #transport.documents, unique))
    assert.equals(0, rc, out)
  end)

  it("has a validator that rejects a wrong document (the check can fail)", function()
    local bad = tmpdir()
    local f = assert(io.open(bad .. "/bad.graphql", "wb"))
    f:write("query Bad { groups { edges { node { id routingMode } } } }\n")
    f:close()
    local p = io.popen("GRAPHQL_MODULE_DIR=spec/sim node spec/sim/validate.mjs spec/sim/schema.graphql '"
      .. bad .. "' 2>&1")
    local out = p:read("a")
    local _, _, rc = p:close()
    os.execute("rm -rf '" .. bad .. "'")
    assert.equals(1, rc)
    assert.matches("routingMode", out)
  end)
end)
