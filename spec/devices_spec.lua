local json = require "twingate.json"
local log = require "twingate.log"
local fake = require "spec.support.fake"

local connect, conn, payload = fake.connect, fake.conn, fake.payload

describe("twingate.devices", function()
  before_each(function() log.configure{ level = "error" } end)
  after_each(function() log.configure{ level = "info" } end)

  describe("each()", function()
    it("skips null nodes and null edges the API returns in device lists", function()
      local tg = connect(function()
        local page = conn({ { id = "D1" } })
        page.edges[2] = { cursor = "c2", node = json.null }
        page.edges[3] = json.null
        page.edges[4] = { cursor = "c4", node = { id = "D4" } }
        return { data = { devices = page } }
      end)
      local ids = {}
      for d in tg.devices:each() do ids[#ids + 1] = d.id end
      assert.same({ "D1", "D4" }, ids)
    end)
  end)

  describe("trust() and untrust()", function()
    it("send deviceUpdate with isTrusted", function()
      local tg, t = connect(payload({ ok = true, entity = { id = "D1", isTrusted = true } }))
      assert.is_true(tg.devices:trust("D1").isTrusted)
      tg.devices:untrust("D1")
      assert.same({ id = "D1", isTrusted = true }, t.requests[1].variables)
      assert.same({ id = "D1", isTrusted = false }, t.requests[2].variables)
      assert.equals("Boolean!", t.requests[1].info.variables.isTrusted)
      assert.equals("deviceUpdate", t.requests[2].info.fields[1].name)
    end)
  end)

  describe("block(), unblock(), archive(), unarchive()", function()
    it("send their mutation with the id", function()
      local tg, t = connect(payload({ ok = true, entity = { id = "D1" } }))
      tg.devices:block("D1")
      tg.devices:unblock("D1")
      tg.devices:archive("D1")
      tg.devices:unarchive("D1")
      local fields = {}
      for i, r in ipairs(t.requests) do fields[i] = r.info.fields[1].name end
      assert.same({ "deviceBlock", "deviceUnblock", "deviceArchive", "deviceUnarchive" }, fields)
    end)

    it("refuse a missing id without sending", function()
      local tg, t = connect(function() error("no request expected") end)
      local ok, err = pcall(tg.devices.block, tg.devices, nil)
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.equals(0, #t.requests)
    end)

    it("have no create or delete", function()
      local tg = connect(function() error("no request expected") end)
      local ok, err = pcall(tg.devices.delete, tg.devices, "D1")
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
    end)
  end)
end)
