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

describe("twingate.connectors", function()
  before_each(function() log.configure{ level = "error" } end)
  after_each(function() log.configure{ level = "info" } end)

  describe("create()", function()
    it("requires remoteNetworkId and sends only the given arguments", function()
      local tg, t = connect(payload({ ok = true, entity = { id = "C1", name = "edge" } }))
      local ok, err = pcall(tg.connectors.create, tg.connectors, { name = "edge" })
      assert.is_false(ok)
      assert.matches("'remoteNetworkId' is required", err.message)
      assert.equals("C1", tg.connectors:create{ remoteNetworkId = "R1", name = "edge" }.id)
      assert.same({ remoteNetworkId = "R1", name = "edge" }, t.requests[1].variables)
      assert.equals("connectorCreate", t.requests[1].info.fields[1].name)
    end)
  end)

  describe("generate_tokens()", function()
    it("returns both tokens and registers them as secrets", function()
      local tg, t = connect(payload({ ok = true,
        connectorTokens = { accessToken = "access-AAAA-1234", refreshToken = "refresh-BBBB-5678" } }))
      local tokens = tg.connectors:generate_tokens("C1")
      assert.equals("access-AAAA-1234", tokens.accessToken)
      assert.equals("refresh-BBBB-5678", tokens.refreshToken)
      assert.same({ connectorId = "C1" }, t.requests[1].variables)
      assert.equals("ID!", t.requests[1].info.variables.connectorId)
      assert.equals("a [REDACTED] b [REDACTED]",
        twingate.errors.redact("a access-AAAA-1234 b refresh-BBBB-5678"))
    end)

    it("raises not_found for a missing connector", function()
      local tg = connect(payload({ ok = false, error = "Field 'connectorId' Connector with id 'C9' does not exist." }))
      local ok, err = pcall(tg.connectors.generate_tokens, tg.connectors, "C9")
      assert.is_false(ok)
      assert.equals("not_found", err.kind)
    end)

    it("sends nothing in a dry run", function()
      local tg, t = connect(function() error("no request expected") end, { dry_run = true })
      log.configure{ level = "quiet" }
      assert.is_true(tg.connectors:generate_tokens("C1").dry_run)
      assert.equals(0, #t.requests)
    end)
  end)
end)
