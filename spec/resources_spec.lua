local twingate = require "twingate"
local graphql = require "twingate.graphql"
local json = require "twingate.json"
local log = require "twingate.log"

local function connect(respond, opts)
  local t = { requests = {} }
  function t:request(req)
    local body = json.decode(req.body)
    local n = #self.requests + 1
    self.requests[n] = { raw = req.body, query = body.query, variables = body.variables or {},
      info = graphql.inspect(body.query) }
    local r = respond(body, n, self.requests[n].info)
    return { status = r.status or 200, headers = { ["content-type"] = "application/json" },
      body = r.body or json.encode({ data = r.data, errors = r.errors }) }
  end
  local o = { endpoint = "http://127.0.0.1:9/api/graphql/", api_token = "tok-xyz-123", transport = t,
    sleep = function() end, random = function() return 0 end }
  for k, v in pairs(opts or {}) do o[k] = v end
  return twingate.connect(o), t
end

describe("twingate.resources", function()
  before_each(function() log.configure{ level = "error" } end)
  after_each(function() log.configure{ level = "info" } end)

  describe("create()", function()
    it("sends resourceCreate with parsed protocols, sorted map tags and a concrete-type selection", function()
      local tg, t = connect(function() return { data = { resourceCreate = { ok = true, entity = { id = "R1" } } } } end)
      tg.resources:create{ name = "db", address = "10.0.0.5", remoteNetworkId = "N1", protocols = "tcp:5432,22;icmp",
        tags = { team = "ops", env = "prod" } }
      local r = t.requests[1]
      assert.equals("resourceCreate", r.info.fields[1].name)
      assert.same({ allowIcmp = true, tcp = { policy = "RESTRICTED", ports = { { start = 22, ["end"] = 22 },
        { start = 5432, ["end"] = 5432 } } }, udp = { policy = "RESTRICTED", ports = {} } }, r.variables.protocols)
      assert.same({ { key = "env", value = "prod" }, { key = "team", value = "ops" } }, r.variables.tags)
      assert.equals("ProtocolsInput", r.info.variables.protocols)
      assert.matches("routingMode", r.query, nil, true)
      assert.is_nil(r.query:find("... on", 1, true))
    end)

    it("refuses an empty alias and bad protocols without sending anything", function()
      local tg, t = connect(function() error("nothing may be sent") end)
      for _, input in ipairs{ { alias = "" }, { alias = " " }, { protocols = "tcp:99999" }, { tags = { 1, 2 } } } do
        input.name, input.address, input.remoteNetworkId = "x", "y", "N1"
        local ok, err = pcall(tg.resources.create, tg.resources, input)
        assert.is_false(ok)
        assert.equals("invalid_argument", err.kind)
      end
      assert.equals(0, #t.requests)
    end)

    it("sends twingate.null for a cleared alias and omits what is not given", function()
      local tg, t = connect(function() return { data = { resourceUpdate = { ok = true, entity = { id = "R1" } } } } end)
      tg.resources:update("R1", { alias = twingate.null })
      assert.matches('"alias":null', t.requests[1].raw, nil, true)
      assert.is_nil(t.requests[1].variables.name)
      assert.is_nil(t.requests[1].variables.tags)
      assert.is_nil(t.requests[1].info.variables.tags)
    end)
  end)

  describe("create_ssh()", function()
    it("uses sshResourceCreate and takes a bare port for upstream", function()
      local tg, t = connect(function() return { data = { sshResourceCreate = { ok = true, entity = { id = "R2" } } } } end)
      tg.resources:create_ssh{ name = "b", address = "h", remoteNetworkId = "N1", gatewayId = "GW1", upstream = 22 }
      assert.equals("sshResourceCreate", t.requests[1].info.fields[1].name)
      assert.same({ port = 22 }, t.requests[1].variables.upstream)
      local ok, err = pcall(tg.resources.create_ssh, tg.resources, { name = "b", address = "h", remoteNetworkId = "N1" })
      assert.is_false(ok)
      assert.matches("'gatewayId' is required", err.message, nil, true)
    end)
  end)

  describe("each()", function()
    it("selects type-specific fields through fragments and whole access edges for include", function()
      local tg, t = connect(function()
        return { data = { resources = { edges = { { node = { id = "R1", access = { nodes = {
          { principal = { __typename = "Group", id = "G1", name = "a" }, expiresAt = "2031-01-01T00:00:00Z" } },
          pageInfo = { hasNextPage = false } } } } }, pageInfo = { hasNextPage = false } } } }
      end)
      local list = tg.resources:list(nil, { include = { "access" } })
      local q = t.requests[1].query
      assert.matches("... on KubernetesResource {", q, nil, true)
      assert.matches("access: access(first: $first) { nodes: edges { principal: node {", q, nil, true)
      assert.equals("G1", list[1].access[1].principal.id)
      assert.equals("2031-01-01T00:00:00Z", list[1].access[1].expiresAt)
    end)
  end)

  describe("access_add()", function()
    it("sends resourceAccessAdd with epoch expiry as ISO and resends after a lost response", function()
      local tg, t = connect(function(_, n)
        if n == 1 then return { status = 502, body = "" } end
        return { data = { resourceAccessAdd = { ok = true, entity = { id = "R1" } } } }
      end)
      tg.resources:access_add("R1", { { principalId = "G1", expiresAt = 1924992000, securityPolicyId = twingate.null }, "SA1" })
      assert.equals(2, #t.requests)
      assert.equals(t.requests[1].raw, t.requests[2].raw)
      local v = t.requests[2].variables
      assert.equals("R1", v.resourceId)
      assert.equals("2031-01-01T00:00:00Z", v.access[1].expiresAt)
      assert.matches('"securityPolicyId":null', t.requests[2].raw, nil, true)
      assert.same({ principalId = "SA1" }, v.access[2])
      assert.equals("[AccessInput!]!", t.requests[2].info.variables.access)
    end)

    it("refuses an edge without principalId or with an unknown field", function()
      local tg = connect(function() error("nothing may be sent") end)
      local ok, err = pcall(tg.resources.access_add, tg.resources, "R1", { { securityPolicyId = "P" } })
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      ok, err = pcall(tg.resources.access_add, tg.resources, "R1", { { principalId = "G", expires = 1 } })
      assert.matches("unknown field 'expires'", err.message, nil, true)
    end)
  end)

  describe("access_set()", function()
    it("sends an empty list to remove all access", function()
      local tg, t = connect(function() return { data = { resourceAccessSet = { ok = true, entity = { id = "R1" } } } } end)
      tg.resources:access_set("R1", {})
      assert.matches('"access":[]', t.requests[1].raw, nil, true)
    end)
  end)
end)
