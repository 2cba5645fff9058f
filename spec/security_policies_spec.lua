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

describe("twingate.security_policies", function()
  before_each(function() log.configure{ level = "error" } end)
  after_each(function() log.configure{ level = "info" } end)

  describe("update()", function()
    it("sends securityPolicyUpdate with group set edits", function()
      local tg, t = connect(function() return { data = { securityPolicyUpdate = { ok = true, entity = { id = "P1" } } } } end)
      tg.security_policies:update("P1", { addedGroupIds = { "G1" } })
      assert.same({ id = "P1", addedGroupIds = { "G1" } }, t.requests[1].variables)
      local ok, err = pcall(tg.security_policies.update, tg.security_policies, "P1", { name = "x" })
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
    end)
  end)

  describe("create()", function()
    it("is refused: policies cannot be created through the API", function()
      local tg, t = connect(function() error("nothing may be sent") end)
      local ok, err = pcall(tg.security_policies.create, tg.security_policies, { name = "x" })
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.equals(0, #t.requests)
    end)
  end)
end)
