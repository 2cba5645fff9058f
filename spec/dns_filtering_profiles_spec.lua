local log = require "twingate.log"
local fake = require "spec.support.fake"

local connect, conn, payload = fake.connect, fake.conn, fake.payload

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
