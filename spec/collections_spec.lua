local twingate = require "twingate"
local collections = require "twingate.collections"
local graphql = require "twingate.graphql"
local json = require "twingate.json"
local log = require "twingate.log"
local fake = require "spec.support.fake"

local connect, conn = fake.connect, fake.conn

local function users(prefix, a, b)
  local out = {}
  for i = a, b do out[#out + 1] = { id = prefix .. i } end
  return out
end

describe("twingate.collections", function()
  before_each(function() log.configure{ level = "error" } end)
  after_each(function() log.configure{ level = "info" } end)

  describe("each()", function()
    it("sends an empty `in` list of a filter as a JSON array, and leaves the caller's filter alone", function()
      local tg, t = connect(function() return { data = { groups = conn({}, false) } } end)
      local filter = { name = { ["in"] = {} }, type = { ["in"] = { "MANUAL" } } }
      assert.same({}, tg.groups:list(filter))
      assert.matches('"in":%[%]', t.requests[1].raw)
      assert.matches('"in":%["MANUAL"%]', t.requests[1].raw)
      assert.is_false(json.is_array(filter.name["in"]))
      local ok, err = pcall(tg.groups.list, tg.groups, { name = { ["in"] = { a = true } } })
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.matches("in", err.message)
    end)

    it("lists every page with the filter as a variable and the default selection", function()
      local tg, t = connect(function(_, n)
        if n == 1 then return { data = { groups = conn({ { id = "G1", name = "a" }, { id = "G2", name = "b" } }, true, "p1") } } end
        return { data = { groups = conn({ { id = "G3", name = "c" } }, false, "p2") } }
      end)
      local got = {}
      for g in tg.groups:each({ name = { startsWith = "eng-\"}" } }) do got[#got + 1] = g.id end
      assert.same({ "G1", "G2", "G3" }, got)
      assert.equals(2, #t.requests)
      local r = t.requests[1]
      assert.equals("ListGroups", r.info.name)
      assert.equals("GroupFilterInput", r.info.variables.filter)
      assert.same({ name = { startsWith = "eng-\"}" } }, r.variables.filter)
      assert.equals(100, r.variables.first)
      assert.is_nil(r.query:find("eng-", 1, true))
      assert.matches("securityPolicy { id name }", r.query)
      assert.equals("p1", t.requests[2].variables.after)
    end)

    it("replaces the selection with opts.fields", function()
      local tg, t = connect(function() return { data = { groups = conn({}) } } end)
      tg.groups:list(nil, { fields = "id name" })
      assert.matches("node { id name }", t.requests[1].query)
      assert.is_nil(t.requests[1].query:find("securityPolicy", 1, true))
    end)

    it("completes included nested connections with batched aliased queries", function()
      -- 3 groups: G1 has 250 members, G2 has 30, G3 has 120; page size 100, batch size 25
      local members = { G1 = users("U1.", 1, 250), G2 = users("U2.", 1, 30), G3 = users("U3.", 1, 120) }
      local function page(id, after)
        local start = after and tonumber(after) + 1 or 1
        local list = members[id]
        local slice = {}
        for i = start, math.min(start + 99, #list) do slice[#slice + 1] = list[i] end
        local last = start + #slice - 1
        return conn(slice, last < #list, tostring(last))
      end
      local tg, t = connect(function(body)
        local info = graphql.inspect(body.query)
        if info.fields[1].name == "groups" then
          local nodes = {}
          for _, id in ipairs({ "G1", "G2", "G3" }) do nodes[#nodes + 1] = { id = id, name = id, users = page(id) } end
          return { data = { groups = conn(nodes) } }
        end
        local data = {}
        for _, f in ipairs(info.fields) do
          local k = f.key:match("%d+")
          data[f.key] = { users = page(body.variables["id" .. k], body.variables["after" .. k]) }
        end
        return { data = data }
      end)
      local list = tg.groups:list(nil, { include = { "users" } })
      assert.equals(3, #list)
      assert.equals(250, #list[1].users)
      assert.equals(30, #list[2].users)
      assert.equals(120, #list[3].users)
      assert.equals("U1.250", list[1].users[250].id)
      -- 1 list + round 1 (G1, G3 in one request) + round 2 (G1) = 3 requests
      assert.equals(3, #t.requests)
      assert.matches("users: users%(first: %$first%)", t.requests[1].query)
      local r2 = t.requests[2]
      assert.equals("CompleteGroups", r2.info.name)
      assert.equals(2, #r2.info.fields)
      assert.same({ first = 100, id0 = "G1", after0 = "100", id1 = "G3", after1 = "100" }, r2.variables)
      assert.same({ first = 100, id0 = "G1", after0 = "200" }, t.requests[3].variables)
    end)

    it("rejects an unknown include, naming the valid ones", function()
      local tg = connect(function() error("no request expected") end)
      local ok, err = pcall(tg.groups.list, tg.groups, nil, { include = { "members" } })
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.matches("resources, users", err.message)
    end)
  end)

  describe("get()", function()
    it("returns the node, or nil when it does not exist", function()
      local tg, t = connect(function(body)
        if body.variables.id == "G1" then return { data = { group = { id = "G1", name = "Ops" } } } end
        return { data = { group = json.null } }
      end)
      assert.equals("Ops", tg.groups:get("G1").name)
      assert.is_nil(tg.groups:get("G404"))
      assert.equals("GetGroup", t.requests[1].info.name)
      assert.equals("ID!", t.requests[1].info.variables.id)
    end)

    it("refuses a non-string id without sending anything", function()
      local tg, t = connect(function() error("no request expected") end)
      local ok, err = pcall(tg.groups.get, tg.groups, 42)
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.equals(0, #t.requests)
    end)
  end)

  describe("find()", function()
    it("finds by exact name through the filter", function()
      local tg, t = connect(function() return { data = { groups = conn({ { id = "G1", name = "Ops" }, { id = "G2", name = "ops" } }) } } end)
      assert.equals("G1", tg.groups:find("Ops").id)
      assert.same({ name = { eq = "Ops" } }, t.requests[1].variables.filter)
    end)

    it("returns nil when none matches and raises listing the ids when several do", function()
      local tg = connect(function(body)
        if body.variables.filter.name.eq == "none" then return { data = { groups = conn({}) } } end
        return { data = { groups = conn({ { id = "G1", name = "Dup" }, { id = "G2", name = "Dup" } }) } }
      end)
      assert.is_nil(tg.groups:find("none"))
      local ok, err = pcall(tg.groups.find, tg.groups, "Dup")
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.matches("G1, G2", err.message)
    end)
  end)

  describe("create()", function()
    it("declares only the given arguments, with their schema types", function()
      local tg, t = connect(function() return { data = { groupCreate = { ok = true, entity = { id = "G9", name = "Ops" } } } } end)
      local g = tg.groups:create{ name = "Ops", userIds = {} }
      assert.equals("G9", g.id)
      local r = t.requests[1]
      assert.equals("GroupCreate", r.info.name)
      assert.equals("String!", r.info.variables.name)
      assert.equals("[ID]", r.info.variables.userIds)
      assert.is_nil(r.info.variables.securityPolicyId)
      assert.matches('"userIds":%[%]', r.raw)
    end)

    it("refuses a set-style table or a list with holes as a list argument, sending nothing", function()
      for _, v in ipairs{ { VXNlcjox = true }, { [1] = "A", [3] = "B" }, { "A", x = "B" } } do
        local tg, t = connect(function() return { data = { groupUpdate = { ok = true, entity = { id = "G1" } } } } end)
        local ok, err = pcall(tg.groups.update, tg.groups, "G1", { userIds = v })
        assert.is_false(ok)
        assert.equals("invalid_argument", err.kind)
        assert.matches("'userIds' must be a list", err.message)
        assert.equals(0, #t.requests)
      end
    end)

    it("sends twingate.null as an explicit null", function()
      local tg, t = connect(function() return { data = { groupUpdate = { ok = true, entity = { id = "G1" } } } } end)
      tg.groups:update("G1", { securityPolicyId = twingate.null, name = "X" })
      assert.matches('"securityPolicyId":null', t.requests[1].raw)
      assert.equals("ID", t.requests[1].info.variables.securityPolicyId)
    end)

    it("refuses unknown keys naming the valid ones, and missing required ones", function()
      local tg, t = connect(function() error("no request expected") end)
      local ok, err = pcall(tg.groups.create, tg.groups, { name = "x", members = {} })
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.matches("members", err.message)
      assert.matches("name, resourceIds, securityPolicyId, userIds", err.message)
      ok, err = pcall(tg.groups.create, tg.groups, { userIds = {} })
      assert.is_false(ok)
      assert.matches("'name' is required", err.message)
      assert.equals(0, #t.requests)
    end)

    it("returns numbered placeholders in a dry run and sends nothing", function()
      local tg, t = connect(function() error("no request expected") end, { dry_run = true })
      log.configure{ level = "quiet" }
      local a = tg.groups:create{ name = "A", userIds = { "U1" } }
      local b = tg.remote_networks:create{ name = "N" }
      assert.equals("dry-run:Group:1", a.id)
      assert.equals("A", a.name)
      assert.is_true(a.dry_run)
      assert.equals("dry-run:RemoteNetwork:2", b.id)
      assert.equals(0, #t.requests)
    end)

    it("raises the mutation error with the server's text", function()
      local tg = connect(function() return { data = { groupCreate = { ok = false, error = "name is taken" } } } end)
      local ok, err = pcall(tg.groups.create, tg.groups, { name = "x" })
      assert.is_false(ok)
      assert.equals("mutation", err.kind)
      assert.equals("name is taken", err.payload_error)
    end)
  end)

  describe("update() and delete()", function()
    it("raise not_found when the object does not exist", function()
      local tg = connect(function(body)
        local f = graphql.inspect(body.query).fields[1].name
        return { data = { [f] = { ok = false, error = "Field 'id' Group with id 'G0' does not exist." } } }
      end)
      local ok, err = pcall(tg.groups.update, tg.groups, "G0", { name = "x" })
      assert.is_false(ok)
      assert.equals("not_found", err.kind)
      ok, err = pcall(tg.groups.delete, tg.groups, "G0")
      assert.is_false(ok)
      assert.equals("not_found", err.kind)
    end)

    it("delete returns true", function()
      local tg, t = connect(function() return { data = { groupDelete = { ok = true } } } end)
      assert.is_true(tg.groups:delete("G1"))
      assert.same({ id = "G1" }, t.requests[1].variables)
      assert.equals("GroupDelete", t.requests[1].info.name)
    end)
  end)

  describe("get_many()", function()
    local function responder(existing)
      return function(body)
        local info = graphql.inspect(body.query)
        local data = {}
        for _, f in ipairs(info.fields) do
          local id = body.variables["id" .. f.key:match("%d+$")]
          data[f.key] = existing[id] and { id = id, name = existing[id] } or json.null
        end
        return { data = data }
      end
    end

    it("fetches batch_size ids per request, keeps the order and gives nil for missing ids", function()
      local tg, t = connect(responder({ G1 = "a", G2 = "b", G4 = "d", G5 = "e" }))
      local got = tg.groups:get_many({ "G1", "G2", "G3", "G4", "G5" }, { batch_size = 2 })
      assert.equals(5, got.n)
      assert.equals("a", got[1].name)
      assert.equals("b", got[2].name)
      assert.is_nil(got[3])
      assert.equals("d", got[4].name)
      assert.equals("e", got[5].name)
      assert.equals(3, #t.requests)
      local r = t.requests[1]
      assert.equals("GetManyGroups", r.info.name)
      assert.equals(2, #r.info.fields)
      assert.equals("ID!", r.info.variables.id0)
      assert.same({ id0 = "G1", id1 = "G2" }, r.variables)
    end)

    it("asks for a repeated id once and returns the same node at each place", function()
      local tg, t = connect(responder({ G1 = "a" }))
      local got = tg.groups:get_many({ "G1", "G1" })
      assert.equals(1, #t.requests[1].info.fields)
      assert.equals(got[1], got[2])
    end)

    it("keeps the other nodes when the server answers a missing id with an error", function()
      local tg = connect(function()
        return { data = { g0 = { id = "G1", name = "a" }, g1 = json.null },
          errors = { { message = "Group with id 'G9' does not exist" } } }
      end)
      local got = tg.groups:get_many({ "G1", "G9" })
      assert.equals("a", got[1].name)
      assert.is_nil(got[2])
    end)

    it("raises other GraphQL errors", function()
      local tg = connect(function() return { data = json.null, errors = { { message = "boom" } } } end)
      local ok, err = pcall(tg.groups.get_many, tg.groups, { "G1" })
      assert.is_false(ok)
      assert.equals("graphql", err.kind)
    end)

    it("completes included connections of every fetched node", function()
      local tg, t = connect(function(body)
        local info = graphql.inspect(body.query)
        if info.name == "GetManyGroups" then
          return { data = { g0 = { id = "G1", users = conn({ { id = "U1" } }, true, "1") } } }
        end
        return { data = { n0 = { users = conn({ { id = "U2" } }, false, "2") } } }
      end)
      local got = tg.groups:get_many({ "G1" }, { include = { "users" } })
      assert.equals(2, #got[1].users)
      assert.equals("U2", got[1].users[2].id)
      assert.equals("Int", t.requests[1].info.variables.first)
      assert.equals(2, #t.requests)
    end)

    it("refuses a list holding a non-id without sending anything", function()
      local tg, t = connect(function() error("no request expected") end)
      local ok, err = pcall(tg.groups.get_many, tg.groups, { "G1", 5 })
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.equals(0, #t.requests)
    end)
  end)

  describe("kinds without a filter, a get field or a paged list", function()
    it("find() compares names client-side when the list takes no filter", function()
      local tg, t = connect(function()
        return { data = { webhooks = conn({ { id = "W1", name = "a" }, { id = "W2", name = "b" }, { id = "W3", name = "b" } }) } }
      end)
      assert.equals("W1", tg.webhooks:find("a").id)
      assert.is_nil(t.requests[1].variables.filter)
      assert.is_nil(tg.webhooks:find("c"))
      local ok, err = pcall(tg.webhooks.find, tg.webhooks, "b")
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.matches("W2, W3", err.message)
    end)

    it("get() refuses a kind the API cannot look up by id", function()
      local tg, t = connect(function() error("no request expected") end)
      local ok, err = pcall(tg.serial_numbers.get, tg.serial_numbers, "S1")
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      ok, err = pcall(tg.access_requests.find, tg.access_requests, "x")
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.equals(0, #t.requests)
    end)

    it("each() reads a plain list in one request, skipping null items", function()
      local tg, t = connect(function()
        return { data = { dnsFilteringProfiles = { { id = "D1", name = "a", priority = 1 }, json.null } } }
      end)
      local list = tg.dns_filtering_profiles:list()
      assert.equals(1, #list)
      assert.equals(1, #t.requests)
      assert.is_nil(t.requests[1].info.variables.after)
      local ok, err = pcall(tg.dns_filtering_profiles.list, tg.dns_filtering_profiles, { name = { eq = "a" } })
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
    end)

    it("each() of a plain list with include reads the full objects through get_many", function()
      local tg, t = connect(function(body)
        local info = graphql.inspect(body.query)
        if info.name == "ListDnsFilteringProfiles" then
          return { data = { dnsFilteringProfiles = { { id = "D1" }, { id = "D2" } } } }
        end
        return { data = { g0 = { id = "D1", fallbackMethod = "AUTO", groups = conn({ { id = "G1" } }) },
          g1 = { id = "D2", fallbackMethod = "STRICT", groups = conn({}) } } }
      end)
      local list = tg.dns_filtering_profiles:list(nil, { include = { "groups" } })
      assert.equals(2, #list)
      assert.equals("STRICT", list[2].fallbackMethod)
      assert.equals("G1", list[1].groups[1].id)
      assert.equals("GetManyDnsFilteringProfiles", t.requests[2].info.name)
      assert.equals(2, #t.requests)
    end)
  end)

  describe("_operation() and _id_operation()", function()
    it("build the special mutation from argument types and return the entity", function()
      local tg, t = connect(function() return { data = { deviceBlock = { ok = true, entity = { id = "D1", activeState = "BLOCKED" } } } } end)
      local d = tg.devices:_id_operation("block", { field = "deviceBlock" }, "D1", nil, { fields = "id activeState" })
      assert.equals("BLOCKED", d.activeState)
      local r = t.requests[1]
      assert.equals("DeviceBlock", r.info.name)
      assert.equals("ID!", r.info.variables.id)
      assert.matches("entity { id activeState }", r.query, 1, true)
    end)

    it("send nothing in a dry run and return a placeholder with the id", function()
      local tg, t = connect(function() error("no request expected") end, { dry_run = true })
      log.configure{ level = "quiet" }
      local d = tg.devices:block("D1")
      assert.is_true(d.dry_run)
      assert.equals("D1", d.id)
      assert.equals(0, #t.requests)
    end)
  end)

  describe("parse_time()", function()
    it("reads ISO 8601 UTC times independently of the local zone", function()
      assert.equals(0, collections.parse_time("1970-01-01T00:00:00Z"))
      assert.equals(1714564800, collections.parse_time("2024-05-01T12:00:00.123Z"))
      assert.equals(1714564800, collections.parse_time("2024-05-01T14:00:00+02:00"))
      assert.is_nil(collections.parse_time("yesterday"))
    end)
  end)
end)
