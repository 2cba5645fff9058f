local json = require "twingate.json"
local log = require "twingate.log"
local fake = require "spec.support.fake"

local connect, conn, payload = fake.connect, fake.conn, fake.payload

describe("twingate.serial_numbers", function()
  before_each(function() log.configure{ level = "error" } end)
  after_each(function() log.configure{ level = "info" } end)

  describe("create()", function()
    it("sends every serial in one serialNumbersCreate and returns the entities", function()
      local tg, t = connect(payload({ ok = true, entities = { { id = "S1", serialNumber = "A" }, { id = "S2", serialNumber = "B" } } }))
      local list = tg.serial_numbers:create{ "A", "B" }
      assert.equals(2, #list)
      assert.same({ serialNumbers = { "A", "B" } }, t.requests[1].variables)
      assert.equals("[String!]!", t.requests[1].info.variables.serialNumbers)
      assert.matches("entities {", t.requests[1].query, 1, true)
    end)

    it("refuses an empty list or a non-string", function()
      local tg, t = connect(function() error("no request expected") end)
      assert.is_false(pcall(tg.serial_numbers.create, tg.serial_numbers, {}))
      local ok, err = pcall(tg.serial_numbers.create, tg.serial_numbers, { "A", 3 })
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.equals(0, #t.requests)
    end)
  end)

  describe("delete()", function()
    it("sends serialNumbersDelete with the serials", function()
      local tg, t = connect(payload({ ok = true }))
      assert.is_true(tg.serial_numbers:delete("A"))
      assert.same({ serialNumbers = { "A" } }, t.requests[1].variables)
    end)
  end)

  describe("each()", function()
    it("gives matchedDevices as a plain list without null entries", function()
      local tg = connect(function()
        return { data = { serialNumbers = conn({ { id = "S1", serialNumber = "A", matchedDevices = { { id = "D1" }, json.null } } }) } }
      end)
      local s = tg.serial_numbers:list()[1]
      assert.equals(1, #s.matchedDevices)
      assert.equals("D1", s.matchedDevices[1].id)
    end)

    it("finds by serial through the serialNumber filter", function()
      local tg, t = connect(function()
        return { data = { serialNumbers = conn({ { id = "S1", serialNumber = "A", matchedDevices = {} } }) } }
      end)
      assert.equals("S1", tg.serial_numbers:find("A").id)
      assert.same({ serialNumber = { eq = "A" } }, t.requests[1].variables.filter)
    end)
  end)
end)
