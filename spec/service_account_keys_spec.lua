local twingate = require "twingate"
local log = require "twingate.log"
local fake = require "spec.support.fake"

local connect = fake.connect

describe("twingate.service_account_keys", function()
  before_each(function() log.configure{ level = "error" } end)
  after_each(function() log.configure{ level = "info" } end)

  describe("create()", function()
    it("returns the token once and registers it as a secret", function()
      local tok = "sk-unit-spec-secret-0123456789"
      local tg, t = connect(function()
        return { data = { serviceAccountKeyCreate = { ok = true, token = tok, entity = { id = "K1", name = "k" } } } }
      end)
      local key = tg.service_account_keys:create{ serviceAccountId = "SA1", name = "k", expirationTime = 30 }
      assert.equals(tok, key.token)
      assert.equals("K1", key.id)
      assert.same({ serviceAccountId = "SA1", name = "k", expirationTime = 30 }, t.requests[1].variables)
      assert.equals("twingate: mutation: leaked [REDACTED]", tostring(twingate.errors.new("mutation", "leaked " .. tok)))
    end)

    it("is never resent after a lost response", function()
      local tg, t = connect(function() return { status = 502, body = "" } end)
      local ok = pcall(tg.service_account_keys.create, tg.service_account_keys,
        { serviceAccountId = "SA1", expirationTime = 0 })
      assert.is_false(ok)
      assert.equals(1, #t.requests)
    end)

    it("requires serviceAccountId and expirationTime in days", function()
      local tg, t = connect(function() error("nothing may be sent") end)
      for _, input in ipairs{ { expirationTime = 1 }, { serviceAccountId = "SA1" },
        { serviceAccountId = "SA1", expirationTime = 366 }, { serviceAccountId = "SA1", expirationTime = 1, token = "x" } } do
        local ok, err = pcall(tg.service_account_keys.create, tg.service_account_keys, input)
        assert.is_false(ok)
        assert.equals("invalid_argument", err.kind)
      end
      assert.equals(0, #t.requests)
    end)
  end)

  describe("find()", function()
    it("raises listing the ids when keys of one account share a name", function()
      local tg = connect(function()
        return { data = { serviceAccount = { keys = { edges = { { node = { id = "K1", name = "k" } },
          { node = { id = "K2", name = "k" } }, { node = { id = "K3", name = "other" } } },
          pageInfo = { hasNextPage = false } } } } }
      end)
      local ok, err = pcall(tg.service_account_keys.find, tg.service_account_keys, "k", { serviceAccountId = "SA1" })
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.same({ "K1", "K2" }, err.ids)
    end)
  end)

  describe("revoke()", function()
    it("sends serviceAccountKeyRevoke", function()
      local tg, t = connect(function()
        return { data = { serviceAccountKeyRevoke = { ok = true, entity = { id = "K1", status = "REVOKED" } } } }
      end)
      assert.equals("REVOKED", tg.service_account_keys:revoke("K1").status)
      assert.equals("ServiceAccountKeyRevoke", t.requests[1].info.name)
    end)
  end)
end)
