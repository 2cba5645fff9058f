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

describe("twingate.dlp_policies", function()
  before_each(function() log.configure{ level = "error" } end)
  after_each(function() log.configure{ level = "info" } end)

  describe("each() and get()", function()
    it("read policies; no writes exist", function()
      local tg, t = connect(function(_, _, info)
        if info.fields[1].name == "dlpPolicies" then return { data = { dlpPolicies = conn({ { id = "P1", name = "a" } }) } } end
        return { data = { dlpPolicy = { id = "P1", name = "a" } } }
      end)
      assert.equals(1, #tg.dlp_policies:list())
      assert.equals("a", tg.dlp_policies:get("P1").name)
      assert.equals(2, #t.requests)
      for _, fn in ipairs({ "create", "update", "delete" }) do
        local ok, err = pcall(tg.dlp_policies[fn], tg.dlp_policies, fn == "create" and {} or "P1", {})
        assert.is_false(ok)
        assert.equals("invalid_argument", err.kind)
      end
      assert.equals(2, #t.requests)
    end)
  end)
end)
