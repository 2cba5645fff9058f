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

describe("twingate.gateways", function()
  before_each(function() log.configure{ level = "error" } end)
  after_each(function() log.configure{ level = "info" } end)

  describe("create() and update()", function()
    it("declare the schema's argument types", function()
      local tg, t = connect(payload({ ok = true, entity = { id = "W1" } }))
      tg.gateways:create{ address = "gw:1", remoteNetworkId = "R1", x509CAId = "X1" }
      tg.gateways:update("W1", { sshCAId = twingate.null })
      assert.equals("String!", t.requests[1].info.variables.address)
      assert.equals("ID!", t.requests[1].info.variables.x509CAId)
      assert.matches('"sshCAId":null', t.requests[2].raw)
    end)
  end)

  describe("find()", function()
    it("finds by address, client-side (the list takes no filter)", function()
      local tg, t = connect(function()
        return { data = { gateways = conn({ { id = "W1", address = "a" }, { id = "W2", address = "b" } }) } }
      end)
      assert.equals("W2", tg.gateways:find("b").id)
      assert.is_nil(t.requests[1].info.variables.filter)
    end)
  end)
end)
