local main = require "twingate.main"
local errors = require "twingate.errors"
local fake = require "spec.support.fake"
local cli = require "spec.support.cli"

local buffer, env, tmpfile = fake.buffer, fake.env, cli.tmpfile

describe("twingate.main", function()
  local saved_twingate, configured, stderr, opts

  before_each(function()
    saved_twingate = package.loaded["twingate"]
    configured = nil
    package.loaded["twingate"] = { configure = function(s) configured = s end }
    stderr = buffer()
    opts = { stderr = stderr, getenv = env{} }
  end)

  after_each(function()
    package.loaded["twingate"] = saved_twingate
    require("twingate.log").configure{ level = "info", format = "text", stream = io.stderr }
  end)

  describe("run()", function()
    it("returns 0 when the chunk returns nothing", function()
      assert.are.equal(0, main.run({}, "code", "local x = 1", {}, {}, opts))
      assert.are.equal("", stderr:text())
    end)

    it("exits 128 + N after a signal, however the script ended, with one message", function()
      local pending
      opts.interrupt = { pending = function() return pending end,
        signal_name = function(n) return n == 2 and "SIGINT" or "SIGTERM" end }
      -- the interrupted error raised by the hook (src/main.c)
      assert.are.equal(130, main.run({}, "code", "error({ interrupted = true, signal = 2 })", {}, {}, opts))
      assert.are.equal("twingate-lua: interrupted (SIGINT)\n", stderr:text())
      -- a library pcall swallowed it: the pending signal still decides
      stderr = buffer()
      opts.stderr = stderr
      pending = 15
      assert.are.equal(143, main.run({}, "code", "return 0", {}, {}, opts))
      assert.are.equal("twingate-lua: interrupted (SIGTERM)\n", stderr:text())
      -- twingate.plan already said what was applied: no second message
      stderr = buffer()
      opts.stderr = stderr
      pending = 2
      assert.are.equal(130, main.run({}, "code", "error({ interrupted = true, signal = 2, reported = true })",
        {}, {}, opts))
      assert.are.equal("", stderr:text())
    end)

    it("returns the integer the chunk returns", function()
      assert.are.equal(3, main.run({}, "code", "return 3", {}, {}, opts))
      assert.are.equal(0, main.run({}, "code", "return true", {}, {}, opts))
      assert.are.equal(1, main.run({}, "code", "return false", {}, {}, opts))
    end)

    it("passes the arguments as ... and in arg like lua.c", function()
      local saved = rawget(_G, "arg")
      local code = [[
        local a, b = ...
        assert(a == "x" and b == "y", "varargs")
        assert(arg[0] == "-e" and arg[1] == "x" and arg[2] == "y", "arg")
        assert(arg[-1] == "-v" and arg[-2] == "prog", "interp")
        return 7
      ]]
      assert.are.equal(7, main.run({}, "code", code, { "x", "y" }, { "prog", "-v" }, opts),
        stderr:text())
      assert.are.equal(saved, rawget(_G, "arg"))
    end)

    it("sets arg[0] to the script path for a file", function()
      local path = tmpfile("return arg[0] == ... and 5 or 6")
      local code = main.run({}, "file", path, { path }, {}, opts)
      os.remove(path)
      assert.are.equal(5, code)
    end)

    it("hands the resolved settings to twingate.configure", function()
      main.run({ network = "acme", dry_run = true }, "code", "", {}, {}, opts)
      assert.are.equal("https://acme.twingate.com/api/graphql/", configured.endpoint)
      assert.is_true(configured.dry_run)
    end)

    it("exits 2 with one line for a configuration error", function()
      local code = main.run({ timeout = "abc" }, "code", "error('must not run')", {}, {}, opts)
      assert.are.equal(2, code)
      assert.matches("^twingate%-lua: twingate: config: %-%-timeout", stderr:text())
      assert.is_nil(configured)
    end)

    it("exits 2 for a missing script file", function()
      local code = main.run({}, "file", "/nonexistent/script.lua", {}, {}, opts)
      assert.are.equal(2, code)
      assert.matches("cannot open script /nonexistent/script.lua", stderr:text(), 1, true)
    end)

    it("exits 1 for a syntax error in the script", function()
      assert.are.equal(1, main.run({}, "code", "this is not lua", {}, {}, opts))
      assert.matches("^twingate%-lua: %(command line%):1:", stderr:text())
    end)

    it("prints one line and the kind's exit code for an uncaught error object", function()
      local code = main.run({}, "code",
        "require('twingate.errors').raise('auth', 'token refused')", {}, {}, opts)
      assert.are.equal(4, code)
      assert.are.equal("twingate-lua: twingate: auth: token refused\n", stderr:text())
    end)

    it("keeps a multi-line error message on one line in text format", function()
      local code = main.run({}, "code",
        "require('twingate.errors').raise('graphql', 'first\\nsecond\\r\\nthird')", {}, {}, opts)
      assert.are.equal(1, code)
      assert.are.equal("twingate-lua: twingate: graphql: first\\nsecond\\r\\nthird\n",
        stderr:text())
    end)

    it("prints an uncaught error as one JSON line with --log-format json", function()
      local json = require "twingate.json"
      local code = main.run({ log_format = "json" }, "code",
        "require('twingate.errors').raise('auth', 'token\\nrefused', { status = 401 })",
        {}, {}, opts)
      assert.are.equal(4, code)
      local text = stderr:text()
      assert.are.equal(1, select(2, text:gsub("\n", "")))
      local obj = json.decode(text)
      assert.are.equal("error", obj.level)
      assert.are.equal("token\nrefused", obj.msg)
      assert.are.equal("auth", obj.kind)
      assert.are.equal(4, obj.exit_code)
      assert.are.equal(401, obj.status)
      assert.is_string(obj.time)
    end)

    it("prints string errors, tracebacks and config errors as JSON too", function()
      local json = require "twingate.json"
      main.run({ log_format = "json", verbose = 1 }, "code", "error('boom')", {}, {}, opts)
      local lines = {}
      for l in stderr:text():gmatch("[^\n]+") do lines[#lines + 1] = l end
      local obj = json.decode(lines[#lines])  -- after the debug "settings" line
      assert.are.equal("(command line):1: boom", obj.msg)
      assert.are.equal(1, obj.exit_code)
      assert.matches("stack traceback:", obj.traceback, 1, true)
      stderr = buffer()
      opts.stderr = stderr
      opts.getenv = env{ TWINGATE_LOG_FORMAT = "json" }
      assert.are.equal(2, main.run({ timeout = "abc" }, "code", "", {}, {}, opts))
      obj = json.decode(stderr:text())
      assert.are.equal("config", obj.kind)
      assert.are.equal(2, obj.exit_code)
    end)

    it("logs the endpoint without its userinfo with -v", function()
      opts.getenv = env{ TWINGATE_ENDPOINT = "http://proxyuser:proxypass-77@127.0.0.1:9/api/graphql/" }
      main.run({ verbose = 1 }, "code", "error('x proxypass-77')", {}, {}, opts)
      local text = stderr:text()
      assert.matches("endpoint=http://127.0.0.1:9/api/graphql/", text, 1, true)
      assert.is_nil(text:find("proxypass-77", 1, true))
      assert.is_nil(text:find("proxyuser", 1, true))
    end)

    it("exits 1 for a plain string error, without a traceback", function()
      assert.are.equal(1, main.run({}, "code", "error('boom')", {}, {}, opts))
      assert.are.equal("twingate-lua: (command line):1: boom\n", stderr:text())
    end)

    it("describes error values that are neither strings nor error objects", function()
      assert.are.equal(1, main.run({}, "code", "error({})", {}, {}, opts))
      assert.matches("error object is a table value", stderr:text(), 1, true)
    end)

    it("adds a traceback with -v", function()
      main.run({ verbose = 1 }, "code", "error('boom')", {}, {}, opts)
      assert.matches("stack traceback:", stderr:text(), 1, true)
    end)

    it("never prints the token, even in a script's own error", function()
      opts.getenv = env{ TWINGATE_API_TOKEN = "very-secret-token-42" }
      local code = main.run({ verbose = 2 }, "code",
        "error('the token is ' .. ...)", { "very-secret-token-42" }, {}, opts)
      assert.are.equal(1, code)
      assert.is_nil(stderr:text():find("very-secret-token-42", 1, true))
      assert.matches("[REDACTED]", stderr:text(), 1, true)
    end)

    it("logs token file warnings through twingate.log after configuring it", function()
      local path = tmpfile("tok-main-spec-1\n")
      local sys_ok = pcall(require, "twingate.sys")
      if not sys_ok then
        -- Stock lua5.4 has no twingate.sys: give config a fake mode.
        package.loaded["twingate.sys"] = { file_mode = function() return tonumber("644", 8) end }
      end
      os.execute("chmod 644 " .. path)
      main.run({ api_token_file = path, log_format = "json" }, "code", "", {}, {}, opts)
      if not sys_ok then package.loaded["twingate.sys"] = nil end
      os.remove(path)
      assert.matches('"level":"warn"', stderr:text(), 1, true)
      assert.matches("chmod 600", stderr:text(), 1, true)
    end)

    it("makes os.exit close the state and keeps the code", function()
      local exited
      opts.exit = function(code, close)
        exited = { code, close }
        error("exited", 0)
      end
      local saved_exit = os.exit
      main.run({}, "code", "os.exit(9)", {}, {}, opts)
      assert.are.same({ 9, true }, exited)
      assert.are.equal(saved_exit, os.exit)
    end)

    it("maps a configure error of the twingate module to its exit code", function()
      package.loaded["twingate"] = {
        configure = function() errors.raise("config", "no network set") end,
      }
      assert.are.equal(2, main.run({}, "code", "", {}, {}, opts))
      assert.matches("no network set", stderr:text(), 1, true)
    end)
  end)
end)
