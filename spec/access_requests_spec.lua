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

describe("twingate.access_requests", function()
  before_each(function() log.configure{ level = "error" } end)
  after_each(function() log.configure{ level = "info" } end)

  describe("approve() and reject()", function()
    it("send their mutation with the id and return true", function()
      local tg, t = connect(payload({ ok = true }))
      assert.is_true(tg.access_requests:approve("A1"))
      assert.is_true(tg.access_requests:reject("A2"))
      assert.equals("accessRequestApprove", t.requests[1].info.fields[1].name)
      assert.equals("accessRequestReject", t.requests[2].info.fields[1].name)
      assert.same({ id = "A2" }, t.requests[2].variables)
      assert.is_nil(t.requests[1].query:find("entity", 1, true))
    end)

    it("raise not_found for a missing request", function()
      local tg = connect(payload({ ok = false, error = "Field 'id' AccessRequest with id 'A9' does not exist." }))
      local ok, err = pcall(tg.access_requests.approve, tg.access_requests, "A9")
      assert.is_false(ok)
      assert.equals("not_found", err.kind)
    end)
  end)

  describe("each()", function()
    it("filters by user and resource ids", function()
      local tg, t = connect(function() return { data = { accessRequests = conn({ { id = "A1" } }) } } end)
      tg.access_requests:list{ userId = { ["in"] = { "U1" } } }
      assert.equals("AccessRequestFilterInput", t.requests[1].info.variables.filter)
      assert.same({ userId = { ["in"] = { "U1" } } }, t.requests[1].variables.filter)
    end)
  end)
end)
