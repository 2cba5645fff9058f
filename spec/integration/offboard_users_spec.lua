-- scripts/offboard-users.lua through the built binary against the simulator:
-- end states (memberships, devices, user states), batched writes, SYNCED and
-- SYSTEM groups, unknown emails, dry run, idempotence, bad CSVs, hostile
-- names, injected failures, a killed run resumed from its journal.
local sim = require "spec.support.sim"
local cli = require "spec.support.cli"
local h = require "spec.fixtures.ops.helper"

local SCRIPT = "scripts/offboard-users.lua"
local HOSTILE = 'Ops "quoted", {braces} $var \n new line ✨'
local s

local function offboard(csv_text, ...)
  local path = cli.write_file(cli.tmppath(".csv"), csv_text)
  local code, out, err = h.run(s, { SCRIPT, path, ... })
  return code, out, err, path
end

local function emails_csv(list)
  local rows = {}
  for i, e in ipairs(list) do rows[i] = { e } end
  return h.csv({ "email" }, rows)
end

-- { users = email -> user, groups = name -> sorted member emails, devices = name -> device }
local function state()
  local t = s:state().tables
  local email, users = {}, {}
  for _, u in ipairs(t.users) do
    email[u.id] = u.email:lower()
    users[u.email:lower()] = u
  end
  local groups = {}
  for _, g in ipairs(t.groups) do
    local list = {}
    for _, id in ipairs(g.userIds or {}) do list[#list + 1] = email[id] end
    table.sort(list)
    groups[g.name] = list
  end
  return { users = users, groups = groups, devices = h.by(t.devices, "name") }
end

local function has(list, x)
  for _, v in ipairs(list or {}) do if v == x then return true end end
  return false
end

local function seed()
  local users, all = {}, {}
  for i = 1, 12 do
    users[i] = { email = string.format("User%02d@Example.com", i) }
    all[i] = string.format("user%02d@example.com", i)
  end
  users[#users + 1] = { email = "disabled@example.com", state = "DISABLED" }
  users[#users + 1] = { email = "loner@example.com" }   -- no groups, no devices
  local groups = {}
  for i = 1, 5 do groups[i] = { name = "G" .. i, members = all } end
  groups[#groups + 1] = { name = HOSTILE, members = { "user01@example.com", "user12@example.com" } }
  groups[#groups + 1] = { name = "Synced", type = "SYNCED", members = { "user01@example.com" } }
  local devices = {}
  for i = 1, 6 do
    devices[#devices + 1] = { user = all[i], name = "laptop-" .. i, serialNumber = "SN" .. i }
  end
  devices[#devices + 1] = { user = all[2], name = "blocked-2", activeState = "BLOCKED" }
  devices[#devices + 1] = { user = all[3], name = "archived-3", activeState = "ARCHIVED" }
  devices[#devices + 1] = { user = all[12], name = "laptop-12" }
  return { users = users, groups = groups, devices = devices, everyoneGroup = true }
end

describe("scripts/offboard-users.lua #integration", function()
  sim.suite{ seed = seed, teardown = cli.cleanup, started = function(x) s = x end }

  describe("offboarding", function()
    it("removes from every group, blocks devices and disables users, in batched writes", function()
      local code, out, err = offboard(emails_csv{ "USER01@example.com", "user02@EXAMPLE.com", "user03@example.com" },
        "--yes")
      assert.are.equal(3, code, out .. err)   -- user01 stays in the SYNCED group
      local st = state()
      for _, e in ipairs{ "user01@example.com", "user02@example.com", "user03@example.com" } do
        for i = 1, 5 do assert.is_false(has(st.groups["G" .. i], e), e .. " in G" .. i) end
        assert.are.equal("DISABLED", st.users[e].state)
        assert.is_true(has(st.groups.Everyone, e))      -- SYSTEM group left alone
      end
      assert.are.same({ "user12@example.com" }, st.groups[HOSTILE])
      assert.are.same({ "user01@example.com" }, st.groups.Synced)
      assert.are.equal(9, #st.groups.G1)
      for i = 1, 3 do assert.are.equal("BLOCKED", st.devices["laptop-" .. i].activeState) end
      assert.are.equal("ACTIVE", st.devices["laptop-4"].activeState)
      assert.are.equal("ARCHIVED", st.devices["archived-3"].activeState)   -- never un-archived
      assert.are.equal("ACTIVE", st.users["user04@example.com"].state)
      -- 6 groupUpdates (one per group), 3 deviceBlocks, 3 userDetailsUpdates: 12 changes, 2 requests
      assert.are.equal(2, (h.count(s, "mutation")))
      assert.are.equal(6, select(2, h.count(s, "mutation", "groupUpdate")))
      assert.are.equal(3, select(2, h.count(s, "mutation", "deviceBlock")))
      assert.are.equal(3, select(2, h.count(s, "mutation", "userDetailsUpdate")))
      assert.is_true(h.count(s, "query") <= 3)
      assert.matches("memberships of SYNCED groups left in place", out, 1, true)
      assert.matches('"User01@Example.com" in "Synced"', out, 1, true)
    end)

    it("writes singular counts for one: 1 row, 1 user, 1 duplicate row, in 1 group", function()
      s:load{ users = { { email = "solo@example.com" } }, groups = { { name = "G", members = { "solo@example.com" } } } }
      local code, out, err = offboard(emails_csv{ "solo@example.com", "solo@example.com" }, "--dry-run")
      assert.are.equal(0, code, out .. err)
      assert.matches(": 2 rows, 1 user, 1 duplicate row merged", err, 1, true)
      assert.matches("group memberships to remove: 1 (in 1 group)\n", out, 1, true)
    end)

    it("says 'the header has 1 column' for a row wider than a one-column header", function()
      local code, out, err, path = offboard("email\nsolo@example.com,extra\n")
      assert.are.equal(2, code, out .. err)
      assert.matches(path .. ":2:18: row has 2 fields but the header has 1 column\n", err .. "\n", 1, true)
      assert.not_matches("1 columns", err, 1, true)
    end)

    it("archives devices and deletes users with --archive-devices --delete-users", function()
      local code, out, err = offboard(emails_csv{ "user04@example.com", "user05@example.com" },
        "--archive-devices", "--delete-users", "--yes")
      assert.are.equal(0, code, out .. err)
      local st = state()
      assert.is_nil(st.users["user04@example.com"])
      assert.is_nil(st.users["user05@example.com"])
      assert.are.equal(2, select(2, h.count(s, "mutation", "deviceArchive")))
      assert.are.equal(2, select(2, h.count(s, "mutation", "userDelete")))
      assert.matches('- delete user "User04@Example.com"', out, 1, true)
      assert.matches('~ activeState "ACTIVE" -> "ARCHIVED"', out, 1, true)
      -- a re-run finds no such users any more
      local code2, out2 = offboard(emails_csv{ "user04@example.com" }, "--delete-users", "--yes")
      assert.are.equal(3, code2)
      assert.matches("or deleted already", out2, 1, true)
    end)

    it("archives a blocked device with --archive-devices", function()
      local code, out, err = offboard(emails_csv{ "user02@example.com" }, "--archive-devices")
      assert.are.equal(0, code, out .. err)
      assert.are.equal("ARCHIVED", state().devices["blocked-2"].activeState)
    end)

    it("reports unknown emails with FILE:LINE and exits 3, doing the rest", function()
      local code, out, err, path = offboard(emails_csv{ "user04@example.com", "nobody@example.com" })
      assert.are.equal(3, code, out .. err)
      assert.matches(path .. ':3: "nobody@example.com"', out, 1, true)
      assert.are.equal("DISABLED", state().users["user04@example.com"].state)
    end)

    it("finds a user by a hostile but valid email", function()
      s:load{ users = { { email = 'o\'brien+"x"{$}@example.com' } },
        groups = { { name = HOSTILE, members = { 'o\'brien+"x"{$}@example.com' } } } }
      local code, out, err = offboard(emails_csv{ 'O\'Brien+"x"{$}@Example.com' })
      assert.are.equal(0, code, out .. err)
      local st = state()
      assert.are.same({}, st.groups[HOSTILE])
      assert.matches('~ update group "Ops \\"quoted\\", {braces} $var \\n new line ✨"', out, 1, true)
    end)
    it("finds a user whose email differs in non-ASCII case", function()
      s:load{ users = { { email = "Ünal@example.com" }, { email = "Иван@example.com" } },
        groups = { { name = "Eng", members = { "Ünal@example.com", "Иван@example.com" } } } }
      local code, out, err = offboard(emails_csv{ "ünal@example.com", "ИВАН@example.com" })
      assert.are.equal(0, code, out .. err)
      assert.are.same({}, state().groups.Eng)
      assert.not_matches("unknown", out, 1, true)
    end)
  end)

  describe("plan, dry run and idempotence", function()
    it("sends no mutation in a dry run and shows the plan", function()
      local code, out, err = offboard(emails_csv{ "user01@example.com" }, "--dry-run")
      assert.are.equal(3, code, out .. err)   -- the SYNCED membership is reported as well
      assert.are.equal(0, (h.count(s, "mutation")))
      assert.matches('~ update group "G1"', out, 1, true)
      assert.matches('- members "User01@Example.com"', out, 1, true)
      assert.matches('~ state "ACTIVE" -> "DISABLED"', out, 1, true)
      assert.matches("Summary (dry run, nothing changed):\n  users: 1 listed, 1 found\n"
        .. "  group memberships to remove: 6 (in 6 groups)\n  devices to block: 1\n  users to disable: 1\n"
        .. "  write requests it would send: 1\n", out, 1, true)
      assert.not_matches("Dry run:", out, 1, true)
      assert.are.equal(1, select(2, out:gsub("Summary", "")), out)
      assert.are.equal("ACTIVE", state().users["user01@example.com"].state)
    end)

    it("changes nothing on a second run", function()
      local text = emails_csv{ "user02@example.com", "user03@example.com", "disabled@example.com" }
      assert.are.equal(0, (offboard(text)))
      s:reset()
      local code, out = offboard(text)
      assert.are.equal(0, code, out)
      assert.are.equal(0, (h.count(s, "mutation")))
      assert.are.equal(1, select(2, out:gsub("No changes%.", "")), out)
      assert.not_matches("Summary", out, 1, true)
      assert.not_matches("removed: 0", out, 1, true)
    end)

    it("prints one summary after applying, without the plan's applied line", function()
      local code, out, err = offboard(emails_csv{ "user02@example.com", "nobody@example.com" }, "--yes")
      assert.are.equal(3, code, out .. err)     -- nobody@ is unknown
      assert.not_matches("Applied ", out, 1, true)
      assert.are.equal(1, select(2, out:gsub("Summary", "")), out)
      assert.matches("Summary:\n  users: 2 listed, 1 found\n", out, 1, true)
      assert.matches("  users disabled: 1\n  write requests: 1\n  unknown emails (no such user): 1\n", out, 1, true)
      -- a second run: "No changes." and the unknown email, no summary of zeros
      s:reset()
      code, out = offboard(emails_csv{ "user02@example.com", "nobody@example.com" }, "--yes")
      assert.are.equal(3, code, out)
      assert.are.equal(1, select(2, out:gsub("No changes%.", "")), out)
      assert.not_matches("users disabled: 0", out, 1, true)
      assert.matches('"nobody@example.com"', out, 1, true)
    end)

    it("quotes the owner's email in a device's label", function()
      local code, out, err = offboard(emails_csv{ "user01@example.com" }, "--dry-run")
      assert.are.equal(3, code, out .. err)
      assert.matches('~ update device "laptop-1 of \\"User01@Example.com\\""', out, 1, true)
    end)
  end)

  describe("confirmation", function()
    -- run under a pseudo-terminal, answering `answer`
    local function on_tty(answer, csv_text, ...)
      local path = cli.write_file(cli.tmppath(".csv"), csv_text)
      return h.on_tty(s, answer, { SCRIPT, path, ... })
    end

    it("asks on a terminal, even when the plan only disables, and applies nothing on no", function()
      local code, out = on_tty("n", emails_csv{ "disabled@example.com", "loner@example.com" })
      assert.are.equal(1, code, out)
      assert.matches("Apply 1 change? [y/N]", out, 1, true)
      assert.matches("Nothing applied.", out, 1, true)
      assert.are.equal(0, (h.count(s, "mutation")))
      assert.are.equal("ACTIVE", state().users["loner@example.com"].state)
    end)

    it("applies on yes, and does not ask with --yes", function()
      local code, out = on_tty("y", emails_csv{ "user04@example.com" })
      assert.are.equal(0, code, out)
      assert.are.equal("DISABLED", state().users["user04@example.com"].state)
      code, out = on_tty("n", emails_csv{ "user05@example.com" }, "--yes")
      assert.are.equal(0, code, out)
      assert.not_matches("[y/N]", out, 1, true)
      assert.are.equal("DISABLED", state().users["user05@example.com"].state)
    end)
  end)

  describe("bad input", function()
    it("reports every invalid row with FILE:LINE and sends nothing", function()
      local code, out, err = h.run(s, { SCRIPT, h.FIXTURES .. "bad_emails.csv" })
      assert.are.equal(2, code, out .. err)
      assert.matches('bad_emails.csv:3: invalid email "not-an-email"', err, 1, true)
      assert.matches("bad_emails.csv:4: empty \"email\"", err, 1, true)
      assert.are.equal(0, #s:requests())
    end)

    it("rejects emails with invisible characters, quoted, with FILE:LINE", function()
      local code, out, err, path = offboard("email\nuser01@example.com\u{A0}\nuser02@example.com\u{200B}\n")
      assert.are.equal(2, code, out .. err)
      assert.matches(path .. ':2: invalid email "user01@example.com\\u{00A0}"', err, 1, true)
      assert.matches(path .. ':3: invalid email "user02@example.com\\u{200B}"', err, 1, true)
      assert.are.equal(0, #s:requests())
    end)

    it("prints each invalid row on its own stderr line, then one line", function()
      local code, out, err, path = offboard("email\nnot-an-email\n\"\"\n")
      assert.are.equal(2, code, out .. err)
      local lines = {}
      for l in err:gmatch("[^\n]+") do if not l:find(": info: ", 1, true) then lines[#lines + 1] = l end end
      assert.are.same({
        "twingate-lua: error: " .. path .. ':2: invalid email "not-an-email"',
        "twingate-lua: error: " .. path .. ':3: empty "email"',
        "twingate-lua: twingate: invalid_argument: 2 invalid rows in " .. path .. ", nothing changed",
      }, lines)
    end)

    it("reads emails neutralised by export.lua without the leading '", function()
      s:load{ users = { { email = "-bob@example.com" }, { email = "+ann@example.com" } } }
      local code, out, err = offboard(emails_csv{ "'-bob@example.com", "'+ann@example.com" })
      assert.are.equal(0, code, out .. err)
      assert.are.equal("DISABLED", state().users["-bob@example.com"].state)
      assert.are.equal("DISABLED", state().users["+ann@example.com"].state)
    end)

    it("refuses a directory with 'PATH: is a directory'", function()
      local code, _, err = h.run(s, { SCRIPT, "/tmp" })
      assert.are.equal(2, code)
      assert.matches("/tmp: is a directory", err, 1, true)
      assert.are.equal(0, #s:requests())
    end)

    it("reports a malformed CSV with FILE:LINE", function()
      local code, _, err = h.run(s, { SCRIPT, h.FIXTURES .. "bad_emails_quote.csv" })
      assert.are.equal(2, code)
      assert.matches("bad_emails_quote.csv:3", err, 1, true)
      assert.are.equal(0, #s:requests())
    end)

    it("names a missing column and honours --email-column", function()
      local code, _, err = offboard(h.csv({ "mail" }, { { "user04@example.com" } }))
      assert.are.equal(2, code)
      assert.matches('missing column "email"', err, 1, true)
      code = offboard(h.csv({ "mail" }, { { "user04@example.com" } }), "--email-column", "mail")
      assert.are.equal(0, code)
      assert.are.equal("DISABLED", state().users["user04@example.com"].state)
    end)
  end)

  describe("injected failures", function()
    it("exits 3 when some changes fail and the others are applied", function()
      s:fault{ match = "mutation", graphqlError = "injected failure", count = 1 }
      local code, out, err = offboard(emails_csv{ "user12@example.com" }, "--batch-size", "1")
      assert.are.equal(3, code, out .. err)
      assert.matches("injected failure", out, 1, true)
      local st = state()
      -- the first change (group G1) failed; the rest were applied
      assert.is_true(has(st.groups.G1, "user12@example.com"))
      assert.is_false(has(st.groups.G2, "user12@example.com"))
      assert.are.equal("DISABLED", st.users["user12@example.com"].state)
      -- a re-run does only what is left
      s:reset()
      assert.are.equal(0, (offboard(emails_csv{ "user12@example.com" })))
      assert.are.equal(1, select(2, h.count(s, "mutation", "groupUpdate")))
    end)
  end)

  describe("lost responses with --delete-users", function()
    it("counts removals the lost request applied as done when the user is gone (exit 0)", function()
      s:load{
        users = { { email = "bob@example.com" } },
        groups = { { name = "A", members = { "bob@example.com" } }, { name = "B", members = { "bob@example.com" } } },
        devices = { { user = "bob@example.com", name = "bob-mac", serialNumber = "SNB" } },
      }
      s:fault{ match = "mutation", drop = "after", count = 1 }
      local code, out, err = offboard(emails_csv{ "bob@example.com" }, "--delete-users", "--yes")
      assert.are.equal(0, code, out .. err)
      assert.not_matches("failed", out, 1, true)
      assert.matches("users deleted: 1", out, 1, true)
      assert.matches("group memberships removed: 2 (in 2 groups)", out, 1, true)
      assert.matches("devices blocked: 1", out, 1, true)
      local st = state()
      assert.is_nil(st.users["bob@example.com"])
      assert.are.same({}, st.groups.A)
    end)

    it("does not list a deleted user's SYNCED memberships as left in place", function()
      -- without --delete-users they are listed (exit 3)
      local code, out, err = offboard(emails_csv{ "user01@example.com" }, "--dry-run")
      assert.are.equal(3, code, out .. err)
      assert.matches("memberships of SYNCED groups left in place", out, 1, true)
      -- the deletion takes them along: not listed, exit 0 (also in a dry run)
      code, out, err = offboard(emails_csv{ "user01@example.com" }, "--delete-users", "--dry-run")
      assert.are.equal(0, code, out .. err)
      assert.not_matches("SYNCED", out, 1, true)
      code, out, err = offboard(emails_csv{ "user01@example.com" }, "--delete-users", "--yes")
      assert.are.equal(0, code, out .. err)
      assert.not_matches("SYNCED", out, 1, true)
      assert.is_nil(state().users["user01@example.com"])
    end)
  end)

  describe("journal and resume", function()
    it("resumes a killed run without losing or repeating a change", function()
      local journal = cli.tmppath(".jsonl")
      local path = cli.write_file(cli.tmppath(".csv"), emails_csv{ "user04@example.com", "user05@example.com" })
      -- the first request goes through; the second hangs until the run is killed
      s:fault{ match = "mutation", delayMs = 1, count = 1 }
      s:fault{ match = "mutation", delayMs = 3000, count = 1 }
      local sending = cli.kill_when_sending(h.command(s, { SCRIPT, path, "--batch-size", "1", "--journal", journal }),
        journal, 2)
      assert.are.equal(2, sending)
      os.execute("sleep 0.2")
      local before = cli.slurp(journal)
      assert.matches('"state":"done"', before, 1, true)

      local code, out, err = h.run(s, { SCRIPT, path, "--batch-size", "1", "--resume", journal })
      assert.are.equal(0, code, out .. err)
      os.execute("sleep 3") -- let the hung request finish too
      local st = state()
      for _, e in ipairs{ "user04@example.com", "user05@example.com" } do
        for i = 1, 5 do assert.is_false(has(st.groups["G" .. i], e)) end
        assert.are.equal("DISABLED", st.users[e].state)
      end
      assert.are.equal("BLOCKED", st.devices["laptop-4"].activeState)
      assert.are.equal("BLOCKED", st.devices["laptop-5"].activeState)
      local after = cli.slurp(journal)
      assert.are.equal(before, after:sub(1, #before))   -- appended, not rewritten
      -- a third run has nothing to do
      s:reset()
      assert.are.equal(0, (offboard(emails_csv{ "user04@example.com", "user05@example.com" })))
      assert.are.equal(0, (h.count(s, "mutation")))
    end)

    it("refuses a journal from another input", function()
      local journal = cli.tmppath(".jsonl")
      assert.are.equal(0, (offboard(emails_csv{ "user04@example.com" }, "--journal", journal)))
      s:reset()
      local code, _, err = offboard(emails_csv{ "user05@example.com" }, "--resume", journal)
      assert.are.equal(2, code)
      assert.matches("journal", err)
      assert.are.equal(0, (h.count(s, "mutation")))
    end)
  end)

  it("prints its header with --help", function()
    local code, out = h.run(s, { SCRIPT, "--help" })
    assert.are.equal(0, code)
    assert.matches("offboard-users.lua: offboard the users listed", out, 1, true)
    assert.matches("--archive-devices", out, 1, true)
  end)
end)
