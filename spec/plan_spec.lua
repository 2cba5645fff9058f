-- Specs for twingate.plan: collecting, rendering, applying and summarising.
local plan_mod = require "twingate.plan"
local errors = require "twingate.errors"
local fake_buffer = require("spec.support.fake").buffer

describe("twingate.plan", function()
  local plan, calls

  -- A small plan: create with members, update with a rename and member
  -- changes, delete. Every apply records its name in `calls`.
  local function small_plan()
    local p = plan_mod.new{ title = "Group membership sync" }
    p:add{ kind = "group", action = "create", name = "Ops",
      changes = { { field = "users", added = { "a@x.com", "b@x.com" } } },
      apply = function(c) calls[#calls + 1] = c.name; return { id = "R3JvdXA6Mg==" } end }
    p:add{ kind = "group", action = "update", name = "Engineering", id = "R3JvdXA6MQ==",
      changes = {
        { field = "name", before = "Eng", after = "Engineering" },
        { field = "users", added = { "c@x.com" }, removed = { "d@x.com" } },
      },
      apply = function(c) calls[#calls + 1] = c.name; return true end }
    p:add{ kind = "group", action = "delete", name = "Old", id = "R3JvdXA6Mw==",
      apply = function(c) calls[#calls + 1] = c.name end }
    return p
  end

  before_each(function()
    calls = {}
    plan = small_plan()
  end)

  describe("add()", function()
    it("keeps changes in the order added and returns the change", function()
      local c = plan:add{ kind = "remote_network", action = "create", name = "HQ" }
      assert.are.equal(c, plan.changes[4])
      assert.are.same({}, c.changes)
      assert.are.same({ "Ops", "Engineering", "Old", "HQ" },
        { plan.changes[1].name, plan.changes[2].name, plan.changes[3].name, plan.changes[4].name })
    end)

    it("raises invalid_argument on malformed changes", function()
      local bad = {
        { action = "create", name = "x" },
        { kind = "group", action = "upsert", name = "x" },
        { kind = "group", action = "create" },
        { kind = "group", action = "create", name = "x", apply = "no" },
        { kind = "group", action = "create", name = "x", changes = { { added = {} } } },
        { kind = "group", action = "create", name = "x", changes = { { field = "users", added = "a" } } },
      }
      for i, change in ipairs(bad) do
        local ok, err = pcall(plan.add, plan, change)
        assert.is_false(ok, "case " .. i)
        assert.are.equal("invalid_argument", err.kind, "case " .. i)
      end
      assert.are.equal(3, plan:count())
    end)
  end)

  describe("count() and is_empty()", function()
    it("counts changes", function()
      assert.are.equal(3, plan:count())
      assert.is_false(plan:is_empty())
      local empty = plan_mod.new()
      assert.are.equal(0, empty:count())
      assert.is_true(empty:is_empty())
    end)
  end)

  describe("totals()", function()
    it("counts actions, set items and scalar field changes", function()
      assert.are.same({ create = 1, update = 1, delete = 1, added = 3, removed = 1, changed_fields = 1 },
        plan:totals())
    end)
  end)

  describe("is_destructive()", function()
    it("is true with deletes or removals only", function()
      assert.is_true(plan:is_destructive())
      local p = plan_mod.new()
      p:add{ kind = "group", action = "update", name = "G",
        changes = { { field = "users", added = { "a" }, removed = {} } } }
      assert.is_false(p:is_destructive())
      p:add{ kind = "group", action = "update", name = "H",
        changes = { { field = "users", removed = { "b" } } } }
      assert.is_true(p:is_destructive())
    end)

    it("is true when a change is marked destructive (disable, block, untrust)", function()
      local p = plan_mod.new()
      p:add{ kind = "device", action = "update", name = "laptop",
        changes = { { field = "isTrusted", before = true, after = false } } }
      assert.is_false(p:is_destructive())
      p:add{ kind = "user", action = "update", name = "a@x.com", destructive = true,
        changes = { { field = "state", before = "ACTIVE", after = "DISABLED" } } }
      assert.is_true(p:is_destructive())
      assert.is_true(p.changes[2].destructive)
    end)

    it("is true for a non-empty plan created destructive", function()
      local p = plan_mod.new{ destructive = true }
      assert.is_false(p:is_destructive())   -- nothing to confirm
      p:add{ kind = "device", action = "update", name = "laptop",
        changes = { { field = "activeState", before = "ACTIVE", after = "BLOCKED" } } }
      assert.is_true(p:is_destructive())
    end)

    it("rejects a destructive flag that is not a boolean", function()
      local ok, err = pcall(plan_mod.new, { destructive = "yes" })
      assert.is_false(ok)
      assert.are.equal("invalid_argument", err.kind)
      ok, err = pcall(plan.add, plan, { kind = "group", action = "update", name = "x", destructive = 1 })
      assert.is_false(ok)
      assert.are.equal("invalid_argument", err.kind)
    end)
  end)

  describe("render()", function()
    it("renders a small plan exactly", function()
      assert.are.equal(table.concat({
        "Group membership sync",
        '+ create group "Ops"',
        '    + users "a@x.com"',
        '    + users "b@x.com"',
        '~ update group "Engineering" (id "R3JvdXA6MQ==")',
        '    ~ name "Eng" -> "Engineering"',
        '    + users "c@x.com"',
        '    - users "d@x.com"',
        '- delete group "Old" (id "R3JvdXA6Mw==")',
        "",
        "Totals: 1 to create, 1 to update, 1 to delete; 3 added, 1 removed, 1 field changed",
        "",
      }, "\n"), plan:render())
    end)

    it("says so when there is nothing to do", function()
      assert.are.equal("Sync\nNo changes.\n", plan_mod.new{ title = "Sync" }:render())
      assert.are.equal("No changes.\n", plan_mod.new():render())
    end)

    it("prints every item of a long list unless max_items is given", function()
      local p = plan_mod.new()
      local many = {}
      for i = 1, 250 do many[i] = "u" .. i .. "@x.com" end
      p:add{ kind = "group", action = "update", name = "Big",
        changes = { { field = "users", added = many, removed = { "z@x.com" } } } }
      local full = p:render()
      local n = 0
      for _ in full:gmatch('\n    %+ users "u%d+@x%.com"') do n = n + 1 end
      assert.are.equal(250, n)
      assert.truthy(full:find('"u250@x.com"', 1, true))
      local short = p:render{ max_items = 2 }
      assert.are.equal(table.concat({
        '~ update group "Big"',
        '    + users "u1@x.com"',
        '    + users "u2@x.com"',
        "    + users ... 248 more not shown",
        '    - users "z@x.com"',
        "",
        "Totals: 1 to update; 250 added, 1 removed",
        "",
      }, "\n"), short)
    end)

    it("escapes quotes, newlines, control and invisible characters and keeps unicode", function()
      local p = plan_mod.new()
      p:add{ kind = "group", action = "create", name = 'Ops "core"\nsecond\\line',
        changes = {
          { field = "users", added = { "tab\there", "bell\7", "zoë🚀@x.com", "bad\255byte" } },
          { field = "name", before = "rtl\u{202E}txt", after = "nb\u{A0}sp zero\u{200B}w" },
          { field = "alias", before = nil, after = 42 },
        } }
      local lines = {}
      for line in p:render():gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
      assert.are.same({
        [[+ create group "Ops \"core\"\nsecond\\line"]],
        [[    + users "tab\there"]],
        [[    + users "bell\x07"]],
        '    + users "zoë🚀@x.com"',
        [[    + users "bad\xFFbyte"]],
        [[    ~ name "rtl\u{202E}txt" -> "nb\u{00A0}sp zero\u{200B}w"]],
        [[    ~ alias (none) -> 42]],
        "",
        "Totals: 1 to create; 4 added, 2 fields changed",
      }, lines)
    end)

    it("colours lines on request", function()
      local out = plan:render{ color = true }
      assert.truthy(out:find('\27[32m+ create group "Ops"\27[0m', 1, true))
      assert.truthy(out:find('\27[31m    - users "d@x.com"\27[0m', 1, true))
      assert.truthy(out:find('\27[33m    ~ name "Eng" -> "Engineering"\27[0m', 1, true))
      assert.is_nil(plan:render():find("\27", 1, true))
    end)
  end)

  describe("context", function()
    it("shows context lines under the title without counting them as changes", function()
      local p = plan_mod.new{ title = "Prune" }
      p:add{ kind = "resource", action = "delete", name = "wiki", id = "UjE=",
        context = { { field = "network", value = "AWS Prod" }, { field = "address", value = "10.0.0.9" } },
        changes = {} }
      assert.are.equal(table.concat({
        "Prune",
        '- delete resource "wiki" (id "UjE=")',
        '    = network "AWS Prod"',
        '    = address "10.0.0.9"',
        "",
        "Totals: 1 to delete",
        "",
      }, "\n"), p:render())
      assert.are.equal(0, p:totals().changed_fields)
    end)

    it("refuses context that is not an array of field tables", function()
      local p = plan_mod.new{ title = "x" }
      assert.has_error(function()
        p:add{ kind = "resource", action = "delete", name = "a", context = "network", changes = {} }
      end)
      assert.has_error(function()
        p:add{ kind = "resource", action = "delete", name = "a", context = { { value = 1 } }, changes = {} }
      end)
    end)
  end)

  describe("count()", function()
    it("uses the singular for one and the plural otherwise", function()
      assert.are.equal("1 row", plan_mod.count(1, "row"))
      assert.are.equal("0 rows", plan_mod.count(0, "row"))
      assert.are.equal("2 entries", plan_mod.count(2, "entry", "entries"))
    end)
  end)

  describe("print()", function()
    it("writes the rendering to the file", function()
      local written = {}
      plan:print({ write = function(_, s) written[#written + 1] = s end })
      assert.are.equal(plan:render(), table.concat(written))
    end)
  end)

  describe("apply()", function()
    it("applies every change in order and reports the results", function()
      local seen = {}
      local report = plan:apply{ on_result = function(c, ok, res) seen[#seen + 1] = { c.name, ok, res } end }
      assert.are.same({ "Ops", "Engineering", "Old" }, calls)
      assert.are.equal(3, report.applied)
      assert.are.equal(0, report.failed)
      assert.are.equal(0, report.skipped)
      assert.are.equal(3, report.total)
      assert.are.same({ id = "R3JvdXA6Mg==" }, report.results[1].result)
      assert.are.equal("applied", report.results[3].status)
      assert.are.same({ { "Ops", true, { id = "R3JvdXA6Mg==" } }, { "Engineering", true, true },
        { "Old", true, nil } }, seen)
    end)

    it("records a failing change and goes on with the rest", function()
      plan.changes[2].apply = function(c)
        calls[#calls + 1] = c.name
        errors.raise("mutation", "Group with id R3JvdXA6MQ== does not exist")
      end
      local seen = {}
      local report = plan:apply{ on_result = function(c, ok, res) seen[#seen + 1] = { c.name, ok, res } end }
      assert.are.same({ "Ops", "Engineering", "Old" }, calls)
      assert.are.equal(2, report.applied)
      assert.are.equal(1, report.failed)
      assert.are.equal(1, #report.failures)
      assert.are.equal(plan.changes[2], report.failures[1].change)
      assert.are.equal("mutation", report.failures[1].error.kind)
      assert.are.equal("failed", report.results[2].status)
      assert.is_false(seen[2][2])
      assert.are.equal("mutation", seen[2][3].kind)
    end)

    it("records plain Lua errors and changes without apply as failures", function()
      plan.changes[1].apply = function() error("boom") end
      plan.changes[3].apply = nil
      local report = plan:apply()
      assert.are.same({ "Engineering" }, calls)
      assert.are.equal(2, report.failed)
      assert.matches("boom", report.failures[1].error)
      assert.are.equal("invalid_argument", report.failures[2].error.kind)
    end)

    it("stops after an auth error and skips the rest", function()
      plan.changes[1].apply = function() errors.raise("auth", "the API token was refused") end
      local report = plan:apply()
      assert.are.same({}, calls)
      assert.are.equal(1, report.failed)
      assert.are.equal(2, report.skipped)
      assert.are.equal("auth", report.aborted.kind)
      assert.are.equal("skipped", report.results[3].status)
    end)

    it("goes on after an auth error when stop_on is empty", function()
      plan.changes[1].apply = function() errors.raise("auth", "refused") end
      local report = plan:apply{ stop_on = {} }
      assert.are.same({ "Engineering", "Old" }, calls)
      assert.are.equal(1, report.failed)
      assert.are.equal(2, report.applied)
    end)

    it("stops at the first failure with stop_on_error", function()
      plan.changes[1].apply = function() error("boom") end
      local report = plan:apply{ stop_on_error = true }
      assert.are.same({}, calls)
      assert.are.equal(2, report.skipped)
    end)

    it("skips the changes the skip function names", function()
      local report = plan:apply{ skip = function(c) return c.action == "create" and "done already" end }
      assert.are.same({ "Engineering", "Old" }, calls)
      assert.are.equal(1, report.skipped)
      assert.are.equal("done already", report.results[1].reason)
    end)

    it("applies nothing in a dry run and counts the changes as planned", function()
      local seen = 0
      local report = plan:apply{ dry_run = true, on_result = function() seen = seen + 1 end }
      assert.are.same({}, calls)
      assert.are.equal(0, seen)
      assert.are.equal(3, report.planned)
      assert.are.equal(0, report.applied)
      assert.is_true(report.dry_run)
      assert.are.equal("planned", report.results[2].status)
    end)
  end)

  describe("summary()", function()
    it("sums up a run with a failure", function()
      plan.changes[2].apply = function() errors.raise("mutation", "Group does not exist\nreally") end
      local report = plan:apply()
      assert.are.equal(table.concat({
        "Applied 2 of 3 changes (1 created, 1 deleted; 2 added);"
          .. " 1 failed.",
        "Failed:",
        '  ~ update group "Engineering" (id "R3JvdXA6MQ=="): twingate: mutation: Group does not exist really',
        "",
      }, "\n"), plan:summary(report))
    end)

    it("says how many changes an abort left out", function()
      plan.changes[1].apply = function() errors.raise("auth", "refused") end
      local s = plan:summary(plan:apply())
      assert.truthy(s:find("Stopped after twingate: auth: refused; 2 changes not attempted.", 1, true), s)
    end)

    it("sums up a dry run and an empty plan", function()
      assert.are.equal("Dry run: 3 changes planned, nothing applied (1 to create, 1 to update, 1 to delete;"
        .. " 3 added, 1 removed, 1 field changed).\n", plan:summary(plan:apply{ dry_run = true }))
      local empty = plan_mod.new()
      assert.are.equal("No changes.\n", empty:summary(empty:apply()))
    end)
  end)

  describe("change_label()", function()
    it("names a change by action, kind and quoted name", function()
      assert.are.equal('update group "Eng\\n"', plan_mod.change_label{ action = "update", kind = "group", name = "Eng\n" })
      assert.are.equal('create serial numbers "registered serials"',
        plan_mod.change_label{ action = "create", kind = "serial numbers", name = "registered serials" })
    end)
  end)

  describe("result_logger()", function()
    local fake = require "spec.support.fake"
    local log = require "twingate.log"
    local buf

    before_each(function()
      buf = fake.buffer()
      log.configure{ level = "info", stream = buf, format = "text" }
    end)
    after_each(function()
      log.configure{ level = "info", stream = io.stderr }
    end)

    it("logs a done change at info and a failed one at error, with the change's label", function()
      local on_result = plan_mod.result_logger()
      on_result({ action = "update", kind = "group", name = "Eng" }, true, {})
      on_result({ action = "delete", kind = "user", name = "a@x.com" }, false, "twingate: mutation: nope")
      local text = buf:text()
      assert.matches('update group "Eng": done', text, 1, true)
      assert.matches('delete user "a@x.com" failed: twingate: mutation: nope', text, 1, true)
      assert.not_matches('"Eng" failed', text, 1, true)
    end)

    it("uses the label function it is given", function()
      local on_result = plan_mod.result_logger(function(c) return c.kind .. " " .. c.name end)
      on_result({ action = "update", kind = "device", name = "Mac" }, true)
      assert.matches("device Mac: done", buf:text(), 1, true)
      assert.not_matches("update device", buf:text(), 1, true)
    end)
  end)

  describe("summary_heading() and verb()", function()
    it("words a dry run as what would be done", function()
      assert.are.equal("Summary (dry run, nothing changed):", plan_mod.summary_heading(true))
      assert.are.equal("Summary:", plan_mod.summary_heading(false))
      assert.are.equal("to create", plan_mod.verb(true, "create", "created"))
      assert.are.equal("created", plan_mod.verb(false, "create", "created"))
      assert.are.equal("created", plan_mod.verb(nil, "create", "created"))
    end)
  end)

  describe("report_lines()", function()
    local function report(t)
      local r = { dry_run = false, requests = 0, failures = {}, unknowns = {}, results = {}, already = 0 }
      for k, v in pairs(t or {}) do r[k] = v end
      return r
    end

    it("gives no line for a clean run without writes", function()
      assert.are.same({}, plan:report_lines(report()))
    end)

    it("counts write requests sent, or that a dry run would send", function()
      assert.are.same({ "  write requests: 2" }, plan:report_lines(report{ requests = 2 }))
      assert.are.same({ "  write requests it would send: 3" },
        plan:report_lines(report{ dry_run = true, requests = 5, would_send = { {}, {}, {} } }))
      -- opts.dry_run wins over the report's
      assert.are.same({ "  write requests: 5" },
        plan:report_lines(report{ dry_run = true, requests = 5, would_send = { {} } }, { dry_run = false }))
      assert.are.same({}, plan:report_lines(report{ dry_run = true, would_send = {} }))
    end)

    it("lists failures and unknown outcomes on one line each, errors escaped", function()
      local ch = plan.changes
      local lines = plan:report_lines(report{
        failures = { { change = ch[2], error = "twingate: mutation: bad\nthing\1" } },
        unknowns = { { change = ch[1], reason = "lost response" }, { change = ch[3], error = "HTTP 502" } },
      })
      assert.are.same({
        "  failed: 1",
        '    update group "Engineering": twingate: mutation: bad thing\\x01',
        "  unknown outcome (may have been applied; check): 2",
        '    create group "Ops": lost response',
        '    delete group "Old": HTTP 502',
      }, lines)
    end)

    it("names changes with the label function it is given", function()
      local lines = plan:report_lines(report{ failures = { { change = plan.changes[3], error = "no" } } },
        { label = function(c) return "f.csv:7 " .. c.name end })
      assert.are.same({ "  failed: 1", "    f.csv:7 Old: no" }, lines)
    end)

    it("tells what the journal showed as done or no longer needed, and where an early stop left off", function()
      local r = report{ already = 2, settled = 1, aborted = errors.new("transport", "connection refused"),
        results = {
          { status = "applied" },
          { status = "skipped", reason = "not attempted: the run stopped" },
          { status = "skipped", reason = "already done (journal)" },
        } }
      assert.are.same({
        "  already done by an earlier run (journal): 2",
        "  in flight in the journal and no longer needed (already applied): 1",
        "  stopped after twingate: transport: connection refused; 1 change not attempted",
      }, plan:report_lines(r))
    end)

    it("appends to the array it is given", function()
      local out = { "Summary:" }
      local got = plan:report_lines(report{ requests = 1 }, { into = out })
      assert.are.equal(out, got)
      assert.are.same({ "Summary:", "  write requests: 1" }, out)
    end)
  end)

  describe("run_quiet()", function()
    it("applies and returns the code and report, printing the plan but not the plan's summary", function()
      local out = fake_buffer()
      local opts = { stdout = out, yes = true }
      local code, report = small_plan():run_quiet({ dry_run = false }, opts)
      assert.are.equal(0, code)
      assert.are.equal(3, report.applied)
      assert.are.same({ "Ops", "Engineering", "Old" }, calls)
      assert.matches("Totals:", out:text(), 1, true)
      assert.not_matches("Applied 3 of 3", out:text(), 1, true)
      assert.is_nil(opts.quiet_summary)
    end)

    it("prints the plan's summary of what was applied when interrupted, then raises on", function()
      local out, err_out = fake_buffer(), fake_buffer()
      local ok, e = pcall(small_plan().run_quiet, small_plan(), { dry_run = false }, { stdout = out, yes = true,
        stderr = err_out, interrupted = function() if #calls >= 1 then return 2 end end })
      assert.is_false(ok)
      assert.is_true(e.interrupted)
      assert.are.equal(130, plan_mod.exit_code(e.report))
      assert.matches("\nApplied 1 of 3 changes", out:text(), 1, true)
      assert.matches("interrupted: 1 of 3 changes applied", err_out:text(), 1, true)
    end)

    it("raises other errors unchanged, printing nothing more", function()
      local p = plan_mod.new()
      p:add{ kind = "group", action = "create", name = "X", apply = function() end }
      local out = fake_buffer()
      local ok, e = pcall(p.run_quiet, p, { dry_run = false }, { stdout = out, yes = true, resume = "/nonexistent/j" })
      assert.is_false(ok)
      assert.are.equal("invalid_argument", e.kind)
      assert.are.equal("", out:text())
    end)
  end)

  describe("quote()", function()
    it("leaves plain text readable and escapes the rest", function()
      assert.are.equal('"plain"', plan_mod.quote("plain"))
      assert.are.equal([["a\"b\\c\r\n\x1B[31m"]], plan_mod.quote('a"b\\c\r\n\27[31m'))
      assert.are.equal('"Équipe 🙂"', plan_mod.quote("Équipe 🙂"))
      assert.are.equal([["\u{FEFF}x\u{2066}"]], plan_mod.quote("\u{FEFF}x\u{2066}"))
      -- overlong encodings and lone continuation bytes are bytes, not characters
      assert.are.equal([["\xC0\xAF\x80"]], plan_mod.quote("\192\175\128"))
    end)
  end)

  -- Declarative ops, batching, journal, run() and exit codes.
  describe("with ops", function()
    local graphql = require "twingate.graphql"
    local journal = require "twingate.journal"

    local function op(id)
      return { field = "groupUpdate", args = { id = id, addedUserIds = { "u" } },
        types = { id = "ID!", addedUserIds = "[ID]" }, idempotent = true }
    end

    -- fake client: every field ok except ids in `fail`; counts requests
    local function client(fail, raise)
      local c = { dry_run = false, requests = 0 }
      function c.mutate(_, doc, vars)
        c.requests = c.requests + 1
        if raise then raise(c.requests) end
        local data = {}
        for _, f in ipairs(graphql.inspect(doc).fields) do
          local id = vars["id" .. f.key:match("%d+$")]
          data[f.key] = (fail or {})[id] and { ok = false, error = "no " .. id } or { ok = true, entity = { id = id } }
        end
        return data
      end
      return c
    end

    local function op_plan(n, opts)
      local p = plan_mod.new(opts)
      for i = 1, n do
        p:add{ kind = "group", action = "update", name = "G" .. i, id = "g" .. i,
          changes = { { field = "users", added = { "u" } } }, op = op("g" .. i) }
      end
      return p
    end

    local function tmp()
      local f = os.tmpname()
      os.remove(f)
      return f
    end

    it("gives every change a stable key, numbered when repeated", function()
      local p = plan_mod.new()
      local a = p:add{ kind = "group", action = "update", name = "A" }
      local b = p:add{ kind = "group", action = "update", name = "A" }
      local c = p:add{ kind = "group", action = "update", name = "B", key = "mine" }
      assert.are.same({ "group:update:A", "group:update:A#2", "mine" }, { a.key, b.key, c.key })
      local ok, err = pcall(p.add, p, { kind = "group", action = "update", name = "C", key = "mine" })
      assert.is_false(ok)
      assert.are.equal("invalid_argument", err.kind)
    end)

    it("applies ops in ceil(n / batch_size) requests, each with its own outcome", function()
      local c = client{ g2 = true }
      local report = op_plan(5):apply{ client = c, batch_size = 2 }
      assert.are.equal(3, c.requests)
      assert.are.equal(3, report.requests)
      assert.are.equal(4, report.applied)
      assert.are.equal(1, report.failed)
      assert.are.equal("G2", report.failures[1].change.name)
      assert.are.equal(plan_mod.exit.partial, plan_mod.exit_code(report))
    end)

    it("exits 0 when all are done and 6 when none is", function()
      assert.are.equal(0, plan_mod.exit_code(op_plan(2):apply{ client = client() }))
      local report = op_plan(2):apply{ client = client{ g1 = true, g2 = true } }
      assert.are.equal(6, plan_mod.exit_code(report))
    end)

    it("counts an unknown outcome as partial (3), never as nothing done, and logs it as outcome unknown", function()
      local log = require "twingate.log"
      local lines = {}
      log.configure{ level = "warn", stream = { write = function(_, ...) for _, x in ipairs{ ... } do lines[#lines + 1] = x end end,
        flush = function() end } }
      local got = {}
      local c = client(nil, function() errors.raise("http", "HTTP 502", { maybe_applied = true, status = 502 }) end)
      local report = op_plan(1):apply{ client = c, on_result = function(ch, ok) got[#got + 1] = ok end }
      log.configure{ level = "info", stream = io.stderr }
      assert.are.equal(1, report.unknown)
      assert.are.equal(0, report.failed)
      assert.are.equal(plan_mod.exit.partial, plan_mod.exit_code(report))
      assert.are.same({}, got) -- on_result is only for applied and failed changes
      assert.matches('update group "G1": outcome unknown', table.concat(lines), 1, true)
      assert.not_matches("failed", table.concat(lines))
    end)

    it("stops when the API becomes unreachable: the rest are not attempted and the exit code is 5", function()
      local c = client(nil, function(n) if n >= 2 then errors.raise("transport", "connection refused", {}) end end)
      local report = op_plan(5):apply{ client = c, batch_size = 1 }
      assert.are.equal(2, c.requests)
      assert.are.equal(1, report.applied)
      assert.are.equal(1, report.failed)
      assert.are.equal(3, report.skipped)
      assert.are.equal("transport", report.aborted.kind)
      assert.are.equal(5, plan_mod.exit_code(report))
      assert.matches("3 changes not attempted", op_plan(5):summary(report), 1, true)
      local r2 = op_plan(2):apply{ client = client(nil, function() errors.raise("rate_limited", "429", {}) end), batch_size = 1 }
      assert.are.equal(1, r2.skipped)
      assert.are.equal(5, plan_mod.exit_code(r2))
    end)

    describe("exit codes and the stop line after unknown outcomes", function()
      -- requests numbered in `bad` raise `err`, the others succeed
      local function on(bad, err)
        return client(nil, function(n) if bad[n] then error(err(), 0) end end)
      end
      local function lost() return errors.new("transport", "Empty reply from server", { maybe_applied = true }) end
      local function http500() return errors.new("http", "HTTP 500", { maybe_applied = true, status = 500 }) end
      local function refused() return errors.new("transport", "connection refused", {}) end

      it("exits 3 without a stop line when a lost write ends unknown and the next change is applied", function()
        for _, err in ipairs{ lost, http500 } do
          local p = op_plan(2)
          local report = p:apply{ client = on({ true, true, true }, err), batch_size = 1 }
          assert.are.equal(1, report.unknown)
          assert.are.equal(1, report.applied)
          assert.are.equal(3, plan_mod.exit_code(report))
          assert.not_matches("[Ss]topped after", p:summary(report))
          assert.not_matches("stopped after", table.concat(p:report_lines(report), "\n"))
        end
      end)

      it("exits 3 when every change ends unknown, whichever error came last", function()
        for _, err in ipairs{ lost, http500 } do
          local bad = setmetatable({}, { __index = function() return true end })
          local p = op_plan(3)
          local report = p:apply{ client = on(bad, err), batch_size = 1 }
          assert.are.equal(3, report.unknown)
          assert.are.equal(3, plan_mod.exit_code(report))
          assert.not_matches("[Ss]topped after", p:summary(report))
        end
      end)

      it("exits 6 when every attempted change definitely failed and 3 when one of them was applied", function()
        local p = op_plan(2)
        local report = p:apply{ client = on({ false, true }, refused), batch_size = 1 }
        assert.are.equal(3, plan_mod.exit_code(report)) -- the last one failed, nothing left: no early stop
        assert.not_matches("[Ss]topped after", p:summary(report))
        report = op_plan(1):apply{ client = on({ true }, refused), batch_size = 1 }
        assert.are.equal(6, plan_mod.exit_code(report))
      end)

      it("exits 5 with the stop line only when the API went away and changes were left not attempted", function()
        local p = op_plan(3)
        local report = p:apply{ client = on({ false, true, true }, refused), batch_size = 1 }
        assert.are.equal(1, report.skipped)
        assert.are.equal(5, plan_mod.exit_code(report))
        assert.matches("Stopped after .*; 1 change not attempted", p:summary(report))
      end)
    end)

    it("sends nothing in a dry run and lists what would be sent", function()
      local c = client()
      c.dry_run = true
      local report = op_plan(3):apply{ client = c, batch_size = 2 }
      assert.are.equal(0, c.requests)
      assert.are.equal(3, report.planned)
      assert.are.equal(2, #report.would_send)
    end)

    it("journals each change before and after sending", function()
      local path = tmp()
      local p = op_plan(2)
      local j = journal.create(path, { fingerprint = p:fingerprint() })
      p:apply{ client = client{ g2 = true }, journal = j }
      j:close()
      local list = journal.read(path)
      local states = {}
      for _, e in ipairs(list) do states[#states + 1] = e.key .. "=" .. e.state end
      assert.are.same({ "group:update:G1=sending", "group:update:G2=sending", "group:update:G1=done",
        "group:update:G2=failed" }, states)
      assert.are.equal("groupUpdate", list[1].op.field)
      os.remove(path)
    end)

    it("on resume skips done changes and re-checks in-flight ones", function()
      local path = tmp()
      local p = op_plan(3)
      local j = journal.create(path, { fingerprint = p:fingerprint() })
      j:write{ key = "group:update:G1", state = "sending" }
      j:write{ key = "group:update:G1", state = "done" }
      j:write{ key = "group:update:G2", state = "sending" }
      j:close()
      -- G3 is not idempotent and was in flight: must not be resent blindly
      p.changes[3].op.idempotent = false
      j = journal.resume(path, { fingerprint = p:fingerprint() })
      j:write{ key = "group:update:G3", state = "sending" }
      local c = client()
      -- nothing to verify: no waiting (an idempotent resend is harmless)
      local report = p:apply{ client = c, journal = j, sleep = function() error("waited") end }
      j:close()
      assert.are.same({ "skipped", "applied", "unknown" },
        { report.results[1].status, report.results[2].status, report.results[3].status })
      assert.are.equal(1, report.already)
      assert.are.equal(1, c.requests)
      assert.are.equal(plan_mod.exit.partial, plan_mod.exit_code(report))
      os.remove(path)
    end)

    -- A journal where G1 was sent at `sent` (wall clock) and never finished.
    local function in_flight_journal(p, sent)
      local path = tmp()
      local j = journal.create(path, { fingerprint = p:fingerprint(), now = function() return sent end })
      j:write{ key = "group:update:G1", state = "sending" }
      j:close()
      return path
    end

    it("verifies an in-flight change before resending it", function()
      local p = op_plan(1)
      local started
      p.changes[1].op.verify = function(_, ctx)
        started = ctx.started
        return { ok = true, entity = { id = "g1" } }
      end
      local path = in_flight_journal(p, 1000)
      local j = journal.resume(path, { fingerprint = p:fingerprint() })
      local c = client()
      local report = p:apply{ client = c, journal = j, timeout = 35, now = function() return 2000 end,
        sleep = function() error("waited") end }
      j:close()
      assert.are.equal(0, c.requests)
      assert.are.equal(1, report.applied)
      assert.is_true(report.results[1].verified)
      assert.are.equal(1000, started)
      os.remove(path)
    end)

    it("waits until the request timeout has passed since an in-flight change was sent, then verifies", function()
      local p = op_plan(1)
      local events = {}
      p.changes[1].op.verify = function()
        events[#events + 1] = "verify"
        return nil   -- not there: resent
      end
      local path = in_flight_journal(p, 1000.5)
      local j = journal.resume(path, { fingerprint = p:fingerprint() })
      local c = client()
      local report = p:apply{ client = c, journal = j, timeout = 5, now = function() return 1002 end,
        sleep = function(s) events[#events + 1] = s end }
      j:close()
      assert.are.same({ 3.5, "verify" }, events)
      assert.are.equal(1, c.requests)
      assert.are.equal(1, report.applied)
      os.remove(path)
    end)

    it("takes the wait from the client's request timeout by default", function()
      local p = op_plan(1)
      p.changes[1].op.verify = function() return { ok = true, entity = { id = "g1" } } end
      local path = in_flight_journal(p, 1000)
      local j = journal.resume(path, { fingerprint = p:fingerprint() })
      local c = client()
      c.api = { timeout = 2 }
      local waited = {}
      p:apply{ client = c, journal = j, now = function() return 1000.5 end,
        sleep = function(s) waited[#waited + 1] = s end }
      j:close()
      assert.are.same({ 1.5 }, waited)
      os.remove(path)
    end)

    it("fingerprints the given inputs, else the changes", function()
      assert.are.equal("x", plan_mod.new{ fingerprint = "x" }:fingerprint())
      assert.are.equal(op_plan(2):fingerprint(), op_plan(2):fingerprint())
      assert.are_not.equal(op_plan(2):fingerprint(), op_plan(3):fingerprint())
    end)
  end)

  describe("run()", function()
    local function sink()
      local buf = {}
      return { write = function(self, ...) for _, x in ipairs{ ... } do buf[#buf + 1] = x end return self end,
        flush = function() end, text = function() return table.concat(buf) end }
    end
    local function input(line)
      return { read = function() return line end }
    end

    it("asks before a destructive plan in an interactive run and stops on no", function()
      local out, prompt = sink(), sink()
      local code = small_plan():run({ dry_run = false }, { stdout = out, prompt = prompt, interactive = true,
        stdin = input("n") })
      assert.are.equal(plan_mod.exit.failed, code)
      assert.are.same({}, calls)
      -- the question goes to the prompt stream (stderr), never only to a piped stdout
      assert.matches("Apply 3 changes? [y/N] ", prompt.text(), 1, true)
      assert.not_matches("[y/N]", out.text(), 1, true)
      assert.matches("Nothing applied.", out.text(), 1, true)
    end)

    it("applies after yes, and without asking with --yes or when not interactive", function()
      local code = small_plan():run({ dry_run = false }, { stdout = sink(), prompt = sink(), interactive = true,
        stdin = input("y") })
      assert.are.equal(0, code)
      assert.are.same({ "Ops", "Engineering", "Old" }, calls)
      calls = {}
      local out = sink()
      small_plan():run({ dry_run = false }, { stdout = out, interactive = true, yes = true,
        stdin = { read = function() error("asked") end } })
      assert.are.equal(3, #calls)
      calls = {}
      small_plan():run({ dry_run = false }, { stdout = sink(), interactive = false,
        stdin = { read = function() error("asked") end } })
      assert.are.equal(3, #calls)
    end)

    it("asks before a plan marked destructive that neither deletes nor removes", function()
      local p = plan_mod.new{ title = "Offboarding" }
      p:add{ kind = "user", action = "update", name = "a@x.com", destructive = true,
        changes = { { field = "state", before = "ACTIVE", after = "DISABLED" } },
        apply = function(c) calls[#calls + 1] = c.name end }
      local prompt = sink()
      local code = p:run({ dry_run = false }, { stdout = sink(), prompt = prompt, interactive = true, stdin = input("n") })
      assert.are.equal(plan_mod.exit.failed, code)
      assert.are.same({}, calls)
      assert.matches("Apply 1 change? [y/N] ", prompt.text(), 1, true)
    end)

    it("says \"No changes.\" once for an empty plan, with its title", function()
      for _, dry in ipairs{ false, true } do
        local out = sink()
        local code = plan_mod.new{ title = "Sync" }:run({ dry_run = dry }, { stdout = out })
        assert.are.equal(0, code)
        assert.are.equal("Sync\nNo changes.\n", out.text())
      end
    end)

    it("stays a dry run when the client is in dry run, whatever opts.dry_run says", function()
      local out = sink()
      local code, report = small_plan():run({ dry_run = true }, { dry_run = false, stdout = out, yes = true })
      assert.are.equal(0, code)
      assert.are.same({}, calls)
      assert.is_true(report.dry_run)
      assert.matches("Dry run:", out.text(), 1, true)
      assert.not_matches("Applied 0", out.text(), 1, true)
    end)

    it("runs again on the same --journal FILE once the run in it finished (old one in FILE.prev)", function()
      local path = os.tmpname()
      os.remove(path)
      for night = 1, 2 do
        calls = {}
        local code = small_plan():run({ dry_run = false }, { stdout = sink(), yes = true, journal = path })
        assert.are.equal(0, code, "night " .. night)
        assert.are.equal(3, #calls)
      end
      local f = assert(io.open(path .. ".prev"))
      assert.matches('"state":"done"', f:read("a"), 1, true)
      f:close()
      -- an unfinished journal is refused before the plan is printed
      f = assert(io.open(path, "ab"))
      f:write('{"key":"group:create:Ops","state":"sending"}\n')
      f:close()
      calls = {}
      local out = sink()
      local ok, err = pcall(small_plan().run, small_plan(), { dry_run = false }, { stdout = out, yes = true,
        journal = path })
      assert.is_false(ok)
      assert.matches("unfinished run", err.message, 1, true)
      assert.are.same({}, calls)
      assert.are.equal("", out.text())
      os.remove(path)
      os.remove(path .. ".prev")
    end)

    it("stops between changes when interrupted, says what was applied, and raises for exit 130", function()
      local path = os.tmpname()
      os.remove(path)
      local polls = 0
      local err_out = sink()
      local ok, e = pcall(small_plan().run, small_plan(), { dry_run = false }, { stdout = sink(), yes = true,
        journal = path, stderr = err_out,
        interrupted = function() polls = polls + 1; if #calls >= 1 then return 2 end end })
      assert.is_false(ok)
      assert.is_true(e.interrupted)
      assert.are.equal(2, e.signal)
      assert.is_true(e.reported)
      assert.are.equal(130, plan_mod.exit_code(e.report))
      assert.are.same({ "Ops" }, calls)
      assert.are.equal("twingate-lua: interrupted: 1 of 3 changes applied; resume with --resume " .. path .. "\n",
        err_out.text())
      -- the journal resumes the rest
      calls = {}
      local code = small_plan():run({ dry_run = false }, { stdout = sink(), yes = true, resume = path })
      assert.are.equal(0, code)
      assert.are.same({ "Engineering", "Old" }, calls)
      os.remove(path)
    end)

    it("says a journal would allow resuming when interrupted without one", function()
      local err_out = sink()
      local ok, e = pcall(small_plan().run, small_plan(), { dry_run = false }, { stdout = sink(), yes = true,
        stderr = err_out, interrupted = function() return 15 end })
      assert.is_false(ok)
      assert.are.equal(143, plan_mod.exit_code(e.report))
      assert.are.same({}, calls)
      assert.matches("interrupted: 0 of 3 changes applied; run it again", err_out.text(), 1, true)
      assert.matches("--journal FILE", err_out.text(), 1, true)
    end)

    it("never asks in a dry run", function()
      local code = small_plan():run({ dry_run = true }, { stdout = sink(), interactive = true,
        stdin = { read = function() error("asked") end } })
      assert.are.equal(0, code)
      assert.are.same({}, calls)
    end)
  end)

  describe("read_input()", function()
    local path
    local function write(content)
      local f = assert(io.open(path, "wb"))
      f:write(content)
      f:close()
    end
    before_each(function() path = os.tmpname() end)
    after_each(function() os.remove(path) end)

    it("returns a header reader named after the file and the file's whole content", function()
      write("email;group\r\na@x.com;Ops\r\n")
      local reader, content = plan_mod.read_input(path)
      assert.are.equal("email;group\r\na@x.com;Ops\r\n", content)
      reader:require_columns { "email", "group" }
      local row, line = reader:read()
      assert.are.same({ "a@x.com", "Ops" }, { row.email, row.group })
      assert.are.equal(2, line)
      assert.is_nil(reader:read())
    end)

    it("reads with the --delimiter given: , ; tab (the name or the character) and auto", function()
      write("a\tb,c\n1\t2,3\n")
      for _, d in ipairs { "tab", "\t" } do
        local row = plan_mod.read_input(path, { delimiter = d }):read()
        assert.are.same({ "1", "2,3" }, { row.a, row["b,c"] })
      end
      local row = plan_mod.read_input(path, { delimiter = "," }):read()
      assert.are.same({ "1\t2", "3" }, { row["a\tb"], row.c })
      write("a;b\n1;2\n")
      assert.are.equal("2", plan_mod.read_input(path, { delimiter = ";" }):read().b)
      assert.are.equal("2", plan_mod.read_input(path, { delimiter = "auto" }):read().b)
    end)

    it("refuses another --delimiter before opening the file", function()
      local ok, err = pcall(plan_mod.read_input, path .. ".missing", { delimiter = "|" })
      assert.is_false(ok)
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal('--delimiter must be one of , ; tab auto (got "|")', err.message)
    end)

    it("raises invalid_argument for a missing file and a directory", function()
      local ok, err = pcall(plan_mod.read_input, path .. ".missing")
      assert.is_false(ok)
      assert.are.equal("invalid_argument", err.kind)
      assert.matches("^cannot open " .. path:gsub("%p", "%%%0") .. "%.missing: ", err.message)
      ok, err = pcall(plan_mod.read_input, "/tmp")
      assert.is_false(ok)
      assert.are.equal("/tmp: is a directory", err.message)
    end)
  end)

  describe("fingerprint()", function()
    it("hashes the parts joined by NUL, converting each with tostring", function()
      assert.are.equal(plan_mod.hash(table.concat({ "s", "body", "email", "auto", "true", "nil" }, "\0")),
        plan_mod.fingerprint({}, "s", "body", "email", "auto", true, nil))
      assert.are_not.equal(plan_mod.fingerprint({}, "s", "body", false),
        plan_mod.fingerprint({}, "s", "body", nil))
    end)

    it("refuses a --resume journal of another plan, accepts its own", function()
      local path = os.tmpname()
      local fp = plan_mod.fingerprint({}, "s", "body")
      local f = assert(io.open(path, "wb"))
      f:write('{"key":"a","state":"done","fingerprint":"' .. fp .. '"}\n')
      f:close()
      local ok1 = pcall(plan_mod.fingerprint, { resume = path }, "s", "body")
      local ok2, err = pcall(plan_mod.fingerprint, { resume = path }, "s", "other body")
      os.remove(path)
      assert.is_true(ok1)
      assert.is_false(ok2)
      assert.are.equal("invalid_argument", err.kind)
      assert.matches("different plan", err.message, 1, true)
    end)
  end)

  describe("parse_args()", function()
    it("adds the standard options", function()
      local opts, run = plan_mod.parse_args({ [0] = "x.lua", "f.csv", "--batch-size", "5", "--yes",
        "--journal", "j" }, { positional = { "FILE" } })
      assert.are.equal("f.csv", opts[1])
      assert.are.same({ batch_size = 5, yes = true, journal = "j" }, { batch_size = run.batch_size,
        yes = run.yes, journal = run.journal })
    end)

    it("rejects a bad batch size and --journal with --resume", function()
      for _, argv in ipairs{ { [0] = "x", "--batch-size", "ten" }, { [0] = "x", "--batch-size", "0" },
        { [0] = "x", "--journal", "a", "--resume", "b" } } do
        local ok, err = pcall(plan_mod.parse_args, argv, {})
        assert.is_false(ok)
        assert.are.equal("invalid_argument", err.kind)
      end
    end)

    describe("journal arguments, checked before any work", function()
      local path
      local function write(text)
        local f = assert(io.open(path, "wb"))
        f:write(text)
        f:close()
      end
      before_each(function() path = os.tmpname() end)
      after_each(function() os.remove(path); os.remove(path .. ".prev") end)

      it("accepts --journal FILE holding a finished run, refuses an unfinished one", function()
        write('{"key":"a","state":"sending"}\n{"key":"a","state":"done"}\n')
        local _, run = plan_mod.parse_args({ [0] = "x", "--journal", path }, {})
        assert.are.equal(path, run.journal)
        write('{"key":"a","state":"sending"}\n')
        local ok, err = pcall(plan_mod.parse_args, { [0] = "x", "--journal", path }, {})
        assert.is_false(ok)
        assert.matches("--resume " .. path, err.message, 1, true)
      end)

      it("refuses a missing --resume FILE, and one of another plan with check_resume", function()
        local ok, err = pcall(plan_mod.parse_args, { [0] = "x", "--resume", path .. ".missing" }, {})
        assert.is_false(ok)
        assert.are.equal("invalid_argument", err.kind)
        write('{"key":"a","state":"done","fingerprint":"fp"}\n')
        local _, run = plan_mod.parse_args({ [0] = "x", "--resume", path }, {})
        plan_mod.check_resume(run, "fp")
        ok, err = pcall(plan_mod.check_resume, run, "other")
        assert.is_false(ok)
        assert.matches("different plan", err.message, 1, true)
      end)
    end)
  end)
end)
