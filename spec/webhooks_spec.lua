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

describe("twingate.webhooks", function()
  before_each(function() log.configure{ level = "error" } end)
  after_each(function() log.configure{ level = "info" } end)

  describe("create()", function()
    it("requires a name and a url", function()
      local tg, t = connect(payload({ ok = true, entity = { id = "W1", name = "a", url = "u" } }))
      local ok, err = pcall(tg.webhooks.create, tg.webhooks, { name = "a" })
      assert.is_false(ok)
      assert.matches("'url' is required", err.message)
      assert.equals("W1", tg.webhooks:create{ name = "a", url = "u" }.id)
      assert.equals("WebhookCreate", t.requests[1].info.name)
    end)
  end)

  describe("update() and delete()", function()
    it("send webhookUpdate and webhookDelete", function()
      local tg, t = connect(payload({ ok = true, entity = { id = "W1" } }))
      tg.webhooks:update("W1", { url = "v" })
      tg.webhooks:delete("W1")
      assert.same({ id = "W1", url = "v" }, t.requests[1].variables)
      assert.equals("webhookDelete", t.requests[2].info.fields[1].name)
    end)
  end)
end)
