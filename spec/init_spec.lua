local twingate = require "twingate"
local json = require "twingate.json"
local log = require "twingate.log"
local fake = require "spec.support.fake"

local TOKEN = "tok-SECRET-1234"

local function connect(responses, opts)
  local o = { api_token = TOKEN }
  for k, v in pairs(opts or {}) do o[k] = v end
  return fake.connect(responses, o)
end

describe("twingate", function()
  before_each(function()
    twingate.configure({})
    log.configure{ level = "error", stream = io.stderr }
  end)
  after_each(function()
    twingate.configure(nil)
    log.configure{ level = "info", stream = io.stderr }
  end)

  describe("module fields", function()
    it("exposes null, version, errors, exit codes and lazy modules", function()
      assert.equals(json.null, twingate.null)
      assert.matches("^%d+%.%d+%.%d+", twingate.version)
      assert.equals(require("twingate.errors"), twingate.errors)
      assert.same({ ok = 0, failed = 1, usage = 2, partial = 3, auth = 4, unavailable = 5, none = 6 }, twingate.exit)
      -- every module the README names as a field of twingate
      for _, name in ipairs{ "csv", "plan", "protocols", "text" } do
        assert.equals(require("twingate." .. name), twingate[name], name)
      end
    end)

    it("has every exit code of plan.exit with the same value (none = 6: every change failed)", function()
      local plan = require "twingate.plan"
      for name, code in pairs(plan.exit) do assert.equals(code, twingate.exit[name], name) end
      assert.equals(6, twingate.exit.none)
    end)
  end)

  describe("connect()", function()
    it("raises a config error naming what to set when no network or endpoint is given", function()
      local ok, err = pcall(twingate.connect, { api_token = TOKEN, transport = fake.transport({}) })
      assert.is_false(ok)
      assert.equals("config", err.kind)
      assert.matches("TWINGATE_NETWORK", err.message)
      assert.matches("%-%-network", err.message)
      assert.matches("TWINGATE_ENDPOINT", err.message)
      assert.matches("%-%-endpoint", err.message)
    end)

    it("raises a config error naming what to set when there is no token", function()
      local ok, err = pcall(twingate.connect, { endpoint = "http://x/", transport = fake.transport({}) })
      assert.is_false(ok)
      assert.equals("config", err.kind)
      assert.matches("TWINGATE_API_TOKEN", err.message)
      assert.matches("TWINGATE_API_TOKEN_FILE", err.message)
      assert.matches("%-%-api%-token%-file", err.message)
    end)

    it("raises a config error when the C transport is absent (plain lua5.4)", function()
      if pcall(require, "twingate.transport") then return end -- inside the program
      local ok, err = pcall(twingate.connect, { endpoint = "http://x/", api_token = TOKEN })
      assert.is_false(ok)
      assert.equals("config", err.kind)
      assert.matches("transport", err.message)
    end)

    it("starts from the configured settings and lets opts override them", function()
      twingate.configure({ endpoint = "http://configured/api/graphql/", api_token = TOKEN, dry_run = true, page_size = 7 })
      local t = fake.transport({ default = { data = { users = { totalCount = 1 } } } })
      local tg = twingate.connect{ transport = t, endpoint = "http://override/api/graphql/" }
      assert.is_true(tg.dry_run)
      assert.equals(7, tg.page_size)
      assert.equals(25, tg.batch_size)
      tg:query("{ users { totalCount } }")
      assert.equals("http://override/api/graphql/", t.requests[1].url)
    end)

    it("keeps the configured dry run: connect{ dry_run = false } cannot switch it off", function()
      twingate.configure({ endpoint = "http://configured/api/graphql/", api_token = TOKEN, dry_run = true })
      local t = fake.transport({})
      local tg = twingate.connect{ transport = t, dry_run = false }
      assert.is_true(tg.dry_run)
      local data = tg:mutate('mutation { groupCreate(name: "LEAK") { ok } }')
      assert.is_true(data.groupCreate.dry_run)
      assert.equals(0, #t.requests)
      -- connect may switch it on
      twingate.configure({ endpoint = "http://configured/api/graphql/", api_token = TOKEN, dry_run = false })
      assert.is_true(twingate.connect{ transport = t, dry_run = true }.dry_run)
      assert.is_false(twingate.connect{ transport = t }.dry_run)
    end)

    it("builds the endpoint from a network name", function()
      local tg = twingate.connect{ network = "acme", api_token = TOKEN, transport = fake.transport({}) }
      assert.equals("https://acme.twingate.com/api/graphql/", tg.endpoint)
      tg = twingate.connect{ network = "acme.us1.twingate.com", api_token = TOKEN, transport = fake.transport({}) }
      assert.equals("https://acme.us1.twingate.com/api/graphql/", tg.endpoint)
    end)

    it("creates each collection once, on first use", function()
      local tg = connect({})
      assert.equals(tg.groups, tg.groups)
      assert.is_function(tg.users.find)
      assert.is_nil(tg.no_such_thing)
      assert.equals(0, tg.stats.requests)
    end)
  end)

  describe("query()", function()
    it("sends the document and variables and returns data", function()
      local tg, t = connect({ { data = { group = { id = "G1", name = "Ops" } } } })
      local data = tg:query("query GetGroup($id: ID!) { group(id: $id) { id name } }", { id = "G1" })
      assert.equals("Ops", data.group.name)
      assert.same({ id = "G1" }, t.requests[1].variables)
      assert.equals("GetGroup", t.requests[1].operation)
      assert.equals(TOKEN, t.requests[1].headers["X-API-KEY"])
      assert.equals(1, tg.stats.reads)
    end)

    it("refuses a mutation document", function()
      local tg, t = connect({})
      local ok, err = pcall(tg.query, tg, "mutation { groupDelete(id: \"1\") { ok } }")
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.equals(0, #t.requests)
    end)

    it("raises graphql errors without ever showing the token", function()
      local tg = connect({ { status = 400, errors = { { message = "Cannot query field 'x' " .. TOKEN } } } })
      local ok, err = pcall(tg.query, tg, "{ x }")
      assert.is_false(ok)
      assert.equals("graphql", err.kind)
      assert.is_nil(tostring(err):find(TOKEN, 1, true))
    end)
  end)

  describe("each()", function()
    it("iterates over every page of the connection", function()
      local pages = {
        { data = { users = { edges = { { node = { id = "1" } }, { node = { id = "2" } } }, pageInfo = { hasNextPage = true, endCursor = "c2" } } } },
        { data = { users = { edges = { { node = { id = "3" } } }, pageInfo = { hasNextPage = false, endCursor = "c3" } } } },
      }
      local tg, t = connect(pages, { page_size = 2 })
      local ids = {}
      for u in tg:each("query U($first: Int, $after: String) { users(first: $first, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }") do
        ids[#ids + 1] = u.id
      end
      assert.same({ "1", "2", "3" }, ids)
      assert.equals(2, #t.requests)
      assert.same({ first = 2 }, t.requests[1].variables)
      assert.same({ first = 2, after = "c2" }, t.requests[2].variables)
    end)
  end)

  describe("events_sync_oidc_provider_url()", function()
    it("reads the scalar root field", function()
      local tg, t = connect({ { data = { eventsSyncOidcProviderUrl = "https://oidc.example/x" } } })
      assert.equals("https://oidc.example/x", tg:events_sync_oidc_provider_url())
      assert.matches("eventsSyncOidcProviderUrl", t.requests[1].query)
    end)
  end)

  describe("collections", function()
    it("makes a collection for every kind in twingate.kinds", function()
      local tg = connect({})
      for name in pairs(twingate.kinds) do
        assert.is_table(tg[name], name)
        assert.is_function(tg[name].each, name)
      end
    end)
  end)

  describe("mutate()", function()
    local DEL = "mutation GroupDelete($id: ID!) { groupDelete(id: $id) { ok error } }"

    it("returns data when every payload is ok", function()
      local tg, t = connect({ { data = { groupDelete = { ok = true } } } })
      local data = tg:mutate(DEL, { id = "G1" })
      assert.is_true(data.groupDelete.ok)
      assert.equals(1, tg.stats.writes)
      assert.equals("GroupDelete", t.requests[1].operation)
    end)

    it("raises a mutation error carrying the server's text when ok is false", function()
      local tg = connect({ { data = { groupDelete = { ok = false, error = "Field 'id' Group with id 'G9' does not exist." } } } })
      local ok, err = pcall(tg.mutate, tg, DEL, { id = "G9" })
      assert.is_false(ok)
      assert.equals("mutation", err.kind)
      assert.equals("groupDelete", err.field)
      assert.equals("Field 'id' Group with id 'G9' does not exist.", err.payload_error)
      assert.is_table(err.data)
      assert.matches("does not exist", tostring(err))
    end)

    it("refuses a query document", function()
      local tg, t = connect({})
      local ok, err = pcall(tg.mutate, tg, "query { users { totalCount } }")
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.equals(0, #t.requests)
    end)

    it("sends nothing with dry_run, logs the plan and returns a synthetic result", function()
      local lines = {}
      log.configure{ stream = { write = function(_, s) lines[#lines + 1] = s end }, level = "info", format = "text" }
      local tg, t = connect({}, { dry_run = true })
      local data = tg:mutate("mutation Two($id: ID!, $n: String) { a: groupUpdate(id: $id, name: $n) { ok } groupDelete(id: $id) { ok } }",
        { id = "G1", n = "New", secret = TOKEN })
      log.configure{ stream = io.stderr }
      assert.equals(0, #t.requests)
      assert.same({ ok = true, dry_run = true }, data.a)
      assert.same({ ok = true, dry_run = true }, data.groupDelete)
      local all = table.concat(lines)
      assert.matches("dry%-run", all)
      assert.matches("Two", all)
      assert.matches("New", all)
      assert.is_nil(all:find(TOKEN, 1, true))
    end)

    it("never resends a write that may have been applied unless told it is safe", function()
      local tg, t = connect({ { status = 502, body = "" }, { data = { groupDelete = { ok = true } } } })
      local ok, err = pcall(tg.mutate, tg, DEL, { id = "G1" })
      assert.is_false(ok)
      assert.is_true(err.maybe_applied)
      assert.equals(1, #t.requests)
    end)

    it("resends an idempotent write after a lost response", function()
      local tg, t = connect({ { fail = true, sent = true }, { data = { groupDelete = { ok = true } } } })
      local data = tg:mutate(DEL, { id = "G1" }, { idempotent = true })
      assert.is_true(data.groupDelete.ok)
      assert.equals(2, #t.requests)
    end)

    it("counts 'does not exist' after a resent delete as done", function()
      local tg, t = connect({ { status = 503, body = "" }, { data = { groupDelete = { ok = false, error = "Group with id 'G1' does not exist." } } } })
      local data = tg:mutate(DEL, { id = "G1" }, { idempotent = true, delete = true })
      assert.is_true(data.groupDelete.ok)
      assert.is_true(data.groupDelete.already_done)
      assert.equals(2, #t.requests)
    end)

    it("asks verify before resending and returns its result when the change is there", function()
      local tg, t = connect({ { status = 500, body = "" } })
      local asked = 0
      local data = tg:mutate("mutation C($name: String!) { groupCreate(name: $name) { ok entity { id } } }", { name = "Ops" },
        { verify = function() asked = asked + 1; return { groupCreate = { ok = true, entity = { id = "G7" } } } end })
      assert.equals("G7", data.groupCreate.entity.id)
      assert.equals(1, asked)
      assert.equals(1, #t.requests)
    end)

    it("keeps checking over the grace window (backoff 0.5, 1, 2, 4 s) and does not resend when the change shows up", function()
      local clock, slept = 100, {}
      local tg, t = connect({ { status = 500, body = "" } }, {
        now = function() return clock end,
        sleep = function(s) clock = clock + s; slept[#slept + 1] = s end })
      local asked = 0
      local data = tg:mutate("mutation C($name: String!) { groupCreate(name: $name) { ok entity { id } } }", { name = "Ops" },
        { verify = function()
          asked = asked + 1
          if clock < 103 then return nil end -- the server finishes the slow request 3 s later
          return { groupCreate = { ok = true, entity = { id = "G7" } } }
        end })
      assert.equals("G7", data.groupCreate.entity.id)
      assert.equals(1, #t.requests)
      assert.same({ 0.5, 1, 2 }, slept)
      assert.equals(4, asked)
    end)

    it("resends only after the grace window (max(timeout, 10 s), or verify_grace), logging a warning", function()
      local clock, slept = 0, {}
      local lines = {}
      log.configure{ level = "warn", stream = { write = function(_, ...) for _, x in ipairs{ ... } do lines[#lines + 1] = x end end,
        flush = function() end } }
      local tg, t = connect({ { status = 500, body = "" }, { data = { groupCreate = { ok = true, entity = { id = "G8" } } } } }, {
        timeout = 1, now = function() return clock end, sleep = function(s) clock = clock + s; slept[#slept + 1] = s end })
      local data = tg:mutate("mutation C($name: String!) { groupCreate(name: $name) { ok entity { id } } }", { name = "Ops" },
        { verify = function() return nil end })
      assert.equals("G8", data.groupCreate.entity.id)
      assert.equals(2, #t.requests)
      assert.same({ 0.5, 1, 2, 4, 2.5 }, slept) -- 10 s floor with a 1 s timeout
      assert.matches("resending C: the request may have been applied", table.concat(lines), 1, true)
      clock, slept = 0, {}
      local tg2 = connect({ { status = 500, body = "" }, { data = { groupCreate = { ok = true } } } }, {
        verify_grace = 2, now = function() return clock end, sleep = function(s) clock = clock + s; slept[#slept + 1] = s end })
      tg2:mutate("mutation C($name: String!) { groupCreate(name: $name) { ok } }", { name = "Ops" },
        { verify = function() return nil end })
      assert.same({ 0.5, 1, 0.5 }, slept)
    end)

    it("resends once when verify finds nothing, and gives up after that", function()
      local tg, t = connect({ { status = 500, body = "" }, { data = { groupCreate = { ok = true, entity = { id = "G8" } } } } })
      local data = tg:mutate("mutation C($name: String!) { groupCreate(name: $name) { ok entity { id } } }", { name = "Ops" },
        { verify = function() return nil end })
      assert.equals("G8", data.groupCreate.entity.id)
      assert.equals(2, #t.requests)
      local tg2, t2 = connect({ default = { status = 500, body = "" } })
      local ok, err = pcall(tg2.mutate, tg2, "mutation C($name: String!) { groupCreate(name: $name) { ok } }", { name = "Ops" },
        { verify = function() return nil end })
      assert.is_false(ok)
      assert.equals("http", err.kind)
      assert.equals(2, #t2.requests)
    end)
  end)
end)
