-- The C transport (twingate.transport), exercised through the built binary
-- with -e chunks against spec/integration/http_server.mjs.
local cjson = require "cjson"
local cli = require "spec.support.cli"

-- Run `code` in the binary (no API token in its environment); returns exit code, stdout, stderr.
local function run_lua(code)
  return cli.run({ "-e", code }, { unset = { "TWINGATE_API_TOKEN", "TWINGATE_API_TOKEN_FILE" } })
end

-- Run `body` with `transport`, `base` (the server URL) and `out(value)` (prints JSON).
local function run_transport(base, body)
  local code = "local transport = require 'twingate.transport'\n"
    .. "local cjson = require 'cjson'\n"
    .. "local base = " .. string.format("%q", base) .. "\n"
    .. "local function out(v) io.write(cjson.encode(v), '\\n') end\n"
    .. body
  local status, out, err = run_lua(code)
  assert(status == 0, "exit " .. tostring(status) .. ": " .. err)
  local values = {}
  for line in out:gmatch("[^\n]+") do values[#values + 1] = cjson.decode(line) end
  return values, err
end

describe("twingate.transport #integration", function()
  local server, base, pid

  setup(function()
    server = assert(io.popen("exec node spec/integration/http_server.mjs", "r"))
    base = assert(server:read("l"), "server printed no URL")
    pid = assert(tonumber(server:read("l")), "server printed no pid")
  end)

  teardown(function()
    if pid then os.execute("kill " .. pid) end
    if server then server:close() end
  end)

  describe("new()", function()
    it("exposes the libcurl version", function()
      local v = run_transport(base, "out{ version = transport.version }")
      assert.matches("^libcurl/", v[1].version)
    end)
  end)

  describe("request()", function()
    it("returns status, lower-cased headers, body, url and time", function()
      local v = run_transport(base, [[
        local h = transport.new{ user_agent = "spec-agent/1" }
        local res = h:request{ url = base .. "echo", headers = { ["X-Test"] = "yes" } }
        out{ status = res.status, ctype = res.headers["content-type"], body = res.body,
             url = res.url, time_ok = type(res.time) == "number" }
      ]])
      local r = v[1]
      assert.are.equal(200, r.status)
      assert.are.equal("application/json", r.ctype)
      assert.are.equal(base .. "echo", r.url)
      assert.is_true(r.time_ok)
      local echo = cjson.decode(r.body)
      assert.are.equal("GET", echo.method)
      assert.are.equal("yes", echo.headers["x-test"])
      assert.are.equal("spec-agent/1", echo.headers["user-agent"])
    end)

    it("sends a POST with its body and headers when a body is given", function()
      local v = run_transport(base, [[
        local h = transport.new{}
        local res = h:request{ url = base .. "echo", body = string.rep("b", 5000),
          headers = { ["Content-Type"] = "application/json" } }
        out(res)
      ]])
      local echo = cjson.decode(v[1].body)
      assert.are.equal("POST", echo.method)
      assert.are.equal(5000, #echo.body)
      assert.are.equal("application/json", echo.headers["content-type"])
      assert.is_nil(echo.headers["expect"])
      assert.matches("^twingate%-lua/", echo.headers["user-agent"])
    end)

    it("reuses one connection for several requests (keep-alive)", function()
      local v = run_transport(base, [[
        local h = transport.new{}
        local before = require("cjson").decode(h:request{ url = base .. "stats" }.body)
        for _ = 1, 5 do h:request{ url = base .. "echo", body = "{}" } end
        local after = require("cjson").decode(h:request{ url = base .. "stats" }.body)
        out{ new_connections = after.connections - before.connections }
        h:close()
      ]])
      assert.are.equal(0, v[1].new_connections)
    end)

    it("opens a new connection for a request with fresh_connect (writes)", function()
      local v = run_transport(base, [[
        local h = transport.new{}
        local before = require("cjson").decode(h:request{ url = base .. "stats" }.body)
        for _ = 1, 3 do h:request{ url = base .. "echo", body = "{}", fresh_connect = true } end
        local after = require("cjson").decode(h:request{ url = base .. "stats" }.body)
        out{ new_connections = after.connections - before.connections }
        h:close()
      ]])
      -- three fresh writes; the last read may reuse the third write's connection
      assert.is_true(v[1].new_connections >= 3)
    end)

    it("returns a redirect unfollowed by default, so no header goes to another host", function()
      local v = run_transport(base, [[
        local h = transport.new{}
        local before = require("cjson").decode(h:request{ url = base .. "stats" }.body)
        local res = h:request{ url = base .. "to?code=307&url=" .. base .. "echo", body = "{}",
          headers = { ["X-API-KEY"] = "k" } }
        local after = require("cjson").decode(h:request{ url = base .. "stats" }.body)
        out{ status = res.status, location = res.headers.location, url = res.url,
             requests = after.requests - before.requests }
      ]])
      assert.are.equal(307, v[1].status)
      assert.are.equal(base .. "echo", v[1].location)
      assert.matches("/to%?code=307", v[1].url)
      assert.are.equal(2, v[1].requests) -- the redirect and the second /stats, no /echo
    end)

    it("follows a 308 redirect of a POST as a POST with its body", function()
      local v = run_transport(base, [[
        local h = transport.new{ max_redirects = 5 }
        local res = h:request{ url = base .. "redirect/308", method = "POST", body = '{"q":1}' }
        out(res)
      ]])
      assert.are.equal(200, v[1].status)
      assert.matches("/echo%?redirected=1$", v[1].url)
      local echo = cjson.decode(v[1].body)
      assert.are.equal("POST", echo.method)
      assert.are.equal('{"q":1}', echo.body)
    end)

    it("keeps a POST a POST on a 301 redirect too", function()
      local v = run_transport(base, [[
        out(transport.new{ max_redirects = 5 }:request{ url = base .. "redirect/301", body = "x=1" })
      ]])
      local echo = cjson.decode(v[1].body)
      assert.are.equal("POST", echo.method)
      assert.are.equal("x=1", echo.body)
    end)

    it("asks for compression and decodes a gzip body", function()
      local v = run_transport(base, [[
        local res = transport.new{}:request{ url = base .. "gzip" }
        out{ enc = res.headers["content-encoding"], body = res.body }
      ]])
      assert.are.equal("gzip", v[1].enc)
      local body = cjson.decode(v[1].body)
      assert.is_true(body.compressed)
      assert.are.equal(2000, #body.filler)
    end)

    it("stops a body that decompresses past max_body, with sent = true", function()
      local v = run_transport(base, [[
        local h = transport.new{ max_body = 1024 * 1024 }
        local res, code, msg, sent = h:request{ url = base .. "bomb?mb=20" }
        local ok = h:request{ url = base .. "big?kb=512" }
        local res2, code2, msg2 = h:request{ url = base .. "big?kb=64", max_body = 1000 }
        out{ res = res == nil, code = code, msg = msg, sent = sent, after = ok.status,
             after_len = #ok.body, res2 = res2 == nil, msg2 = msg2 }
      ]])
      assert.is_true(v[1].res)
      assert.are.equal(23, v[1].code) -- CURLE_WRITE_ERROR
      assert.are.equal("response larger than 1048576 bytes", v[1].msg)
      assert.is_true(v[1].sent)
      assert.are.equal(200, v[1].after)
      assert.are.equal(512 * 1024, v[1].after_len)
      assert.is_true(v[1].res2)
      assert.are.equal("response larger than 1000 bytes", v[1].msg2)
    end)

    it("collects response headers, joining repeated ones", function()
      local v = run_transport(base, [[
        out(transport.new{}:request{ url = base .. "headers" }.headers)
      ]])
      assert.are.equal("req-123", v[1]["x-request-id"])
      assert.are.equal("Value With Spaces", v[1]["x-mixed-case"])
      assert.are.equal("7", v[1]["retry-after"])
      assert.are.equal("a=1, b=2", v[1]["set-cookie"])
    end)

    it("returns non-2xx statuses as responses, not failures", function()
      local v = run_transport(base, [[
        local res = transport.new{}:request{ url = base .. "status/503", body = "{}" }
        out{ status = res.status }
      ]])
      assert.are.equal(503, v[1].status)
    end)

    it("times out a slow response, with sent = true", function()
      local v = run_transport(base, [[
        local t0 = require("twingate.sys").now()
        local res, code, msg, sent = transport.new{ timeout = 5 }:request{
          url = base .. "slow?ms=3000", body = "{}", timeout = 0.3 }
        out{ res = res == nil, code = code, msg = msg, sent = sent,
             elapsed = require("twingate.sys").now() - t0 }
      ]])
      assert.is_true(v[1].res)
      assert.are.equal(28, v[1].code) -- CURLE_OPERATION_TIMEDOUT
      assert.is_true(v[1].sent)
      assert.is_true(v[1].elapsed < 2, "took " .. v[1].elapsed)
    end)

    it("uses the handle's default timeout when the request gives none", function()
      local v = run_transport(base, [[
        local _, code = transport.new{ timeout = 0.3 }:request{ url = base .. "slow?ms=3000" }
        out{ code = code }
      ]])
      assert.are.equal(28, v[1].code)
    end)

    it("reports a refused connection with sent = false", function()
      local v = run_transport(base, [[
        local res, code, msg, sent = transport.new{}:request{
          url = "http://127.0.0.1:1/api/graphql/", body = "{}" }
        out{ res = res == nil, code = code, msg = msg, sent = sent }
      ]])
      assert.is_true(v[1].res)
      assert.are.equal(7, v[1].code) -- CURLE_COULDNT_CONNECT
      assert.is_string(v[1].msg)
      assert.is_false(v[1].sent)
    end)

    it("reports an unresolvable host with sent = false", function()
      local v = run_transport(base, [[
        local res, code, msg, sent = transport.new{ connect_timeout = 5 }:request{
          url = "http://nonexistent.invalid/api/graphql/", body = "{}" }
        out{ code = code, sent = sent }
      ]])
      assert.are.equal(6, v[1].code) -- CURLE_COULDNT_RESOLVE_HOST
      assert.is_false(v[1].sent)
    end)

    it("reports a connection dropped after the request with sent = true", function()
      local v = run_transport(base, [[
        local res, code, msg, sent = transport.new{}:request{ url = base .. "drop", body = "{}" }
        out{ res = res == nil, code = code, sent = sent }
      ]])
      assert.is_true(v[1].res)
      assert.are.equal(52, v[1].code) -- CURLE_GOT_NOTHING
      assert.is_true(v[1].sent)
    end)

    it("never returns the X-API-KEY value in a result or message", function()
      local v = run_transport(base, [[
        local h = transport.new{}
        local res = h:request{ url = base .. "headers", headers = { ["X-API-KEY"] = "key-abc-123" } }
        local _, _, msg = h:request{ url = "http://127.0.0.1:1/", headers = { ["X-API-KEY"] = "key-abc-123" } }
        local ok, err = pcall(h.request, h, { url = base, headers = { ["X-API-KEY"] = "key\nabc-123" } })
        out{ res = res, msg = msg, err = tostring(err), ok = ok }
      ]])
      assert.is_false(v[1].ok)
      assert.matches("invalid header", v[1].err)
      assert.is_nil(cjson.encode(v[1]):find("abc-123", 1, true))
    end)

    it("raises on bad arguments instead of returning", function()
      local v = run_transport(base, [[
        local h = transport.new{}
        local ok1, e1 = pcall(h.request, h, {})
        local ok2, e2 = pcall(h.request, h, { url = base, body = {} })
        local ok3, e3 = pcall(transport.new, { timeout = "soon" })
        out{ ok1, tostring(e1), ok2, tostring(e2), ok3, tostring(e3) }
      ]])
      assert.is_false(v[1][1])
      assert.is_false(v[1][3])
      assert.matches("body", v[1][4])
      assert.is_false(v[1][5])
      assert.matches("timeout", v[1][6])
    end)
  end)

  describe("with twingate.http", function()
    it("refuses a redirect to another host: no request with the key arrives there", function()
      local v = run_transport(base, [[
        local http = require "twingate.http"
        local h = transport.new{}
        local function count() return require("cjson").decode(h:request{ url = base .. "stats" }.body).requests end
        local other = base:gsub("127%.0%.0%.1", "localhost")
        local api = http.new{ transport = h, api_token = "tok-redirect-spec",
          endpoint = base .. "to?code=307&url=" .. other .. "echo", dry_run = false }
        local before = count()
        local ok, err = pcall(api.post, api, "query Q { a }")
        local refused = { ok = ok, kind = err.kind, msg = err.message, sent = count() - before }
        local api2 = http.new{ transport = h, api_token = "tok-redirect-spec",
          endpoint = base .. "to?code=308&url=/echo", dry_run = false }
        local ok2, err2 = pcall(api2.post, api2, "query Q { a }")
        out{ refused = refused, same_ok = ok2, same_msg = tostring(err2) }
      ]])
      assert.is_false(v[1].refused.ok)
      assert.are.equal("http", v[1].refused.kind)
      assert.matches("refused to follow the redirect to localhost", v[1].refused.msg, 1, true)
      assert.are.equal(2, v[1].refused.sent) -- the redirect and the second /stats, no /echo
      -- to the same host it is followed: /echo answers (its echo is no GraphQL data)
      assert.matches("without data", v[1].same_msg, 1, true)
    end)
  end)

  describe("argument checks", function()
    it("rejects NaN, infinite and out-of-range timeouts", function()
      local v = run_transport(base, [[
        local r = {}
        for _, o in ipairs{ { timeout = 0/0 }, { connect_timeout = 0/0 }, { timeout = 1/0 },
                            { timeout = -1 }, { connect_timeout = 1e300 }, { max_body = 0 },
                            { max_redirects = -1 }, { max_redirects = 0/0 } } do
          local ok, e = pcall(transport.new, o)
          r[#r + 1] = { ok = ok, err = tostring(e) }
        end
        local h = transport.new{}
        local ok, e = pcall(h.request, h, { url = base .. "echo", timeout = 0/0 })
        r[#r + 1] = { ok = ok, err = tostring(e) }
        out(r)
      ]])
      for i, r in ipairs(v[1]) do
        assert.is_false(r.ok, "case " .. i)
        assert.matches("bad argument", r.err, 1, true)
      end
      assert.matches("'timeout' must be", v[1][1].err, 1, true)
      assert.matches("'connect_timeout' must be", v[1][2].err, 1, true)
    end)

    it("refuses methods with CR, LF, NUL, spaces or separators", function()
      local v = run_transport(base, [[
        local h = transport.new{}
        local r = {}
        for _, m in ipairs{ "DELETE\r\nX: y", "GET\0", "GE T", "", "A(B" } do
          local ok, e = pcall(h.request, h, { url = base .. "echo", method = m, body = "{}" })
          r[#r + 1] = { ok = ok, err = tostring(e) }
        end
        local res = h:request{ url = base .. "echo", method = "PATCH", body = "{}" }
        out{ r = r, patch = require("cjson").decode(res.body).method }
      ]])
      for i, r in ipairs(v[1].r) do
        assert.is_false(r.ok, "case " .. i)
        assert.matches("'method' must be an HTTP token", r.err, 1, true)
      end
      assert.are.equal("PATCH", v[1].patch)
    end)

    it("refuses a URL or user agent with a NUL byte instead of cutting it", function()
      local v = run_transport(base, [[
        local h = transport.new{}
        local ok1, e1 = pcall(h.request, h, { url = base .. "echo\0.evil.example" })
        local ok2, e2 = pcall(transport.new, { user_agent = "a\0b" })
        out{ ok1, tostring(e1), ok2, tostring(e2) }
      ]])
      assert.is_false(v[1][1])
      assert.matches("'url' must not contain a NUL byte", v[1][2], 1, true)
      assert.is_false(v[1][3])
      assert.matches("NUL", v[1][4], 1, true)
    end)

    it("sys.file_mode refuses a path with a NUL byte", function()
      local v = run_transport(base, [[
        local sys = require "twingate.sys"
        local ok, e = pcall(sys.file_mode, "/etc/passwd\0/nothing")
        out{ ok = ok, err = tostring(e), mode = sys.file_mode("/etc/passwd") }
      ]])
      assert.is_false(v[1].ok)
      assert.matches("NUL", v[1].err, 1, true)
      assert.is_number(v[1].mode)
    end)
  end)

  describe("close()", function()
    it("is idempotent and makes later use raise", function()
      local v = run_transport(base, [[
        local h = transport.new{}
        h:close()
        h:close()
        local ok, err = pcall(h.request, h, { url = base .. "echo" })
        out{ ok = ok, err = tostring(err), str = tostring(h) }
      ]])
      assert.is_false(v[1].ok)
      assert.matches("closed transport", v[1].err)
      assert.matches("closed", v[1].str)
    end)

    it("runs from a to-be-closed variable and from the garbage collector", function()
      local v = run_transport(base, [[
        local escaped
        do
          local h <close> = transport.new{}
          h:request{ url = base .. "echo" }
          escaped = h
        end
        local ok = pcall(escaped.request, escaped, { url = base .. "echo" })
        for _ = 1, 50 do transport.new{} end
        collectgarbage()
        out{ ok = ok }
      ]])
      assert.is_false(v[1].ok)
    end)
  end)
end)
