local twingate = require "twingate"
local log = require "twingate.log"
local fake = require "spec.support.fake"

local connect, conn, payload = fake.connect, fake.conn, fake.payload

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
