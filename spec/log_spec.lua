local log = require "twingate.log"
local errors = require "twingate.errors"
local json = require "twingate.json"
local buffer = require("spec.support.fake").buffer

describe("twingate.log", function()
  local out, saved

  before_each(function()
    saved = log.settings()
    out = buffer()
    log.configure{ level = "info", format = "text", stream = out,
      time = function() return 1714564800.25 end }
  end)

  after_each(function()
    log.configure{ level = saved.level, format = saved.format, stream = saved.stream, time = saved.time }
  end)

  describe("configure()", function()
    it("rejects an unknown level", function()
      local ok, err = pcall(log.configure, { level = "loud" })
      assert.is_false(ok)
      assert.are.equal("invalid_argument", err.kind)
    end)

    it("rejects an unknown format", function()
      local ok, err = pcall(log.configure, { format = "xml" })
      assert.is_false(ok)
      assert.are.equal("invalid_argument", err.kind)
    end)
  end)

  describe("enabled()", function()
    it("follows the configured level", function()
      assert.is_false(log.enabled("debug"))
      assert.is_true(log.enabled("info"))
      assert.is_true(log.enabled("error"))
      log.configure{ level = "error" }
      assert.is_false(log.enabled("warn"))
      log.configure{ level = "debug" }
      assert.is_true(log.enabled("debug"))
    end)

    it("is false for everything when quiet", function()
      log.configure{ level = "quiet" }
      for _, l in ipairs({ "debug", "info", "warn", "error" }) do
        assert.is_false(log.enabled(l))
      end
    end)
  end)

  describe("text lines", function()
    it("writes 'twingate-lua: level: message' and sorted key=value fields", function()
      log.warn("message", { key2 = "quoted value", key = "value" })
      assert.are.same({ 'twingate-lua: warn: message key=value key2="quoted value"' }, out:lines())
    end)

    it("writes numbers, booleans and tables readably", function()
      log.info("x", { n = 3, f = 0.25, b = true, t = { 1, 2 } })
      assert.are.same({ 'twingate-lua: info: x b=true f=0.25 n=3 t=[1,2]' }, out:lines())
    end)

    it("escapes quotes, newlines and empty strings in values", function()
      log.info("x", { a = 'say "hi"\nnow', e = "" })
      assert.are.same({ 'twingate-lua: info: x a="say \\"hi\\"\\nnow" e=""' }, out:lines())
    end)

    it("writes nothing below the level", function()
      log.debug("hidden")
      assert.are.equal("", out:text())
      log.configure{ level = "quiet" }
      log.error("hidden too")
      assert.are.equal("", out:text())
    end)

    it("writes an error object with its message", function()
      log.error("failed", { err = errors.new("auth", "refused") })
      assert.are.same({ 'twingate-lua: error: failed err="twingate: auth: refused"' }, out:lines())
    end)
  end)

  describe("json lines", function()
    before_each(function() log.configure{ format = "json" } end)

    it("writes one object per line with time, level, msg and the fields", function()
      log.info("hello", { operation = "GroupUpdate", attempt = 2 })
      log.warn("second")
      local lines = out:lines()
      assert.are.equal(2, #lines)
      local v = json.decode(lines[1])
      assert.are.equal("2024-05-01T12:00:00.250Z", v.time)
      assert.are.equal("info", v.level)
      assert.are.equal("hello", v.msg)
      assert.are.equal("GroupUpdate", v.operation)
      assert.are.equal(2, v.attempt)
      assert.truthy(lines[1]:find('^{"time":'))
      assert.are.equal("second", json.decode(lines[2]).msg)
    end)

    it("does not let fields overwrite time, level or msg", function()
      log.info("real", { msg = "fake", level = "fake" })
      local v = json.decode(out:lines()[1])
      assert.are.equal("real", v.msg)
      assert.are.equal("info", v.level)
      assert.are.equal("fake", v._msg)
    end)

    it("keeps a line valid JSON with odd values (errors, bad UTF-8, newlines)", function()
      log.info("multi\nline", { err = errors.new("http", "boom"), bad = "caf\233",
        fn = print, nan = 0 / 0 })
      local lines = out:lines()
      assert.are.equal(1, #lines)
      local v = json.decode(lines[1])
      assert.are.equal("multi\nline", v.msg)
      assert.are.equal("twingate: http: boom", v.err)
      assert.are.equal("caf?", v.bad)
    end)
  end)

  describe("redaction", function()
    local secret = "tok-log-spec-S3cr3t/+=="

    before_each(function() errors.add_secret(secret) end)

    it("never writes a registered secret in text lines", function()
      log.warn("token is " .. secret, { header = secret, nested = { k = secret } })
      local text = out:text()
      assert.is_nil(text:find(secret, 1, true))
      assert.truthy(text:find("[REDACTED]", 1, true))
    end)

    it("never writes a registered secret in JSON lines", function()
      log.configure{ format = "json" }
      log.warn("token is " .. secret, { header = secret, nested = { k = secret },
        quoted = '"' .. secret .. '"' })
      local text = out:text()
      assert.is_nil(text:find(secret, 1, true))
      assert.is_nil(text:find("S3cr3t", 1, true))
    end)
  end)
end)
