local batch = require "twingate.batch"
local errors = require "twingate.errors"
local graphql = require "twingate.graphql"
local json = require "twingate.json"

-- A fake client: records mutate calls; `answer(doc, vars, n)` returns data or raises.
local function fake(answer)
  local c = { dry_run = false, calls = {}, clock = 0, slept = {} }
  c.now = function() return c.clock end
  c.sleep = function(sec) c.clock = c.clock + sec; c.slept[#c.slept + 1] = sec end
  function c.mutate(self, doc, vars, opts)
    self.calls[#self.calls + 1] = { doc = doc, vars = vars, opts = opts }
    return answer(doc, vars, #self.calls)
  end
  return c
end

-- Answer every aliased field with ok = true, except fields whose id is in `fail`.
local function ok_all(fail)
  fail = fail or {}
  return function(doc, vars)
    local data = {}
    for _, f in ipairs(graphql.inspect(doc).fields) do
      local n = f.key:match("%d+$")
      local id = vars["id" .. n]
      if fail[id] then
        data[f.key] = { ok = false, error = "nope " .. id }
      else
        data[f.key] = { ok = true, entity = { id = id } }
      end
    end
    return data
  end
end

local GROUPS = { def = {
  name = "Group", list_field = "groups",
  create = { field = "groupCreate", args = { name = "String!", userIds = "[ID]" } },
  update = { field = "groupUpdate", idempotent = true, args = { name = "String", addedUserIds = "[ID]" } },
  delete = { field = "groupDelete" },
} }

local function items(n)
  local out = {}
  for i = 1, n do
    out[i] = { op = batch.op(GROUPS, "update", "g" .. i, { addedUserIds = { "u" .. i } }) }
  end
  return out
end

describe("twingate.batch", function()
  describe("op()", function()
    it("refuses a list argument that is not a sequence (a set, a hole) naming it", function()
      for _, v in ipairs{ { VXNlcjox = true }, { [1] = "A", [3] = "B" }, { "A", x = "B" } } do
        local ok, err = pcall(batch.op, GROUPS, "update", "g1", { addedUserIds = v })
        assert.is_false(ok)
        assert.equals("invalid_argument", err.kind)
        assert.matches("addedUserIds", err.message)
        assert.matches("list", err.message)
      end
      local ok, err = pcall(batch.check, { field = "groupUpdate", args = { id = "g", userIds = { x = "1" } },
        types = { id = "ID!", userIds = "[ID]" } })
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.matches("userIds", err.message)
      -- sequences and empty lists are fine, and stay arrays
      local op = batch.op(GROUPS, "update", "g1", { addedUserIds = json.array{} })
      assert.equals("[]", json.encode(op.args.addedUserIds))
    end)

    it("builds an update op from the collection definition", function()
      local op = batch.op(GROUPS, "update", "g1", { addedUserIds = { "u1" } })
      assert.are.equal("groupUpdate", op.field)
      assert.are.same({ id = "ID!", addedUserIds = "[ID]" }, op.types)
      assert.are.equal("g1", op.args.id)
      assert.is_true(json.is_array(op.args.addedUserIds))
      assert.is_true(op.idempotent)
      assert.are.equal("ok error entity { id }", op.selection)
    end)

    it("marks deletes idempotent and creates not", function()
      local d = batch.op(GROUPS, "delete", "g1")
      assert.is_true(d.idempotent and d.delete)
      assert.are.equal("ok error", d.selection)
      assert.is_false(batch.op(GROUPS, "create", nil, { name = "x" }).idempotent)
    end)

    it("raises invalid_argument on unknown fields, missing required ones and missing ids", function()
      for _, f in ipairs{
        function() batch.op(GROUPS, "update", "g1", { bogus = 1 }) end,
        function() batch.op(GROUPS, "create", nil, { userIds = {} }) end,
        function() batch.op(GROUPS, "update", nil, {}) end,
        function() batch.op(GROUPS, "rename", "g1", {}) end,
      } do
        local ok, err = pcall(f)
        assert.is_false(ok)
        assert.are.equal("invalid_argument", err.kind)
      end
    end)
  end)

  describe("document()", function()
    it("puts every op in one document as aliased fields with numbered variables", function()
      local ops = { items(2)[1].op, items(2)[2].op }
      local doc, vars, aliases, name = batch.document(ops)
      assert.are.equal("GroupUpdateBatch", name)
      assert.are.same({ "b0", "b1" }, aliases)
      local info = graphql.inspect(doc)
      assert.are.equal("mutation", info.type)
      assert.are.equal(2, #info.fields)
      assert.are.equal("ID!", info.variables.id1)
      assert.are.equal("g2", vars.id1)
      assert.is_nil(doc:find("g2", 1, true)) -- values only as variables
    end)
  end)

  describe("apply()", function()
    it("sends ceil(n / batch_size) requests and reports each outcome", function()
      local c = fake(ok_all{ g3 = true })
      local outcomes, n = batch.apply(c, items(7), { batch_size = 3 })
      assert.are.equal(3, n)
      assert.are.equal(3, #c.calls)
      for i = 1, 7 do
        assert.are.equal(i == 3 and "failed" or "applied", outcomes[i].status)
      end
      assert.are.equal("mutation", outcomes[3].error.kind)
      assert.matches("nope g3", tostring(outcomes[3].error))
      assert.is_false(c.calls[1].opts.raise)
    end)

    it("sends nothing in a dry run and reports what would be sent", function()
      local c = fake(function() error("sent") end)
      c.dry_run = true
      local would = {}
      local outcomes, n = batch.apply(c, items(3), { batch_size = 2, would_send = would })
      assert.are.equal(0, n)
      assert.are.equal(2, #would)
      assert.are.equal("planned", outcomes[1].status)
    end)

    it("logs one short line per dry-run request at info, the variables only at debug", function()
      local log = require "twingate.log"
      local saved = log.settings()
      local function logged(level)
        local buf = {}
        log.configure{ level = level, format = "text", stream = {
          write = function(self, ...) for _, x in ipairs{ ... } do buf[#buf + 1] = x end return self end,
          flush = function() end } }
        local c = fake(function() error("sent") end)
        c.dry_run = true
        batch.apply(c, items(3), { batch_size = 2 })
        return table.concat(buf)
      end
      local ok, info = pcall(logged, "info")
      local ok2, debug = pcall(logged, "debug")
      log.configure{ level = saved.level, format = saved.format, stream = saved.stream }
      assert(ok, info)
      assert(ok2, debug)
      local lines = select(2, info:gsub("\n", ""))
      assert.are.equal(2, lines, info)
      assert.matches("dry-run: ", info, 1, true)
      assert.not_matches("variables", info, 1, true)
      for line in info:gmatch("[^\n]+") do assert.is_true(#line < 200, line) end
      assert.matches("variables=", debug, 1, true)
    end)

    it("sends no further request once interrupted", function()
      local c = fake(ok_all())
      local n_sent = 0
      local outcomes, n = batch.apply(c, items(5), { batch_size = 2,
        on_send = function() n_sent = n_sent + 1 end,
        interrupted = function() return n_sent >= 1 end })
      assert.are.equal(1, n)
      assert.are.equal("applied", outcomes[2].status)
      for i = 3, 5 do
        assert.are.equal("skipped", outcomes[i].status)
        assert.are.equal("not attempted: interrupted", outcomes[i].reason)
      end
    end)

    it("resends idempotent ops that may have been applied", function()
      local c = fake(function(doc, vars, k)
        if k == 1 then errors.raise("http", "HTTP 503", { maybe_applied = true, status = 503 }) end
        return ok_all()(doc, vars)
      end)
      local outcomes, n = batch.apply(c, items(2))
      assert.are.equal(2, n)
      assert.are.equal("applied", outcomes[1].status)
      assert.are.equal(2, outcomes[2].sends)
    end)

    it("asks verify first and never resends what it finds applied", function()
      local checked = 0
      local op = batch.check{ field = "groupCreate", args = { name = "x" }, types = { name = "String!" },
        verify = function() checked = checked + 1; return { ok = true, entity = { id = "new" } } end }
      local c = fake(function() errors.raise("transport", "lost", { maybe_applied = true }) end)
      local outcomes = batch.apply(c, { { op = op } })
      assert.are.equal(1, #c.calls)
      assert.are.equal(1, checked)
      assert.are.equal("applied", outcomes[1].status)
      assert.is_true(outcomes[1].verified)
    end)

    it("takes a create's snapshot once per request before the first send and hands it to verify", function()
      local snaps, seen = {}, {}
      local function snapshot(coll, inputs)
        local names = {}
        for i, input in ipairs(inputs) do names[i] = input.name end
        snaps[#snaps + 1] = { coll = coll, names = names }
        return { OLD = true }
      end
      local coll = { client = {}, def = { name = "Thing", list_field = "things", create = { field = "thingCreate",
        args = { name = "String!" }, snapshot = snapshot,
        verify = function(_, input, _, _, ctx) seen[input.name] = ctx.existing end } } }
      local list = { { op = batch.op(coll, "create", nil, { name = "a" }) },
        { op = batch.op(coll, "create", nil, { name = "b" }) } }
      local c = fake(function(_, _, k)
        assert.are.equal(1, #snaps)               -- taken before the first send
        if k == 1 then errors.raise("transport", "lost", { maybe_applied = true }) end
        return { b0 = { ok = true, entity = { id = "x" } }, b1 = { ok = true, entity = { id = "y" } } }
      end)
      c.verify_grace = 0
      local outcomes = batch.apply(c, list)
      assert.are.same({ "a", "b" }, snaps[1].names)
      assert.are.equal(coll, snaps[1].coll)
      assert.are.equal(1, #snaps)                 -- not taken again for the resend
      assert.are.same({ OLD = true }, seen.a)
      assert.are.same({ OLD = true }, seen.b)
      assert.are.equal("applied", outcomes[1].status)
    end)

    it("sends nothing of a request whose snapshot read fails, and stops on a transport error", function()
      local coll = { client = {}, def = { name = "Thing", list_field = "things", create = { field = "thingCreate",
        args = { name = "String!" }, verify = function() end,
        snapshot = function() errors.raise("transport", "connection refused") end } } }
      local c = fake(function() error("nothing may be sent") end)
      local outcomes, n = batch.apply(c, { { op = batch.op(coll, "create", nil, { name = "a" }) },
        { op = batch.op(GROUPS, "update", "g1", { name = "z" }) } }, { batch_size = 1 })
      assert.are.equal(0, n)
      assert.are.equal("failed", outcomes[1].status)
      assert.are.equal("transport", outcomes[1].error.kind)
      assert.are.equal("skipped", outcomes[2].status)
    end)

    it("keeps checking over the grace window before resending a create the server may still be processing", function()
      local op = batch.check{ field = "groupCreate", args = { name = "x" }, types = { name = "String!" },
        verify = function(tg) if tg.clock >= 3 then return { ok = true, entity = { id = "late" } } end end }
      local c = fake(function() errors.raise("transport", "timed out", { maybe_applied = true }) end)
      c.verify_grace = 10
      local outcomes = batch.apply(c, { { op = op } })
      assert.are.equal(1, #c.calls)             -- never sent twice
      assert.are.same({ 0.5, 1, 2 }, c.slept)
      assert.are.equal("applied", outcomes[1].status)
      assert.are.equal("late", outcomes[1].result.entity.id)
      -- still absent after the whole window: resent once the window has passed
      local op2 = batch.check{ field = "groupCreate", args = { name = "y" }, types = { name = "String!" },
        verify = function() return nil end }
      local c2 = fake(function(doc, vars, k)
        if k == 1 then errors.raise("transport", "timed out", { maybe_applied = true }) end
        return { b0 = { ok = true, entity = { id = "y" } } }
      end)
      c2.timeout = 1
      local o2 = batch.apply(c2, { { op = op2 } })
      assert.are.same({ 0.5, 1, 2, 4, 2.5 }, c2.slept) -- max(timeout, 10 s)
      assert.are.equal(2, #c2.calls)
      assert.are.equal("applied", o2[1].status)
    end)

    it("reports unknown, not failed, when a resend of a maybe-applied op is refused, and stops on transport", function()
      local c = fake(function(_, _, k)
        if k == 1 then errors.raise("http", "HTTP 502", { maybe_applied = true, status = 502 }) end
        errors.raise("transport", "connection refused", { maybe_applied = false })
      end)
      local outcomes = batch.apply(c, items(3), { batch_size = 1 })
      assert.are.equal(2, #c.calls)
      assert.are.same({ "unknown", "skipped", "skipped" },
        { outcomes[1].status, outcomes[2].status, outcomes[3].status })
      assert.matches("not attempted after an earlier transport error", outcomes[2].reason)
    end)

    it("stops after a transport or rate_limited error (the API is unreachable) and skips the rest", function()
      for _, kind in ipairs{ "transport", "rate_limited" } do
        local c = fake(function() errors.raise(kind, "down", {}) end)
        local outcomes = batch.apply(c, items(3), { batch_size = 1 })
        assert.are.equal(1, #c.calls, kind)
        assert.are.same({ "failed", "skipped", "skipped" },
          { outcomes[1].status, outcomes[2].status, outcomes[3].status })
      end
    end)

    it("reports ops that are neither idempotent nor verifiable as unknown, not resent", function()
      local op = batch.check{ field = "groupCreate", args = { name = "x" }, types = { name = "String!" } }
      local c = fake(function() errors.raise("transport", "lost", { maybe_applied = true }) end)
      local outcomes = batch.apply(c, { { op = op } })
      assert.are.equal(1, #c.calls)
      assert.are.equal("unknown", outcomes[1].status)
    end)

    it("gives up after MAX_SENDS and reports unknown", function()
      local c = fake(function() errors.raise("http", "503", { maybe_applied = true }) end)
      local outcomes = batch.apply(c, items(1))
      assert.are.equal(batch.MAX_SENDS, #c.calls)
      assert.are.equal("unknown", outcomes[1].status)
    end)

    it("splits a batch refused as a whole to find the bad op", function()
      local c = fake(function(doc, vars)
        if vars.id1 ~= nil or vars.id0 == "g2" then errors.raise("graphql", "bad", {}) end
        return ok_all()(doc, vars)
      end)
      local outcomes, n = batch.apply(c, items(3))
      assert.are.equal(4, n)
      assert.are.same({ "applied", "failed", "applied" },
        { outcomes[1].status, outcomes[2].status, outcomes[3].status })
    end)

    it("uses partial data of a request with field errors", function()
      local c = fake(function()
        errors.raise("graphql", "boom", { data = { b0 = { ok = true }, b1 = json.null },
          errors = { { message = "field broke", path = { "b1" } } } })
      end)
      local outcomes = batch.apply(c, items(2))
      assert.are.equal("applied", outcomes[1].status)
      assert.are.equal("failed", outcomes[2].status)
      assert.matches("field broke", tostring(outcomes[2].error))
    end)

    it("stops after an auth error and skips the rest", function()
      local c = fake(function() errors.raise("auth", "refused", { status = 401 }) end)
      local outcomes = batch.apply(c, items(3), { batch_size = 1 })
      assert.are.equal(1, #c.calls)
      assert.are.same({ "failed", "skipped", "skipped" },
        { outcomes[1].status, outcomes[2].status, outcomes[3].status })
    end)

    it("calls on_send before each request with its items", function()
      local seen = {}
      local c = fake(ok_all())
      batch.apply(c, items(3), { batch_size = 2, on_send = function(chunk)
        seen[#seen + 1] = #chunk .. ":" .. #c.calls
      end })
      assert.are.same({ "2:0", "1:1" }, seen)
    end)

    it("rejects a bad batch size", function()
      local ok, err = pcall(batch.apply, fake(ok_all()), items(1), { batch_size = 0 })
      assert.is_false(ok)
      assert.are.equal("invalid_argument", err.kind)
    end)
  end)
end)
