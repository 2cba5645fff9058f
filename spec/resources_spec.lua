local twingate = require "twingate"
local json = require "twingate.json"
local log = require "twingate.log"
local fake = require "spec.support.fake"

local connect = fake.connect

-- Answers the read a create makes first (what exists under that name) with
-- `nodes`, and mutations with `respond`.
local function with_read(respond, nodes)
  return function(body, n, info)
    if info.type == "query" then
      return { data = { resources = fake.conn(nodes or {}) } }
    end
    return respond(body, n, info)
  end
end

-- The mutation requests a transport saw.
local function mutations(t)
  local out = {}
  for _, r in ipairs(t.requests) do if r.info.type == "mutation" then out[#out + 1] = r end end
  return out
end

describe("twingate.resources", function()
  before_each(function() log.configure{ level = "error" } end)
  after_each(function() log.configure{ level = "info" } end)

  describe("create()", function()
    it("sends resourceCreate with parsed protocols, sorted map tags and a concrete-type selection", function()
      local tg, t = connect(with_read(function()
        return { data = { resourceCreate = { ok = true, entity = { id = "R1" } } } }
      end))
      tg.resources:create{ name = "db", address = "10.0.0.5", remoteNetworkId = "N1", protocols = "tcp:5432,22;icmp",
        tags = { team = "ops", env = "prod" } }
      local r = mutations(t)[1]
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
      for _, input in ipairs{ { alias = "" }, { alias = " " }, { alias = "\u{A0}" }, { alias = "\u{3000}\u{200B}" },
        { protocols = "tcp:99999" }, { tags = { 1, 2 } } } do
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

  describe("create() after a lost response", function()
    local function node(id, network, extra)
      local n = { __typename = "NetworkResource", id = id, name = "db", address = { type = "IP", value = "10.0.0.5" },
        remoteNetwork = { id = network }, createdAt = os.date("!%Y-%m-%dT%H:%M:%SZ"), alias = json.null }
      for k, v in pairs(extra or {}) do n[k] = v end
      return n
    end

    -- The create's response is lost (502); the later list returns `after`;
    -- `before` is what the read before the send sees.
    local function lost(before, after)
      local sent = 0
      local tg, t = connect(function(_, _, info)
        if info.type == "mutation" then
          sent = sent + 1
          if sent == 1 then return { status = 502, body = "" } end
          return { data = { resourceCreate = { ok = true, entity = { id = "RESENT" } } } }
        end
        return { data = { resources = fake.conn(sent == 0 and before or after) } }
      end)
      tg.verify_grace = 0
      return tg, t
    end

    it("never takes another network's resource of that name and address for the lost one", function()
      local tg, t = lost({}, { node("DR1", "N-DR") })
      local r = tg.resources:create{ name = "db", address = "10.0.0.5", remoteNetworkId = "N-PROD" }
      assert.equals("RESENT", r.id)
      assert.equals(2, #mutations(t))
    end)

    it("never takes a resource that existed before the request was sent", function()
      local tg, t = lost({ { id = "OLD" } }, { node("OLD", "N1") })
      local r = tg.resources:create{ name = "db", address = "10.0.0.5", remoteNetworkId = "N1" }
      assert.equals("RESENT", r.id)
      assert.equals(2, #mutations(t))
    end)

    it("never takes a resource with another alias than the one sent", function()
      local tg = lost({}, { node("R7", "N1", { alias = "other.corp" }) })
      local r = tg.resources:create{ name = "db", address = "10.0.0.5", remoteNetworkId = "N1", alias = "db.corp" }
      assert.equals("RESENT", r.id)
    end)

    it("takes the new resource matching every input and does not resend", function()
      local tg, t = lost({ { id = "OLD" } }, { node("OLD", "N1"), node("NEW", "N1", { alias = "db.corp" }),
        node("DR1", "N-DR") })
      local r = tg.resources:create{ name = "db", address = "10.0.0.5", remoteNetworkId = "N1", alias = "db.corp" }
      assert.equals("NEW", r.id)
      assert.equals(1, #mutations(t))
    end)
  end)

  describe("create_ssh()", function()
    it("uses sshResourceCreate and takes a bare port for upstream", function()
      local tg, t = connect(with_read(function()
        return { data = { sshResourceCreate = { ok = true, entity = { id = "R2" } } } }
      end))
      tg.resources:create_ssh{ name = "b", address = "h", remoteNetworkId = "N1", gatewayId = "GW1", upstream = 22 }
      assert.equals("sshResourceCreate", mutations(t)[1].info.fields[1].name)
      assert.same({ port = 22 }, mutations(t)[1].variables.upstream)
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

  describe("access()", function()
    it("reads whole edges across every page and raises not_found for a missing resource", function()
      local tg, t = connect(function(body)
        if body.variables.id == "R9" then return { data = { resource = json.null } } end
        local after = body.variables.after
        local edge = function(id) return { principal = { __typename = "Group", id = id, name = id },
          securityPolicy = json.null, expiresAt = json.null } end
        if after == nil then
          return { data = { resource = { access = { nodes = { edge("G1"), json.null },
            pageInfo = { hasNextPage = true, endCursor = "c1" } } } } }
        end
        return { data = { resource = { access = { nodes = { edge("G2") },
          pageInfo = { hasNextPage = false, endCursor = "c2" } } } } }
      end)
      local ids = {}
      for e in tg.resources:access("R1") do ids[#ids + 1] = e.principal.id end
      assert.same({ "G1", "G2" }, ids)
      assert.equals(2, #t.requests)
      assert.equals("ResourceAccess", t.requests[1].info.name)
      assert.matches("access(first: $first, after: $after) { nodes: edges { principal: node {", t.requests[1].query, nil, true)
      assert.equals("c1", t.requests[2].variables.after)
      local ok, err = pcall(function() for _ in tg.resources:access("R9") do end end)
      assert.is_false(ok)
      assert.equals("not_found", err.kind)
    end)

    it("takes a custom principal selection", function()
      local tg, t = connect(function()
        return { data = { resource = { access = { nodes = {}, pageInfo = { hasNextPage = false } } } } }
      end)
      for _ in tg.resources:access("R1", { fields = "__typename ... on Group { id isActive }" }) do end
      assert.matches("principal: node { __typename ... on Group { id isActive } }", t.requests[1].query, nil, true)
    end)
  end)

  describe("get_many()", function()
    it("reads resources in aliased batches and completes their access edges in batched follow-ups", function()
      local tg, t = connect(function(body, _, info)
        local data = {}
        if info.name == "GetManyResources" then
          for k, v in pairs(body.variables) do
            local idx = k:match("^id(%d+)$")
            if idx and v ~= "R404" then
              data["g" .. idx] = { id = v, name = v, access = { nodes = {
                { principal = { __typename = "Group", id = v .. "-G1" } } },
                pageInfo = { hasNextPage = true, endCursor = "p1" } } }
            end
          end
          return { data = data }
        end
        -- follow-up pages of several resources' access in one request
        for k, v in pairs(body.variables) do
          local idx = k:match("^id(%d+)$")
          if idx then
            data["n" .. idx] = { access = { nodes = { { principal = { __typename = "Group", id = v .. "-G2" } } },
              pageInfo = { hasNextPage = false, endCursor = "p2" } } }
          end
        end
        return { data = data }
      end, { batch_size = 2 })
      local out = tg.resources:get_many({ "R1", "R2", "R404", "R1" }, { include = { "access" } })
      assert.equals(4, out.n)
      assert.is_nil(out[3])
      assert.equals(out[1], out[4])
      assert.same({ "R1-G1", "R1-G2" }, { out[1].access[1].principal.id, out[1].access[2].principal.id })
      assert.same({ "R2-G1", "R2-G2" }, { out[2].access[1].principal.id, out[2].access[2].principal.id })
      -- 3 unique ids at 2 per request, then one follow-up request for both resources' second pages
      assert.equals(3, #t.requests)
      assert.equals("GetManyResources", t.requests[1].info.name)
      assert.matches("... on SSHResource {", t.requests[1].query, nil, true)
      assert.matches("nodes: edges { principal: node {", t.requests[3].query, nil, true)
    end)

    it("gets one resource with include and refuses a bad include name", function()
      local tg, t = connect(function()
        return { data = { resource = { id = "R1", groups = { edges = { { node = { id = "G1", name = "a" } } },
          pageInfo = { hasNextPage = false } } } } }
      end)
      local r = tg.resources:get("R1", { include = { "groups" } })
      assert.equals("G1", r.groups[1].id)
      assert.equals("GetResource", t.requests[1].info.name)
      local ok, err = pcall(tg.resources.get, tg.resources, "R1", { include = { "members" } })
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.matches("valid: access, approverGroups, groups, serviceAccounts", err.message, nil, true)
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

    it("refuses a single edge not wrapped in a list, a set and a list with holes, sending nothing", function()
      local tg, t = connect(function() error("nothing may be sent") end)
      for _, edges in ipairs{ { principalId = "G1" }, { G1 = true }, { [1] = "G1", [3] = "G2" }, "G1" } do
        local ok, err = pcall(tg.resources.access_set, tg.resources, "R1", edges)
        assert.is_false(ok)
        assert.equals("invalid_argument", err.kind)
      end
      local ok, err = pcall(tg.resources.access_set, tg.resources, "R1", { principalId = "G1" })
      assert.is_false(ok)
      assert.matches("wrap a single edge in a list", err.message, nil, true)
      assert.equals(0, #t.requests)
    end)
  end)

  describe("access_remove()", function()
    it("refuses a set of ids and a list with holes instead of silently doing nothing", function()
      local tg, t = connect(function() error("nothing may be sent") end)
      for _, ids in ipairs{ { G1 = true }, { [1] = "G1", [3] = "G2" }, "G1" } do
        local ok, err = pcall(tg.resources.access_remove, tg.resources, "R1", ids)
        assert.is_false(ok)
        assert.equals("invalid_argument", err.kind)
      end
      for _, edges in ipairs{ { G1 = true }, { [1] = "G1", [3] = "G2" } } do
        local ok, err = pcall(tg.resources.access_add, tg.resources, "R1", edges)
        assert.is_false(ok)
        assert.equals("invalid_argument", err.kind)
      end
      assert.equals(0, #t.requests)
    end)

    it("sends resourceAccessRemove with the ids as a list", function()
      local tg, t = connect(function() return { data = { resourceAccessRemove = { ok = true, entity = { id = "R1" } } } } end)
      tg.resources:access_remove("R1", { "G1", "SA1" })
      assert.same({ "G1", "SA1" }, t.requests[1].variables.principalIds)
    end)
  end)
end)
