local log = require "twingate.log"
local fake = require "spec.support.fake"

local connect, conn, payload = fake.connect, fake.conn, fake.payload

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
