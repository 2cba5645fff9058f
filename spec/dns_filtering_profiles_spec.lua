local twingate = require "twingate"
local graphql = require "twingate.graphql"
local json = require "twingate.json"
local log = require "twingate.log"

-- Fake transport: respond(body, n, info) -> { data = ... }; requests are recorded.
local function connect(respond, opts)
  local t = { requests = {} }
  function t:request(req)
    local body = json.decode(req.body)
    local n = #self.requests + 1
    self.requests[n] = { raw = req.body, query = body.query, variables = body.variables or {},
      info = graphql.inspect(body.query) }
    local r = respond(body, n, self.requests[n].info)
    return { status = 200, headers = { ["content-type"] = "application/json" },
      body = json.encode({ data = r.data, errors = r.errors }) }
  end
  local o = { endpoint = "http://127.0.0.1:9/api/graphql/", api_token = "tok-xyz-123", transport = t,
    sleep = function() end, random = function() return 0 end }
  for k, v in pairs(opts or {}) do o[k] = v end
  return twingate.connect(o), t
end

local function conn(nodes, has_next, cursor)
  local edges = {}
  for i, n in ipairs(nodes) do edges[i] = { cursor = "c" .. i, node = n } end
  return { edges = edges, pageInfo = { hasNextPage = has_next or false, endCursor = cursor } }
end

-- A payload answering the first root field of the request.
local function payload(p)
  return function(_, _, info) return { data = { [info.fields[1].name] = p } } end
end

describe("twingate.dns_filtering_profiles", function()
  before_each(function() log.configure{ level = "error" } end)
  after_each(function() log.configure{ level = "info" } end)

  describe("each()", function()
    it("reads the plain root list once, with the summary fields", function()
      local tg, t = connect(function()
        return { data = { dnsFilteringProfiles = { { id = "D1", name = "a", priority = 1 }, { id = "D2", name = "b", priority = 2 } } } }
      end)
      local list = tg.dns_filtering_profiles:list()
      assert.equals(2, #list)
      assert.matches("dnsFilteringProfiles { id name priority }", t.requests[1].query, 1, true)
      assert.equals(1, #t.requests)
    end)
  end)

  describe("update()", function()
    it("sends group ids as [String!] and category configs as their inputs", function()
      local tg, t = connect(payload({ ok = true, entity = { id = "D1" } }))
      tg.dns_filtering_profiles:update("D1", { groups = { "G1" }, privacyCategoryConfig = { blockAffiliate = true } })
      local v = t.requests[1].info.variables
      assert.equals("[String!]", v.groups)
      assert.equals("PrivacyCategoryConfigInput", v.privacyCategoryConfig)
      assert.same({ blockAffiliate = true }, t.requests[1].variables.privacyCategoryConfig)
    end)
  end)

  describe("create() and delete()", function()
    it("create takes the name only", function()
      local tg = connect(function() error("no request expected") end)
      local ok, err = pcall(tg.dns_filtering_profiles.create, tg.dns_filtering_profiles, { name = "x", priority = 1 })
      assert.is_false(ok)
      assert.matches("unknown field 'priority'", err.message)
    end)

    it("delete sends dnsFilteringProfileDelete", function()
      local tg, t = connect(payload({ ok = true }))
      assert.is_true(tg.dns_filtering_profiles:delete("D1"))
      assert.equals("DnsFilteringProfileDelete", t.requests[1].info.name)
    end)
  end)
end)
