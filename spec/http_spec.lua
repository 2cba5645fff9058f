local http = require "twingate.http"
local json = require "twingate.json"
local log = require "twingate.log"
local errors = require "twingate.errors"
local buffer = require("spec.support.fake").buffer

local TOKEN = "tg-http-spec-T0ken/abc+xyz=="
local ENDPOINT = "https://acme.twingate.com/api/graphql/"

-- A fake transport: replies from a script of responses, records requests.
-- Each reply is either a response table or { fail = msg, code = n, sent = bool }.
local function fake_transport(replies)
  local t = { requests = {}, replies = replies or {}, closed = false }
  function t:request(req)
    self.requests[#self.requests + 1] = req
    local r = table.remove(self.replies, 1)
    assert(r, "fake transport: no reply scripted for request " .. #self.requests)
    if r.fail then return nil, r.code or 7, r.fail, r.sent end
    return r
  end
  function t:close() self.closed = true end
  return t
end

local function ok_reply(data, headers)
  return { status = 200, headers = headers or { ["content-type"] = "application/json" },
    body = json.encode({ data = data }) }
end

local function reply(status, body, headers)
  headers = headers or {}
  if headers["content-type"] == nil then headers["content-type"] = "application/json" end
  return { status = status, headers = headers, body = type(body) == "table" and json.encode(body)
    or body }
end

local function fake_clock()
  local c = { t = 0, sleeps = {} }
  c.now = function() return c.t end
  c.sleep = function(s)
    c.sleeps[#c.sleeps + 1] = s
    c.t = c.t + s
  end
  return c
end

local function sum(list)
  local s = 0
  for _, v in ipairs(list) do s = s + v end
  return s
end

describe("twingate.http", function()
  local clock, transport, saved_log, logbuf

  local function api_with(replies, opts)
    transport = fake_transport(replies)
    local o = { transport = transport, endpoint = ENDPOINT, api_token = TOKEN,
      now = clock.now, sleep = clock.sleep, random = function() return 0.5 end }
    for k, v in pairs(opts or {}) do o[k] = v end
    return http.new(o)
  end

  local function post_err(api, doc, vars, opts)
    local ok, err = pcall(api.post, api, doc or "query Groups { groups { totalCount } }", vars,
      opts or { operation = "Groups" })
    assert.is_false(ok, "expected post to raise")
    assert.is_true(errors.is(err), "expected an error object, got " .. tostring(err))
    return err
  end

  before_each(function()
    clock = fake_clock()
    saved_log = log.settings()
    logbuf = buffer()
    log.configure{ level = "debug", format = "text", stream = logbuf }
  end)

  after_each(function()
    log.configure{ level = saved_log.level, format = saved_log.format, stream = saved_log.stream }
  end)

  describe("new()", function()
    it("raises a config error naming the variables when the token is missing", function()
      local ok, err = pcall(http.new, { transport = fake_transport(), endpoint = ENDPOINT })
      assert.is_false(ok)
      assert.are.equal("config", err.kind)
      assert.truthy(err.message:find("TWINGATE_API_TOKEN", 1, true))
    end)

    it("raises a config error when the endpoint is missing", function()
      local ok, err = pcall(http.new, { transport = fake_transport(), api_token = TOKEN })
      assert.is_false(ok)
      assert.are.equal("config", err.kind)
      assert.truthy(err.message:find("TWINGATE_NETWORK", 1, true))
    end)

    it("raises invalid_argument without a transport", function()
      local ok, err = pcall(http.new, { endpoint = ENDPOINT, api_token = TOKEN })
      assert.is_false(ok)
      assert.are.equal("invalid_argument", err.kind)
    end)

    it("does not keep the token in a printable field", function()
      local api = api_with({})
      for k, v in pairs(api) do
        assert.are_not.equal(TOKEN, v, "token found in field " .. tostring(k))
      end
    end)
  end)

  describe("post()", function()
    it("sends a POST with JSON query, variables and operationName and returns data", function()
      local api = api_with({ ok_reply({ group = { id = "R3JvdXA6MQ==", name = "Ops" } }) },
        { timeout = 12 })
      local doc = "query GroupGet($id: ID!) { group(id: $id) { id name } }"
      local data = api:post(doc, { id = "R3JvdXA6MQ==" }, { operation = "GroupGet" })
      assert.are.equal("Ops", data.group.name)
      local req = transport.requests[1]
      assert.are.equal(ENDPOINT, req.url)
      assert.are.equal("POST", req.method)
      assert.are.equal(12, req.timeout)
      assert.are.equal("application/json", req.headers["Content-Type"])
      assert.are.equal("application/json", req.headers["Accept"])
      assert.are.equal(TOKEN, req.headers["X-API-KEY"])
      local body = json.decode(req.body)
      assert.are.equal(doc, body.query)
      assert.are.same({ id = "R3JvdXA6MQ==" }, body.variables)
      assert.are.equal("GroupGet", body.operationName)
    end)

    it("sends writes on a fresh connection and reads on the kept-alive one", function()
      local api = api_with({ ok_reply({ groups = { totalCount = 1 } }),
        ok_reply({ groupDelete = { ok = true } }) })
      api:post("query Groups { groups { totalCount } }", nil, { operation = "Groups" })
      api:post("mutation D($id: ID!) { groupDelete(id: $id) { ok } }", { id = "x" },
        { write = true, operation = "D" })
      assert.is_false(transport.requests[1].fresh_connect)
      assert.is_true(transport.requests[2].fresh_connect)
    end)

    it("paces within the configured window", function()
      local replies = {}
      for i = 1, 3 do replies[i] = ok_reply({ groups = { totalCount = i } }) end
      local api = api_with(replies, { reads_per_minute = 2, rate_window = 3 })
      for _ = 1, 3 do api:post("query Groups { groups { totalCount } }", nil, { operation = "Groups" }) end
      assert.are.equal(3, sum(clock.sleeps))
    end)

    it("omits operationName when the document does not define that operation", function()
      local api = api_with({ ok_reply({ a = 1 }) })
      api:post("{ groups { totalCount } }", nil, { operation = "groups" })
      local body = json.decode(transport.requests[1].body)
      assert.is_nil(body.operationName)
      assert.is_nil(body.variables)
    end)

    it("sends explicit nulls and empty arrays in variables", function()
      local api = api_with({ ok_reply({ ok = true }) })
      api:post("mutation M($a: String, $ids: [ID]) { x }",
        { a = json.null, ids = json.array() }, { write = true, operation = "M" })
      local raw = transport.requests[1].body
      assert.truthy(raw:find('"a":null', 1, true))
      assert.truthy(raw:find('"ids":[]', 1, true))
    end)

    it("sends unicode values as they are", function()
      local api = api_with({ ok_reply({ ok = true }) })
      local name = "Équipe «Zoë» 😀, \"quoted\""
      api:post("mutation M($n: String!) { x }", { n = name }, { write = true })
      assert.are.equal(name, json.decode(transport.requests[1].body).variables.n)
    end)

    describe("on a transport failure", function()
      it("retries a read with backoff and returns the data", function()
        local api = api_with({ { fail = "Connection refused", code = 7, sent = false },
          { fail = "Operation timed out", code = 28, sent = true }, ok_reply({ a = 1 }) })
        assert.are.equal(1, api:post("query Q { a }", nil, { operation = "Q" }).a)
        assert.are.equal(3, #transport.requests)
        -- full jitter with random() = 0.5: half of 0.5 then half of 1.0
        assert.are.same({ 0.25, 0.5 }, clock.sleeps)
        assert.are.equal(2, api.stats.retries)
        assert.are.equal(0.75, api.stats.waited)
      end)

      it("raises a transport error with the curl code after max_retries", function()
        local replies = {}
        for i = 1, 4 do replies[i] = { fail = "Could not resolve host", code = 6, sent = false } end
        local api = api_with(replies, { max_retries = 3 })
        local err = post_err(api)
        assert.are.equal("transport", err.kind)
        assert.are.equal(6, err.code)
        assert.are.equal("Groups", err.operation)
        assert.are.equal(4, err.attempts)
        assert.are.equal(4, #transport.requests)
        assert.truthy(err.message:find("acme.twingate.com", 1, true))
      end)

      it("bounds the backoff by the cap", function()
        local replies = {}
        for i = 1, 11 do replies[i] = { fail = "timeout", code = 28, sent = true } end
        local api = api_with(replies, { max_retries = 10, random = function() return 0.999999 end })
        post_err(api)
        assert.are.equal(10, #clock.sleeps)
        for i, s in ipairs(clock.sleeps) do
          assert.is_true(s <= 30, "sleep " .. i .. " was " .. s)
          assert.is_true(s >= 0)
        end
        -- exponential up to the cap: ~0.5, 1, 2, 4, 8, 16, then 30 each
        assert.is_true(math.abs(clock.sleeps[1] - 0.5) < 0.01)
        assert.is_true(math.abs(clock.sleeps[6] - 16) < 0.01)
        assert.is_true(math.abs(clock.sleeps[10] - 30) < 0.01)
      end)

      it("does not retry a write whose request may have been sent", function()
        local api = api_with({ { fail = "Operation timed out", code = 28, sent = true } })
        local err = post_err(api, "mutation GroupUpdate { x }", nil,
          { write = true, operation = "GroupUpdate" })
        assert.are.equal("transport", err.kind)
        assert.is_true(err.maybe_applied)
        assert.are.equal(1, #transport.requests)
        assert.are.equal(28, err.code)
      end)

      it("retries a write that provably was not sent", function()
        local api = api_with({ { fail = "Connection refused", code = 7, sent = false },
          ok_reply({ groupUpdate = { ok = true } }) })
        local data = api:post("mutation GroupUpdate { x }", nil,
          { write = true, operation = "GroupUpdate" })
        assert.is_true(data.groupUpdate.ok)
        assert.are.equal(2, #transport.requests)
        assert.are.equal(2, api.stats.writes)
      end)

      it("says maybe_applied = false when an unsent write runs out of retries", function()
        local api = api_with({ { fail = "refused", code = 7, sent = false },
          { fail = "refused", code = 7, sent = false } }, { max_retries = 1 })
        local err = post_err(api, "mutation M { x }", nil, { write = true, operation = "M" })
        assert.is_false(err.maybe_applied)
      end)
    end)

    describe("on 401/403", function()
      for _, status in ipairs({ 401, 403 }) do
        it("raises auth with a hint and no retry (" .. status .. ")", function()
          local api = api_with({ reply(status, { error = "invalid token" },
            { ["x-request-id"] = "req-1" }) })
          local err = post_err(api)
          assert.are.equal("auth", err.kind)
          assert.are.equal(status, err.status)
          assert.are.equal("req-1", err.request_id)
          assert.are.equal("Groups", err.operation)
          assert.truthy(err.hint:find("TWINGATE_API_TOKEN", 1, true))
          assert.are.equal(1, #transport.requests)
          assert.is_nil(tostring(err):find(TOKEN, 1, true))
          assert.are.equal(4, errors.exit_code(err))
        end)
      end
    end)

    describe("on a wrong network", function()
      it("raises http with a hint on 404", function()
        local api = api_with({ reply(404, "<html>Not Found</html>",
          { ["content-type"] = "text/html" }) })
        local err = post_err(api)
        assert.are.equal("http", err.kind)
        assert.are.equal(404, err.status)
        assert.truthy(err.hint:find("network name or endpoint", 1, true))
        assert.truthy(err.message:find("acme.twingate.com", 1, true))
        assert.are.equal(1, #transport.requests)
      end)

      it("raises http with a hint on an HTML page with status 200, never the page", function()
        local page = "<!DOCTYPE html><html><body>Welcome " .. string.rep("x", 3000)
          .. " SECRET-LOOKING-PAGE-TAIL</body></html>"
        local api = api_with({ reply(200, page, { ["content-type"] = "text/html; charset=utf-8" }) })
        local err = post_err(api)
        assert.are.equal("http", err.kind)
        assert.are.equal(200, err.status)
        assert.truthy(err.hint:find("network name or endpoint", 1, true))
        assert.is_nil(tostring(err):find("SECRET-LOOKING-PAGE-TAIL", 1, true))
        assert.is_nil(tostring(err):find("Welcome", 1, true))
      end)

      it("raises http on an HTML body labelled as JSON", function()
        local api = api_with({ reply(200, "  <html>hi</html>") })
        assert.are.equal("http", post_err(api).kind)
      end)

      it("raises http with a short excerpt on a body that is not JSON", function()
        local body = "oops: " .. string.rep("y", 2000) .. "TAIL"
        local api = api_with({ reply(200, body, { ["content-type"] = "text/plain" }) })
        local err = post_err(api)
        assert.are.equal("http", err.kind)
        assert.truthy(err.message:find("not JSON", 1, true))
        assert.is_nil(err.message:find("TAIL", 1, true))
        assert.truthy(err.hint)
      end)
    end)

    describe("on 429", function()
      it("waits Retry-After seconds (not milliseconds) and retries", function()
        local api = api_with({ reply(429, { error = "slow down" }, { ["retry-after"] = "7" }),
          ok_reply({ a = 1 }) })
        assert.are.equal(1, api:post("query Q { a }").a)
        assert.are.same({ 7 }, clock.sleeps)
        assert.are.equal(1, api.stats.throttled)
        assert.are.equal(1, api.stats.retries)
        assert.are.equal(7, api.stats.waited)
      end)

      it("honours fractional Retry-After", function()
        local api = api_with({ reply(429, "{}", { ["retry-after"] = " 1.5 " }), ok_reply({}) })
        api:post("query Q { a }")
        assert.are.same({ 1.5 }, clock.sleeps)
      end)

      it("waits 60 s when Retry-After is missing or an HTTP date", function()
        local api = api_with({ reply(429, "{}"),
          reply(429, "{}", { ["retry-after"] = "Wed, 21 Oct 2015 07:28:00 GMT" }),
          ok_reply({}) })
        api:post("query Q { a }")
        assert.are.same({ 60, 60 }, clock.sleeps)
      end)

      it("retries a write too (a throttled request was not processed)", function()
        local api = api_with({ reply(429, "{}", { ["retry-after"] = "2" }),
          ok_reply({ groupUpdate = { ok = true } }) })
        local data = api:post("mutation GroupUpdate { x }", nil,
          { write = true, operation = "GroupUpdate" })
        assert.is_true(data.groupUpdate.ok)
        assert.are.equal(2, #transport.requests)
      end)

      it("reads Retry-After whatever the case of the header name", function()
        local api = api_with({ reply(429, "{}", { ["Retry-After"] = "4" }), ok_reply({}) })
        api:post("query Q { a }")
        assert.are.same({ 4 }, clock.sleeps)
      end)

      it("holds back the other class too after a 429, even when giving up", function()
        local api = api_with({ reply(429, "{}", { ["retry-after"] = "5" }), ok_reply({}) },
          { max_retries = 0 })
        assert.are.equal("rate_limited", post_err(api).kind)
        assert.are.equal(0, clock.t)
        api:post("mutation M { a }", nil, { write = true })
        assert.are.same({ 5 }, clock.sleeps)
      end)

      it("raises rate_limited at once when Retry-After is over the cap", function()
        local api = api_with({ reply(429, "{}", { ["retry-after"] = "999999" }) })
        local err = post_err(api)
        assert.are.equal("rate_limited", err.kind)
        assert.matches("asked to wait 999999 seconds", err.message, 1, true)
        assert.are.same({}, clock.sleeps)
        api = api_with({ reply(429, "{}", { ["retry-after"] = "20" }) }, { max_retry_after = 10 })
        assert.are.equal("rate_limited", post_err(api).kind)
        assert.are.same({}, clock.sleeps)
      end)

      it("takes the largest of repeated Retry-After values", function()
        local api = api_with({ reply(429, "{}", { ["retry-after"] = "1, 2" }), ok_reply({}) })
        api:post("query Q { a }")
        assert.are.same({ 2 }, clock.sleeps)
      end)

      it("raises rate_limited with status 429 after max_retries", function()
        local replies = {}
        for i = 1, 3 do replies[i] = reply(429, "{}", { ["retry-after"] = "1",
          ["x-request-id"] = "rid-9" }) end
        local api = api_with(replies, { max_retries = 2 })
        local err = post_err(api)
        assert.are.equal("rate_limited", err.kind)
        assert.are.equal(429, err.status)
        assert.are.equal("rid-9", err.request_id)
        assert.are.equal(3, #transport.requests)
        assert.are.equal(3, api.stats.throttled)
        assert.are.equal(5, errors.exit_code(err))
      end)
    end)

    describe("on 5xx", function()
      it("retries a read with backoff", function()
        local api = api_with({ reply(503, "<html>busy</html>", { ["content-type"] = "text/html" }),
          reply(500, { errors = { { message = "boom" } } }), ok_reply({ a = 2 }) })
        assert.are.equal(2, api:post("query Q { a }").a)
        assert.are.equal(3, #transport.requests)
        assert.are.equal(2, #clock.sleeps)
      end)

      it("raises http with status after max_retries for a read", function()
        local api = api_with({ reply(502, "bad gateway"), reply(502, "bad gateway") },
          { max_retries = 1 })
        local err = post_err(api)
        assert.are.equal("http", err.kind)
        assert.are.equal(502, err.status)
        assert.is_nil(err.maybe_applied)
      end)

      it("does not retry a write and says it may have been applied", function()
        local api = api_with({ reply(500, "Internal Server Error", { ["x-request-id"] = "r5" }) })
        local err = post_err(api, "mutation GroupCreate { x }", nil,
          { write = true, operation = "GroupCreate" })
        assert.are.equal("http", err.kind)
        assert.are.equal(500, err.status)
        assert.is_true(err.maybe_applied)
        assert.are.equal("GroupCreate", err.operation)
        assert.are.equal("r5", err.request_id)
        assert.are.equal(1, #transport.requests)
        assert.are.equal(0, #clock.sleeps)
      end)
    end)

    describe("on GraphQL errors", function()
      it("raises graphql on 400 with the errors' messages and the array", function()
        local errs = { { message = "Cannot query field 'routingMode' on type 'Resource'." },
          { message = "Variable '$id' is never used." } }
        local api = api_with({ reply(400, { errors = errs }, { ["x-request-id"] = "q1" }) })
        local err = post_err(api)
        assert.are.equal("graphql", err.kind)
        assert.are.equal(400, err.status)
        assert.are.equal("q1", err.request_id)
        assert.truthy(err.message:find("routingMode", 1, true))
        assert.truthy(err.message:find("never used", 1, true))
        assert.are.same(errs, err.errors)
        assert.are.equal(1, #transport.requests)
      end)

      it("raises graphql on 200 with errors and attaches the partial data", function()
        local api = api_with({ reply(200, { data = { groups = { totalCount = 3 }, users = json.null },
          errors = { { message = "'NoneType' object has no attribute 'items'", path = { "users" } } } }) })
        local err = post_err(api)
        assert.are.equal("graphql", err.kind)
        assert.are.equal(200, err.status)
        assert.are.equal(3, err.data.groups.totalCount)
        assert.are.equal("users", err.errors[1].path[1])
        assert.truthy(err.message:find("NoneType", 1, true))
        assert.are.equal(1, errors.exit_code(err))
      end)

      it("summarises many errors", function()
        local errs = {}
        for i = 1, 10 do errs[i] = { message = "problem " .. i } end
        local api = api_with({ reply(400, { errors = errs }) })
        local err = post_err(api)
        assert.truthy(err.message:find("and 7 more", 1, true))
        assert.are.equal(10, #err.errors)
      end)

      it("raises http on 400 without errors", function()
        local api = api_with({ reply(400, { message = "bad" }) })
        local err = post_err(api)
        assert.are.equal("http", err.kind)
        assert.are.equal(400, err.status)
      end)

      it("raises http on 200 without data", function()
        local api = api_with({ reply(200, {}) })
        assert.are.equal("http", post_err(api).kind)
      end)
    end)

    describe("pacing", function()
      it("lets N reads through at once and makes the N+1th wait", function()
        local api = api_with({ ok_reply({}), ok_reply({}), ok_reply({}), ok_reply({}) },
          { reads_per_minute = 3, writes_per_minute = 1 })
        for _ = 1, 3 do api:post("query Q { a }") end
        assert.are.equal(0, clock.t)
        api:post("query Q { a }")
        assert.are.equal(60, clock.t)
        assert.are.equal(60, api.stats.waited)
      end)

      it("paces writes separately from reads", function()
        local api = api_with({ ok_reply({}), ok_reply({}), ok_reply({}) },
          { reads_per_minute = 60, writes_per_minute = 1 })
        api:post("mutation M { a }", nil, { write = true })
        api:post("query Q { a }")
        assert.are.equal(0, clock.t)
        api:post("mutation M { a }", nil, { write = true })
        assert.are.equal(60, clock.t)
      end)

      it("does not pace when the limits are nil", function()
        local replies = {}
        for i = 1, 100 do replies[i] = ok_reply({}) end
        local api = api_with(replies)
        for _ = 1, 100 do api:post("query Q { a }") end
        assert.are.equal(0, clock.t)
      end)
    end)

    describe("stats", function()
      it("counts requests, reads, writes, retries, throttles and waits", function()
        local api = api_with({ { fail = "refused", code = 7, sent = false }, ok_reply({}),
          reply(429, "{}", { ["retry-after"] = "3" }), ok_reply({}) })
        api:post("query Q { a }")
        api:post("mutation M { a }", nil, { write = true })
        assert.are.same({ requests = 4, reads = 2, writes = 2, retries = 2, throttled = 1,
          waited = 3.25 }, api.stats)
      end)
    end)

    describe("logging and secrets", function()
      it("logs one debug line per request without headers or the token", function()
        local api = api_with({ ok_reply({ a = 1 }) })
        api:post("query Groups { a }", nil, { operation = "Groups" })
        local text = logbuf:text()
        local line = text:match("[^\n]*debug: request[^\n]*")
        assert.truthy(line, text)
        assert.truthy(line:find("operation=Groups", 1, true))
        assert.truthy(line:find("class=read", 1, true))
        assert.truthy(line:find("status=200", 1, true))
        assert.truthy(line:find("ms=", 1, true))
        assert.truthy(line:find("bytes=", 1, true))
        assert.truthy(line:find("attempt=1", 1, true))
        assert.is_nil(text:find(TOKEN, 1, true))
        assert.is_nil(text:find("X-API-KEY", 1, true))
      end)

      it("logs retries at warn", function()
        local api = api_with({ reply(429, "{}", { ["retry-after"] = "1" }), ok_reply({}) })
        log.configure{ level = "warn" }
        api:post("query Q { a }")
        assert.truthy(logbuf:text():find("warn: rate limited", 1, true))
      end)

      it("never puts the token in errors or logs, even when a server echoes it", function()
        local echo = "invalid key " .. TOKEN
        local api = api_with({
          { fail = "proxy said " .. TOKEN, code = 56, sent = true },
        })
        local err = post_err(api, "mutation M { a }", nil, { write = true })
        assert.is_nil(tostring(err):find(TOKEN, 1, true))
        assert.is_nil(err.message:find(TOKEN, 1, true))

        api = api_with({ reply(400, { errors = { { message = echo } } }) })
        err = post_err(api)
        assert.is_nil(tostring(err):find(TOKEN, 1, true))

        api = api_with({ reply(200, "not json " .. TOKEN) })
        err = post_err(api)
        assert.is_nil(tostring(err):find(TOKEN, 1, true))

        log.configure{ format = "json" }
        api = api_with({ { fail = "refused " .. TOKEN, code = 7, sent = false }, ok_reply({}) })
        api:post("query Q { a }")
        assert.is_nil(logbuf:text():find(TOKEN, 1, true))
        assert.truthy(logbuf:text():find("[REDACTED]", 1, true))
      end)
    end)
  end)

  describe("close()", function()
    it("closes the transport", function()
      local api = api_with({})
      api:close()
      assert.is_true(transport.closed)
    end)

    it("makes later requests raise a config error, not a raw string", function()
      local api = api_with({})
      api:close()
      local err = post_err(api)
      assert.are.equal("config", err.kind)
      assert.matches("the client was closed", err.message, 1, true)
      assert.are.equal(0, #transport.requests)
    end)

    it("maps a transport that raises because it was closed to the same error", function()
      local api = api_with({})
      function transport.request() error("attempt to use a closed transport handle") end
      local err = post_err(api)
      assert.are.equal("config", err.kind)
      assert.matches("the client was closed", err.message, 1, true)
    end)
  end)

  describe("redirects", function()
    local function redirect(status, location)
      return { status = status, headers = { location = location }, body = "" }
    end

    it("follows a redirect to a sub-domain as a POST with the same body and keeps it", function()
      local to = "https://acme.us1.twingate.com/api/graphql/"
      local api = api_with({ redirect(307, to), ok_reply({ a = 1 }), ok_reply({ a = 2 }) })
      assert.are.equal(1, api:post("mutation M { a }", { x = 1 },
        { write = true, operation = "M" }).a)
      local r1, r2 = transport.requests[1], transport.requests[2]
      assert.are.equal(ENDPOINT, r1.url)
      assert.are.equal(to, r2.url)
      assert.are.equal("POST", r2.method)
      assert.are.equal(r1.body, r2.body)
      assert.are.equal(TOKEN, r2.headers["X-API-KEY"])
      -- later requests go straight to the final endpoint, logged at info once
      api:post("query Q { a }")
      assert.are.equal(to, transport.requests[3].url)
      assert.are.equal(to, api.endpoint)
      local _, n = logbuf:text():gsub("using this endpoint from now on", "")
      assert.are.equal(1, n)
    end)

    it("keeps a POST a POST for 301, 302, 303, 307 and 308, relative locations too", function()
      for _, status in ipairs({ 301, 302, 303, 307, 308 }) do
        local api = api_with({ redirect(status, "/v2/graphql/"), ok_reply({ a = 1 }) })
        api:post("query Q { a }")
        assert.are.equal("https://acme.twingate.com/v2/graphql/", transport.requests[2].url)
        assert.are.equal("POST", transport.requests[2].method)
        assert.are.equal(transport.requests[1].body, transport.requests[2].body)
      end
    end)

    it("refuses a redirect to another host and sends nothing there", function()
      for _, to in ipairs({ "https://collect.example.net/x", "https://twingate.com.evil.io/",
                            "https://eviltwingate.com/", "//other.example/api" }) do
        local api = api_with({ redirect(307, to) })
        local err = post_err(api)
        assert.are.equal("http", err.kind)
        assert.matches("refused to follow the redirect to", err.message, 1, true)
        assert.matches("API key would go to another host", err.message, 1, true)
        assert.are.equal(1, #transport.requests)
      end
    end)

    it("follows the same host only for an IP address or localhost", function()
      local base = "http://127.0.0.1:8080/api/graphql/"
      local api = api_with({ redirect(308, "http://127.0.0.1:8080/other"), ok_reply({}) },
        { endpoint = base })
      api:post("query Q { a }")
      assert.are.equal(2, #transport.requests)
      for _, to in ipairs({ "http://localhost:8080/collect", "http://127.0.0.1:9999/collect",
                            "http://127.0.0.2:8080/" }) do
        api = api_with({ redirect(307, to) }, { endpoint = base })
        local err = post_err(api)
        assert.matches("refused to follow the redirect to", err.message, 1, true)
        assert.are.equal(1, #transport.requests)
      end
    end)

    it("refuses a redirect from https to http, even to the same host", function()
      local api = api_with({ redirect(301, "http://acme.twingate.com/api/graphql/") })
      local err = post_err(api)
      assert.are.equal("http", err.kind)
      assert.matches("from https to http", err.message, 1, true)
      assert.are.equal(1, #transport.requests)
    end)

    it("stops a redirect loop after 5", function()
      local replies = {}
      for i = 1, 10 do replies[i] = redirect(302, "/loop" .. i) end
      local api = api_with(replies)
      local err = post_err(api)
      assert.are.equal("http", err.kind)
      assert.matches("too many redirects", err.message, 1, true)
      assert.are.equal(6, #transport.requests)
    end)

    it("never logs the userinfo of a redirect target", function()
      local api = api_with({ redirect(307, "https://u:pw-secret@acme.twingate.com/g"),
        ok_reply({}) })
      api:post("query Q { a }")
      assert.is_nil(logbuf:text():find("pw-secret", 1, true))
    end)
  end)

  describe("dry run", function()
    it("refuses a write with invalid_argument and sends nothing", function()
      local api = api_with({ ok_reply({}) }, { dry_run = true })
      local err = post_err(api, "mutation GroupUpdate { x }", nil,
        { write = true, operation = "GroupUpdate" })
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal("dry run: refusing to send mutation GroupUpdate", err.message)
      assert.are.equal(0, #transport.requests)
      api:post("query Q { a }")
      assert.are.equal(1, #transport.requests)
    end)

    it("refuses a mutation document sent as a read", function()
      local api = api_with({}, { dry_run = true })
      local err = post_err(api, "# c\n  mutation GroupUpdate { x }", nil, { operation = "GroupUpdate" })
      assert.are.equal("dry run: refusing to send mutation GroupUpdate", err.message)
      assert.are.equal(0, #transport.requests)
    end)

    it("takes the process's --dry-run setting when dry_run is not given", function()
      local main = require "twingate.main"
      local saved = main.settings
      main.settings = { dry_run = true }
      local ok, api = pcall(api_with, {})
      main.settings = saved
      assert.is_true(ok)
      local err = post_err(api, "mutation M { x }", nil, { write = true })
      assert.are.equal("dry run: refusing to send mutation M", err.message)
    end)
  end)

  describe("response size", function()
    it("raises http without retrying when the body is over the limit", function()
      local api = api_with({ { fail = "response larger than 1000 bytes", code = 23, sent = true } },
        { max_body = 1000 })
      local err = post_err(api)
      assert.are.equal("http", err.kind)
      assert.matches("response larger than 1000 bytes", err.message, 1, true)
      assert.are.equal(1, #transport.requests)
      assert.are.equal(1000, transport.requests[1].max_body)
    end)
  end)

  describe("retry_after()", function()
    it("parses seconds and ignores anything else", function()
      assert.are.equal(120, http.retry_after({ ["retry-after"] = "120" }))
      assert.are.equal(0.25, http.retry_after({ ["retry-after"] = "0.25" }))
      assert.is_nil(http.retry_after({ ["retry-after"] = "-5" }))
      assert.is_nil(http.retry_after({ ["retry-after"] = "soon" }))
      assert.is_nil(http.retry_after({}))
    end)
  end)
end)
