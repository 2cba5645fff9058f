local log = require "twingate.log"
local fake = require "spec.support.fake"

local connect = fake.connect

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
