local log = require "twingate.log"
local fake = require "spec.support.fake"

local connect, conn, payload = fake.connect, fake.conn, fake.payload

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
