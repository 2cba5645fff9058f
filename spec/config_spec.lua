local config = require "twingate.config"
local errors = require "twingate.errors"
local fake = require "spec.support.fake"
local cli = require "spec.support.cli"

local env, tmpfile = fake.env, cli.tmpfile

local function config_error(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok)
  assert.is_true(errors.is(err), "expected an error object, got " .. tostring(err))
  assert.are.equal("config", err.kind)
  return err
end

describe("twingate.config", function()
  local warnings, opts
  before_each(function()
    warnings = {}
    opts = {
      warn = function(msg, fields) warnings[#warnings + 1] = { msg = msg, fields = fields } end,
      file_mode = function() return tonumber("600", 8) end,
    }
  end)

  describe("resolve()", function()
    it("gives the documented defaults when nothing is set", function()
      local s = config.resolve({}, env{}, opts)
      assert.is_nil(s.endpoint)
      assert.is_nil(s.api_token)
      assert.is_false(s.dry_run)
      assert.are.equal(35, s.timeout)
      assert.are.equal(10, s.max_retries)
      assert.are.equal(0, s.verbose)
      assert.is_false(s.quiet)
      assert.are.equal("text", s.log_format)
      assert.are.equal("info", s.log_level)
      assert.are.equal(60, s.reads_per_minute)
      assert.are.equal(20, s.writes_per_minute)
      assert.are.equal(100, s.page_size)
    end)

    it("builds the endpoint from the network and the default domain", function()
      local s = config.resolve({}, env{ TWINGATE_NETWORK = "acme" }, opts)
      assert.are.equal("https://acme.twingate.com/api/graphql/", s.endpoint)
      assert.are.equal("acme", s.network)
    end)

    it("uses TWINGATE_URL as the domain", function()
      local s = config.resolve({}, env{ TWINGATE_NETWORK = "acme", TWINGATE_URL = "stg.opstg.com" }, opts)
      assert.are.equal("https://acme.stg.opstg.com/api/graphql/", s.endpoint)
    end)

    it("treats a network containing a dot as the full host", function()
      local s = config.resolve({ network = "acme.eu1.twingate.com" }, env{}, opts)
      assert.are.equal("https://acme.eu1.twingate.com/api/graphql/", s.endpoint)
    end)

    it("lets --endpoint override network and url", function()
      local s = config.resolve({ endpoint = "http://127.0.0.1:9/api/graphql/", network = "acme" },
        env{ TWINGATE_NETWORK = "other" }, opts)
      assert.are.equal("http://127.0.0.1:9/api/graphql/", s.endpoint)
    end)

    it("lets a --network flag win over TWINGATE_ENDPOINT", function()
      local s = config.resolve({ network = "acme" },
        env{ TWINGATE_ENDPOINT = "http://127.0.0.1:9/x" }, opts)
      assert.are.equal("https://acme.twingate.com/api/graphql/", s.endpoint)
    end)

    it("lets TWINGATE_ENDPOINT win over TWINGATE_NETWORK", function()
      local s = config.resolve({}, env{ TWINGATE_ENDPOINT = "http://127.0.0.1:9/x",
        TWINGATE_NETWORK = "acme" }, opts)
      assert.are.equal("http://127.0.0.1:9/x", s.endpoint)
    end)

    it("refuses an endpoint that is not an http(s) URL", function()
      local err = config_error(function() config.resolve({ endpoint = "ftp://x" }, env{}, opts) end)
      assert.matches("--endpoint", err.message, 1, true)
    end)

    it("registers the password of an endpoint's userinfo as a secret", function()
      local s = config.resolve({}, env{
        TWINGATE_ENDPOINT = "http://proxyuser:proxy%2Fpass@127.0.0.1:9/api/graphql/" }, opts)
      assert.are.equal("http://proxyuser:proxy%2Fpass@127.0.0.1:9/api/graphql/", s.endpoint)
      assert.are.equal("a [REDACTED] b", errors.redact("a proxy%2Fpass b"))
      assert.are.equal("a [REDACTED] b", errors.redact("a proxy/pass b"))
      assert.are.equal("http://127.0.0.1:9/api/graphql/", config.display_endpoint(s.endpoint))
      assert.are.equal("https://a.example/x?y=1", config.display_endpoint("https://a.example/x?y=1"))
      -- also when the endpoint is refused, the message does not show the password
      local err = config_error(function()
        config.resolve({ endpoint = "http://u:pw-bad-1@host/ x" }, env{}, opts)
      end)
      assert.is_nil(tostring(err):find("pw-bad-1", 1, true))
    end)

    it("refuses a network name with spaces or slashes", function()
      local err = config_error(function()
        config.resolve({}, env{ TWINGATE_NETWORK = "ac me/x" }, opts)
      end)
      assert.matches("TWINGATE_NETWORK", err.message, 1, true)
    end)

    it("takes flags over the environment for every numeric setting", function()
      local s = config.resolve({ timeout = "5", max_retries = "0", page_size = "50",
        rate_limit = "30:10", log_format = "json" },
        env{ TWINGATE_HTTP_TIMEOUT = "9", TWINGATE_HTTP_MAX_RETRY = "3",
          TWINGATE_PAGE_SIZE = "20", TWINGATE_RATE_LIMIT = "1:1", TWINGATE_LOG_FORMAT = "text" }, opts)
      assert.are.equal(5, s.timeout)
      assert.are.equal(0, s.max_retries)
      assert.are.equal(50, s.page_size)
      assert.are.equal(30, s.reads_per_minute)
      assert.are.equal(10, s.writes_per_minute)
      assert.are.equal("json", s.log_format)
    end)

    it("reads every setting from the environment", function()
      local s = config.resolve({}, env{ TWINGATE_HTTP_TIMEOUT = "2.5", TWINGATE_HTTP_MAX_RETRY = "3",
        TWINGATE_PAGE_SIZE = "20", TWINGATE_RATE_LIMIT = "120:40", TWINGATE_LOG_FORMAT = "json",
        TWINGATE_DRY_RUN = "yes" }, opts)
      assert.are.equal(2.5, s.timeout)
      assert.are.equal(3, s.max_retries)
      assert.are.equal(20, s.page_size)
      assert.are.equal(120, s.reads_per_minute)
      assert.are.equal(40, s.writes_per_minute)
      assert.are.equal("json", s.log_format)
      assert.is_true(s.dry_run)
    end)

    it("takes a rate-limit window in seconds after a slash", function()
      local s = config.resolve({ rate_limit = "60:20/3" }, env{}, opts)
      assert.are.equal(60, s.reads_per_minute)
      assert.are.equal(20, s.writes_per_minute)
      assert.are.equal(3, s.rate_window)
      s = config.resolve({}, env{}, opts)
      assert.are.equal(60, s.rate_window)
    end)

    it("turns pacing off with rate limit off", function()
      local s = config.resolve({ rate_limit = "off" }, env{}, opts)
      assert.is_nil(s.reads_per_minute)
      assert.is_nil(s.writes_per_minute)
    end)

    it("names the setting and the expectation for a bad timeout", function()
      local err = config_error(function() config.resolve({ timeout = "abc" }, env{}, opts) end)
      assert.matches("--timeout", err.message, 1, true)
      assert.matches("seconds", err.message, 1, true)
      err = config_error(function() config.resolve({}, env{ TWINGATE_HTTP_TIMEOUT = "0" }, opts) end)
      assert.matches("TWINGATE_HTTP_TIMEOUT", err.message, 1, true)
    end)

    it("refuses negative or fractional retries", function()
      config_error(function() config.resolve({ max_retries = "-1" }, env{}, opts) end)
      local err = config_error(function()
        config.resolve({}, env{ TWINGATE_HTTP_MAX_RETRY = "1.5" }, opts)
      end)
      assert.matches("TWINGATE_HTTP_MAX_RETRY", err.message, 1, true)
    end)

    it("refuses a malformed rate limit", function()
      for _, bad in ipairs{ "60", "a:b", "0:20", "60:-1", "60:20:1", "60:20/0", "60:20/x" } do
        local err = config_error(function() config.resolve({ rate_limit = bad }, env{}, opts) end)
        assert.matches("--rate-limit", err.message, 1, true)
      end
    end)

    it("refuses a page size out of range", function()
      config_error(function() config.resolve({ page_size = "0" }, env{}, opts) end)
      config_error(function() config.resolve({ page_size = "100000" }, env{}, opts) end)
    end)

    it("refuses an unknown log format", function()
      local err = config_error(function() config.resolve({ log_format = "xml" }, env{}, opts) end)
      assert.matches("text or json", err.message, 1, true)
    end)

    it("refuses a TWINGATE_DRY_RUN that is not a boolean", function()
      config_error(function() config.resolve({}, env{ TWINGATE_DRY_RUN = "maybe" }, opts) end)
      assert.is_false(config.resolve({}, env{ TWINGATE_DRY_RUN = "0" }, opts).dry_run)
    end)

    it("maps verbose and quiet to the log level", function()
      assert.are.equal("debug", config.resolve({ verbose = 1 }, env{}, opts).log_level)
      assert.are.equal(2, config.resolve({ verbose = 5 }, env{}, opts).verbose)
      assert.are.equal("warn", config.resolve({ quiet = true }, env{}, opts).log_level)
      config_error(function() config.resolve({ quiet = true, verbose = 1 }, env{}, opts) end)
    end)

    it("takes the token from TWINGATE_API_TOKEN and registers it as a secret", function()
      local s = config.resolve({}, env{ TWINGATE_API_TOKEN = "tok-from-env-123" }, opts)
      assert.are.equal("tok-from-env-123", s.api_token)
      assert.are.equal("TWINGATE_API_TOKEN", s.api_token_source)
      assert.are.equal("x [REDACTED] y", errors.redact("x tok-from-env-123 y"))
    end)

    it("reads the token file and strips the trailing newline", function()
      local path = tmpfile("tok-from-file-456\n")
      local s = config.resolve({ api_token_file = path }, env{ TWINGATE_API_TOKEN = "other-token" }, opts)
      os.remove(path)
      assert.are.equal("tok-from-file-456", s.api_token)
      assert.matches("--api-token-file", s.api_token_source, 1, true)
      assert.are.same({}, warnings)
    end)

    it("reads TWINGATE_API_TOKEN_FILE when no token is set otherwise", function()
      local path = tmpfile("tok-env-file-789\r\n")
      local s = config.resolve({}, env{ TWINGATE_API_TOKEN_FILE = path }, opts)
      os.remove(path)
      assert.are.equal("tok-env-file-789", s.api_token)
    end)

    it("refuses an empty token file", function()
      local path = tmpfile("\n  \n")
      local err = config_error(function() config.resolve({ api_token_file = path }, env{}, opts) end)
      os.remove(path)
      assert.matches("empty", err.message, 1, true)
    end)

    it("names the path of an unreadable token file", function()
      local err = config_error(function()
        config.resolve({ api_token_file = "/nonexistent/token" }, env{}, opts)
      end)
      assert.matches("/nonexistent/token", err.message, 1, true)
    end)

    it("refuses a token file with several lines without quoting it", function()
      local path = tmpfile("line-one-secret\nline-two-secret\n")
      local err = config_error(function() config.resolve({ api_token_file = path }, env{}, opts) end)
      os.remove(path)
      assert.is_nil(err.message:find("secret", 1, true))
    end)

    it("warns when the token file is readable by group or others", function()
      opts.file_mode = function() return tonumber("644", 8) end
      local path = tmpfile("tok-perm-000\n")
      config.resolve({ api_token_file = path }, env{}, opts)
      os.remove(path)
      assert.are.equal(1, #warnings)
      assert.matches("0644", warnings[1].msg, 1, true)
      assert.matches("chmod 600", warnings[1].msg, 1, true)
      assert.is_nil(warnings[1].msg:find("tok-perm-000", 1, true))
    end)
  end)
end)
