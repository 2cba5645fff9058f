-- The command line of the built binary: options, environment, exit codes,
-- script kinds, arguments, error output and secrets.
local cjson = require "cjson"
local cli = require "spec.support.cli"

local BIN = cli.bin()
local quote, slurp, write_file = cli.quote, cli.slurp, cli.write_file

--- Run the binary with every TWINGATE_* setting unset first. opts: env (table),
-- stdin (string), cwd (dir). Returns exit code, stdout, stderr.
local function run(args, opts)
  opts = opts or {}
  return cli.run(args, { clean = true, env = opts.env, stdin = opts.stdin, cwd = opts.cwd })
end

-- A chunk that prints the resolved settings as JSON.
local SHOW = [[
  local s = require("twingate.main").settings
  local t = {}
  for k, v in pairs(s) do if k ~= "api_token" then t[k] = v end end
  t.has_token = s.api_token ~= nil
  t.token_is = s.api_token == os.getenv("EXPECT_TOKEN")
  print(require("cjson").encode(t))
]]

local function settings(args, opts)
  local a = {}
  for _, v in ipairs(args) do a[#a + 1] = v end
  a[#a + 1] = "-e"
  a[#a + 1] = SHOW
  local code, out, err = run(a, opts)
  assert(code == 0, "exit " .. tostring(code) .. ": " .. err)
  return cjson.decode(out), err
end

local function tmpdir()
  local p = assert(io.popen("mktemp -d"))
  local d = p:read("l")
  p:close()
  return d
end

describe("twingate-lua #integration", function()
  local dir

  setup(function() dir = tmpdir() end)
  teardown(function() os.execute("rm -rf " .. quote(dir)) end)

  describe("--help and --version", function()
    it("prints every option, variable and exit code on stdout and exits 0", function()
      local code, out, err = run{ "--help" }
      assert.are.equal(0, code)
      assert.are.equal("", err)
      for _, word in ipairs{ "--network", "--url", "--endpoint", "--api-token-file", "--dry-run",
        "--timeout", "--max-retries", "--verbose", "--quiet", "--log-format", "--rate-limit",
        "--page-size", "-e CODE", "--help", "--version", "TWINGATE_NETWORK", "TWINGATE_URL",
        "TWINGATE_ENDPOINT", "TWINGATE_API_TOKEN", "TWINGATE_API_TOKEN_FILE",
        "TWINGATE_HTTP_TIMEOUT", "TWINGATE_HTTP_MAX_RETRY", "TWINGATE_DRY_RUN",
        "TWINGATE_LOG_FORMAT", "TWINGATE_RATE_LIMIT", "TWINGATE_PAGE_SIZE", "TWINGATE_LUA_DIR" } do
        assert.is_truthy(out:find(word, 1, true), "help lacks " .. word)
      end
      for c = 0, 5 do assert.matches("\n  " .. c .. "  %a", out) end
      assert.are.equal(out, select(2, run{ "-h" }))
    end)

    it("prints the version on stdout and exits 0", function()
      local code, out, err = run{ "--version" }
      assert.are.equal(0, code)
      assert.are.equal("", err)
      assert.matches("^twingate%-lua 0%.1%.0 %(Lua 5%.4", out)
      assert.matches("libcurl/", out)
    end)
  end)

  describe("usage errors", function()
    it("exits 2 with the short usage for an unknown option", function()
      local code, out, err = run{ "--frobnicate", "-e", "print(1)" }
      assert.are.equal(2, code)
      assert.are.equal("", out)
      assert.matches("unknown option '%-%-frobnicate'", err)
      assert.matches("Usage: twingate%-lua", err)
    end)

    it("exits 2 when an option lacks its value", function()
      local code, _, err = run{ "--network" }
      assert.are.equal(2, code)
      assert.matches("'%-%-network' needs a value", err)
      code = run{ "-e" }
      assert.are.equal(2, code)
    end)

    it("exits 2 when no script is given", function()
      local code, _, err = run{}
      assert.are.equal(2, code)
      assert.matches("no script", err)
    end)

    it("refuses the token as a flag and says how to pass it", function()
      for _, args in ipairs{ { "--api-token", "tok-flag-999", "-e", "" },
        { "--api-token=tok-flag-999", "-e", "" } } do
        local code, out, err = run(args)
        assert.are.equal(2, code)
        assert.are.equal("", out)
        assert.matches("TWINGATE_API_TOKEN", err, 1, true)
        assert.matches("--api-token-file", err, 1, true)
        assert.is_nil(err:find("tok-flag-999", 1, true))
      end
    end)

    it("exits 2 for a bad setting, naming it", function()
      local cases = {
        { { "--timeout", "abc" }, nil, "--timeout" },
        { { "--max-retries", "-1" }, nil, "--max-retries" },
        { { "--rate-limit", "fast" }, nil, "--rate-limit" },
        { { "--page-size", "0" }, nil, "--page-size" },
        { { "--log-format", "xml" }, nil, "--log-format" },
        { {}, { TWINGATE_HTTP_TIMEOUT = "soon" }, "TWINGATE_HTTP_TIMEOUT" },
        { {}, { TWINGATE_RATE_LIMIT = "1:x" }, "TWINGATE_RATE_LIMIT" },
        { { "-v", "-q" }, nil, "--quiet" },
      }
      for _, c in ipairs(cases) do
        local args = { table.unpack(c[1]) }
        args[#args + 1] = "-e"
        args[#args + 1] = "print('ran')"
        local code, out, err = run(args, { env = c[2] })
        assert.are.equal(2, code, c[3])
        assert.are.equal("", out)
        assert.matches("^twingate%-lua: twingate: config: ", err)
        assert.is_truthy(err:find(c[3], 1, true), err)
        local _, lines = err:gsub("\n", "")
        assert.are.equal(1, lines)
      end
    end)
  end)

  describe("settings", function()
    it("has the defaults with nothing set", function()
      local s = settings{}
      assert.is_nil(s.endpoint)
      assert.is_false(s.has_token)
      assert.are.equal(35, s.timeout)
      assert.are.equal(10, s.max_retries)
      assert.are.equal(60, s.reads_per_minute)
      assert.are.equal(20, s.writes_per_minute)
      assert.are.equal(100, s.page_size)
      assert.is_false(s.dry_run)
      assert.are.equal("text", s.log_format)
    end)

    it("takes every flag", function()
      local s = settings{ "--network", "acme", "--url", "example.org", "--dry-run",
        "--timeout", "7.5", "--max-retries", "2", "--rate-limit", "30:5", "--page-size", "25",
        "--log-format=json", "-q" }
      assert.are.equal("https://acme.example.org/api/graphql/", s.endpoint)
      assert.is_true(s.dry_run)
      assert.are.equal(7.5, s.timeout)
      assert.are.equal(2, s.max_retries)
      assert.are.equal(30, s.reads_per_minute)
      assert.are.equal(5, s.writes_per_minute)
      assert.are.equal(25, s.page_size)
      assert.are.equal("json", s.log_format)
      assert.is_true(s.quiet)
      assert.are.equal("warn", s.log_level)
    end)

    it("takes --endpoint over --network", function()
      local s = settings{ "--network", "acme", "--endpoint=http://127.0.0.1:9/api/graphql/" }
      assert.are.equal("http://127.0.0.1:9/api/graphql/", s.endpoint)
    end)

    it("counts -v and -vv", function()
      assert.are.equal(1, settings{ "-v" }.verbose)
      assert.are.equal(2, settings{ "-vv" }.verbose)
      assert.are.equal(2, settings{ "--verbose", "-v" }.verbose)
    end)

    it("reads the environment, and flags win over it", function()
      local env = { TWINGATE_NETWORK = "envnet", TWINGATE_URL = "env.example",
        TWINGATE_HTTP_TIMEOUT = "3", TWINGATE_HTTP_MAX_RETRY = "4", TWINGATE_DRY_RUN = "1",
        TWINGATE_LOG_FORMAT = "json", TWINGATE_RATE_LIMIT = "off", TWINGATE_PAGE_SIZE = "10" }
      local s = settings({}, { env = env })
      assert.are.equal("https://envnet.env.example/api/graphql/", s.endpoint)
      assert.are.equal(3, s.timeout)
      assert.are.equal(4, s.max_retries)
      assert.is_true(s.dry_run)
      assert.are.equal("json", s.log_format)
      assert.is_nil(s.reads_per_minute)
      assert.are.equal(10, s.page_size)
      s = settings({ "--network", "flagnet", "--timeout", "9", "--max-retries", "0",
        "--log-format", "text", "--rate-limit", "6:2", "--page-size", "50" }, { env = env })
      assert.are.equal("https://flagnet.env.example/api/graphql/", s.endpoint)
      assert.are.equal(9, s.timeout)
      assert.are.equal(0, s.max_retries)
      assert.are.equal("text", s.log_format)
      assert.are.equal(6, s.reads_per_minute)
      assert.are.equal(50, s.page_size)
    end)

    it("takes TWINGATE_ENDPOINT over TWINGATE_NETWORK", function()
      local s = settings({}, { env = { TWINGATE_NETWORK = "acme",
        TWINGATE_ENDPOINT = "http://127.0.0.1:9/api/graphql/" } })
      assert.are.equal("http://127.0.0.1:9/api/graphql/", s.endpoint)
    end)

    it("reads the token from the environment", function()
      local s = settings({}, { env = { TWINGATE_API_TOKEN = "tok-env-1234",
        EXPECT_TOKEN = "tok-env-1234" } })
      assert.is_true(s.token_is)
      assert.are.equal("TWINGATE_API_TOKEN", s.api_token_source)
    end)

    it("reads the token file from the flag over the environment", function()
      local path = write_file(dir .. "/token", "tok-file-5678\n")
      os.execute("chmod 600 " .. quote(path))
      local s, err = settings({ "--api-token-file", path }, { env = {
        TWINGATE_API_TOKEN = "tok-env-1234", EXPECT_TOKEN = "tok-file-5678" } })
      assert.is_true(s.token_is)
      assert.are.equal("", err)
      s = settings({}, { env = { TWINGATE_API_TOKEN_FILE = path, EXPECT_TOKEN = "tok-file-5678" } })
      assert.is_true(s.token_is)
    end)

    it("warns when the token file is readable by others", function()
      local path = write_file(dir .. "/open-token", "tok-open-2468\n")
      os.execute("chmod 644 " .. quote(path))
      local code, _, err = run({ "--api-token-file", path, "-e", "" })
      assert.are.equal(0, code)
      assert.matches("warn: .*readable by others %(mode 0644%)", err)
      assert.is_nil(err:find("tok-open-2468", 1, true))
    end)

    it("exits 2 for an empty or missing token file", function()
      local empty = write_file(dir .. "/empty-token", "\n")
      local code, _, err = run({ "--api-token-file", empty, "-e", "print('ran')" })
      assert.are.equal(2, code)
      assert.matches("is empty", err)
      code, _, err = run({ "--api-token-file", dir .. "/nope", "-e", "print('ran')" })
      assert.are.equal(2, code)
      assert.is_truthy(err:find(dir .. "/nope", 1, true))
    end)
  end)

  describe("scripts", function()
    it("runs -e code with arguments in ... and arg", function()
      local code, out = run{ "-e", "print(select('#', ...), table.concat({...}, '|'), arg[0], arg[1], arg[2])", "a", "b c" }
      assert.are.equal(0, code)
      assert.are.equal("2\ta|b c\t-e\ta\tb c\n", out)
    end)

    it("runs a file with arguments, and options after the script go to the script", function()
      local path = write_file(dir .. "/args.lua", "#!/usr/bin/env twingate-lua\n"
        .. "print(arg[0], arg[-1], arg[1], arg[2], ...)\nreturn 0\n")
      local code, out = run{ "-q", path, "--network", "x" }
      assert.are.equal(0, code)
      assert.are.equal(path .. "\t-q\t--network\tx\t--network\tx\n", out)
    end)

    it("ends options at --", function()
      local path = write_file(dir .. "/-dash.lua", "print('dash', ...)")
      local code, out = run({ "--", "-dash.lua", "-v" }, { cwd = dir })
      assert.are.equal(0, code)
      assert.are.equal("dash\t-v\n", out)
    end)

    it("reads the script from stdin with -", function()
      local code, out = run({ "-", "one" }, { stdin = "print('stdin', arg[0], ...)\nreturn 4\n" })
      assert.are.equal(4, code)
      assert.are.equal("stdin\t-\tone\n", out)
    end)

    it("exits with the integer the script returns or gives os.exit", function()
      assert.are.equal(3, (run{ "-e", "return 3" }))
      assert.are.equal(0, (run{ "-e", "return true" }))
      local code, out = run{ "-e", "io.write('before') os.exit(6)" }
      assert.are.equal(6, code)
      assert.are.equal("before", out)
      assert.are.equal(0, (run{ "-e", "os.exit(true)" }))
      assert.are.equal(1, (run{ "-e", "os.exit(false)" }))
    end)

    it("exits 2 with a clear message for a missing script", function()
      local code, out, err = run{ dir .. "/missing.lua" }
      assert.are.equal(2, code)
      assert.are.equal("", out)
      assert.are.equal("twingate-lua: cannot open script " .. dir
        .. "/missing.lua: No such file or directory\n", err)
    end)

    it("exits 1 with one line for a syntax error", function()
      local path = write_file(dir .. "/bad.lua", "local = 1\n")
      local code, _, err = run{ path }
      assert.are.equal(1, code)
      assert.matches("^twingate%-lua: " .. path:gsub("%p", "%%%0") .. ":1: ", err)
    end)

    it("prints one line for an uncaught error and a traceback only with -v", function()
      local path = write_file(dir .. "/fail.lua", "local function f() error('broken here') end\nf()\n")
      local code, out, err = run{ path }
      assert.are.equal(1, code)
      assert.are.equal("", out)
      assert.are.equal("twingate-lua: " .. path .. ":1: broken here\n", err)
      code, _, err = run{ "-v", path }
      assert.are.equal(1, code)
      assert.matches("stack traceback:", err, 1, true)
      assert.matches("in local 'f'", err, 1, true)
    end)

    it("exits with the code of the error kind", function()
      local cases = { auth = 4, transport = 5, rate_limited = 5, graphql = 1, config = 2,
        invalid_argument = 2 }
      for kind, want in pairs(cases) do
        local code, _, err = run{ "-e",
          "require('twingate.errors').raise('" .. kind .. "', 'it went wrong')" }
        assert.are.equal(want, code, kind)
        assert.are.equal("twingate-lua: twingate: " .. kind .. ": it went wrong\n", err)
      end
    end)

    it("never prints the token, even with -vv and JSON logs", function()
      local secret = "tok-never-shown-7777"
      for _, args in ipairs{ { "-vv" }, { "-vv", "--log-format", "json" } } do
        local a = { table.unpack(args) }
        a[#a + 1] = "-e"
        a[#a + 1] = "require('twingate.log').info('token ' .. os.getenv('TWINGATE_API_TOKEN'))"
          .. " error('token ' .. os.getenv('TWINGATE_API_TOKEN'))"
        local code, out, err = run(a, { env = { TWINGATE_API_TOKEN = secret } })
        assert.are.equal(1, code)
        assert.is_nil((out .. err):find(secret, 1, true))
        assert.matches("[REDACTED]", err, 1, true)
      end
    end)
  end)

  describe("logging", function()
    local chunk = "local log = require('twingate.log') log.debug('dbg') log.info('inf') log.warn('wrn')"

    it("logs info and above by default, on stderr", function()
      local code, out, err = run{ "-e", chunk }
      assert.are.equal(0, code)
      assert.are.equal("", out)
      assert.is_nil(err:find("dbg", 1, true))
      assert.matches("inf", err, 1, true)
    end)

    it("logs debug with -v and only warnings with -q", function()
      local _, _, err = run{ "-v", "-e", chunk }
      assert.matches("dbg", err, 1, true)
      _, _, err = run{ "-q", "-e", chunk }
      assert.is_nil(err:find("inf", 1, true))
      assert.matches("wrn", err, 1, true)
    end)

    it("writes JSON lines with --log-format json", function()
      local _, _, err = run{ "--log-format", "json", "-e", chunk }
      local n = 0
      for line in err:gmatch("[^\n]+") do
        local rec = cjson.decode(line)
        assert.is_string(rec.level)
        n = n + 1
      end
      assert.are.equal(2, n)
    end)
  end)

  describe("embedding", function()
    it("preloads cjson, cjson.safe and the C modules", function()
      local code, out, err = run{ "-e", [[
        print(require('cjson').encode({1}), require('cjson.safe').decode('[') == nil,
          type(require('twingate.sys').now()), type(require('twingate.transport').new))
      ]] }
      assert.are.equal(0, code, err)
      assert.are.equal("[1]\ttrue\tnumber\tfunction\n", out)
    end)

    it("names embedded files in tracebacks", function()
      local _, _, err = run{ "-v", "-e", "require('twingate.errors').raise('auth', 'x')" }
      assert.matches("lua/twingate/errors.lua:%d+:", err)
    end)

    it("does not load modules from the current directory or C modules from disk", function()
      write_file(dir .. "/evil.lua", "return 'loaded'")
      local code, out = run({ "-e", [[
        print(pcall(require, 'evil'), package.cpath == '', #package.searchers)
      ]] }, { cwd = dir })
      assert.are.equal(0, code)
      assert.matches("^false\t", out)
      assert.matches("\ttrue\t2\n$", out)
    end)

    it("loads modules from TWINGATE_LUA_DIR first", function()
      os.execute("mkdir -p " .. quote(dir .. "/lua/twingate"))
      write_file(dir .. "/lua/twingate/csv.lua", "return 'csv from disk'")
      write_file(dir .. "/lua/twingate/devonly.lua", "return 'dev only'")
      local code, out, err = run({ "-e", [[
        print((require('twingate.csv')), (require('twingate.devonly')))
      ]] }, { env = { TWINGATE_LUA_DIR = dir .. "/lua" } })
      assert.are.equal(0, code, err)
      assert.are.equal("csv from disk\tdev only\n", out)
    end)
  end)
end)

describe("twingate-lua signals #integration", function()
  it("stops a busy script on SIGINT/SIGTERM with a message and exit 130/143", function()
    for _, case in ipairs{ { "INT", 130, "SIGINT" }, { "TERM", 143, "SIGTERM" } } do
      local err, codefile, pidfile = os.tmpname(), os.tmpname(), os.tmpname()
      os.execute("(env --default-signal=INT " .. quote(BIN) .. " -e 'io.stdout:write(\"started\\n\") while true do end'"
        .. " </dev/null >/dev/null 2>" .. err .. " & echo $! > " .. pidfile .. "; wait $!; echo $? > " .. codefile .. ") &")
      os.execute("sleep 0.5")
      local pid = assert(tonumber((slurp(pidfile):match("%d+"))))
      os.execute("kill -" .. case[1] .. " " .. pid)
      local code
      for _ = 1, 100 do
        code = tonumber((slurp(codefile):match("%d+")))
        if code then break end
        os.execute("sleep 0.05")
      end
      local text = slurp(err)
      for _, x in ipairs{ err, codefile, pidfile } do os.remove(x) end
      assert.are.equal(case[2], code, text)
      assert.are.equal("twingate-lua: interrupted (" .. case[3] .. ")\n", text)
    end
  end)
end)
