local twingate = require "twingate"
local log = require "twingate.log"
local fake = require "spec.support.fake"

local connect, conn, payload = fake.connect, fake.conn, fake.payload

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
