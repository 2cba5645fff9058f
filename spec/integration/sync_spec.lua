-- scripts/sync-group-members.lua through the built binary against the simulator:
-- end states, request counts (batched writes), dry run, idempotence, bad input,
-- hostile names, injected failures, journal and resume after a kill.
local sim = require "spec.support.sim"

local cli = require "spec.support.cli"

local slurp, write_file, tmpname = cli.slurp, cli.write_file, cli.tmppath

local s -- the simulator

-- The binary with its own (embedded) modules, against the simulator (cli.against).
local function command(args)
  return cli.command(args, cli.against(s, { embedded = true }))
end

-- Run the binary; returns exit code, stdout, stderr.
local function run(args)
  return cli.run(args, cli.against(s, { embedded = true }))
end

local function sync(csv_text, ...)
  local path = write_file(tmpname(".csv"), csv_text)
  local code, out, err = run({ "scripts/sync-group-members.lua", path, ... })
  return code, out, err, path
end

-- group name -> sorted lower-case member emails; also checks no member twice
local function memberships()
  local st = s:state().tables
  local email = {}
  for _, u in ipairs(st.users) do email[u.id] = u.email:lower() end
  local out, count = {}, {}
  for _, g in ipairs(st.groups) do
    local list, seen = {}, {}
    for _, id in ipairs(g.userIds or {}) do
      assert(not seen[id], "member twice in " .. g.name)
      seen[id] = true
      list[#list + 1] = email[id]
    end
    table.sort(list)
    out[g.name] = list
    count[g.name] = (count[g.name] or 0) + 1
  end
  return out, count
end

-- requests of a type ("query"/"mutation") and their root fields in all
local function log_of(kind)
  local n, aliases = s:count(kind)
  return n, aliases
end

local HOSTILE = 'Ops "quoted", {braces} $var \n new line ✨'

local function seed()
  local users, groups = {}, {}
  for i = 1, 30 do users[i] = { email = string.format("User%02d@Example.com", i) } end
  for i = 1, 25 do groups[i] = { name = string.format("G%02d", i), members = { "user01@example.com" } } end
  groups[#groups + 1] = { name = "Eng", members = { "user01@example.com", "user02@example.com" } }
  groups[#groups + 1] = { name = "Other", members = { "user03@example.com" } }
  groups[#groups + 1] = { name = HOSTILE, members = {} }
  groups[#groups + 1] = { name = "Synced", type = "SYNCED", members = {} }
  groups[#groups + 1] = { name = "Directory", type = "SYNCED",
    members = { "user05@example.com", "user06@example.com" } }
  groups[#groups + 1] = { name = "All", type = "SYSTEM", members = { "user07@example.com" } }
  return { users = users, groups = groups }
end

local function csv_field(v)
  if v:find('[",\r\n]') then return '"' .. v:gsub('"', '""') .. '"' end
  return v
end

local function csv(rows, header)
  local out = { header or "group,email" }
  for _, r in ipairs(rows) do out[#out + 1] = csv_field(r[1]) .. "," .. csv_field(r[2]) end
  return table.concat(out, "\r\n") .. "\r\n"
end

-- 25 groups G01..G25, each gets users 02..05 (user01 is already in).
local function many_rows()
  local rows = {}
  for g = 1, 25 do
    for u = 1, 5 do rows[#rows + 1] = { string.format("G%02d", g), string.format("user%02d@example.com", u) } end
  end
  return rows
end

describe("scripts/sync-group-members.lua #integration", function()
  sim.suite{ seed = seed, teardown = cli.cleanup, started = function(x) s = x end }

  describe("batched writes", function()
    it("applies every change with ceil(groups / batch size) write requests", function()
      local code, out, err = sync(csv(many_rows()))
      assert.are.equal(0, code, out .. err)
      local m = memberships()
      for g = 1, 25 do
        assert.are.same({ "user01@example.com", "user02@example.com", "user03@example.com",
          "user04@example.com", "user05@example.com" }, m[string.format("G%02d", g)])
      end
      local writes, fields = log_of("mutation")
      assert.are.equal(3, writes)      -- ceil(25 / 10)
      assert.are.equal(25, fields)     -- one groupUpdate per group
      local reads = log_of("query")
      assert.is_true(reads <= 3, "reads: " .. reads) -- users page + groups page (+ member pages)
      assert.matches("groups changed: 25", out)
    end)

    it("honours --batch-size", function()
      local code, out, err = sync(csv(many_rows()), "--batch-size", "4")
      assert.are.equal(0, code, out .. err)
      assert.are.equal(7, (log_of("mutation")))   -- ceil(25 / 4)
    end)

    it("rejects a bad --batch-size before any request", function()
      local code, _, err = sync(csv(many_rows()), "--batch-size", "0")
      assert.are.equal(2, code)
      assert.matches("batch%-size", err)
      assert.are.equal(0, #s:requests())
    end)

    it("reads scale with pages, not rows", function()
      local rows = many_rows()
      for g = 1, 25 do
        for u = 6, 30 do rows[#rows + 1] = { string.format("G%02d", g), string.format("user%02d@example.com", u) } end
      end
      local code, out, err = sync(csv(rows))
      assert.are.equal(0, code, out .. err)
      assert.is_true(log_of("query") <= 3)
      assert.are.equal(3, (log_of("mutation")))
    end)
  end)

  describe("plan, dry run and idempotence", function()
    it("sends no mutation in a dry run and shows the plan", function()
      local code, out, err = sync(csv(many_rows()), "--dry-run")
      assert.are.equal(0, code, out .. err)
      assert.are.equal(0, (log_of("mutation")))
      assert.matches('~ update group "G01"', out, 1, true)
      assert.matches("Summary (dry run, nothing changed):\n  groups to change: 25 (0 created)\n"
        .. "  members to add: 100, to remove: 0\n  write requests it would send: 3\n", out, 1, true)
      assert.not_matches("Dry run:", out, 1, true)
      assert.are.equal(1, select(2, out:gsub("Summary", "")), out)
      assert.are.same({ "user01@example.com" }, memberships().G01)
    end)

    it("reports no changes on a second run", function()
      local text = csv(many_rows())
      assert.are.equal(0, (sync(text)))
      s:reset()
      local code, out = sync(text)
      assert.are.equal(0, code)
      assert.matches("No changes", out)
      assert.are.equal(0, (log_of("mutation")))
    end)
  end)

  describe("input", function()
    it("stops on a malformed CSV with file:line and changes nothing", function()
      local code, out, err, path = sync('group,email\nEng,user04@example.com\n"Eng,user05@example.com\n')
      assert.are.equal(2, code, out)
      assert.matches(path:gsub("%p", "%%%0") .. ":%d", err)
      assert.are.equal(0, #s:requests())
    end)

    it("stops on an invalid email with file:line and changes nothing", function()
      local code, _, err, path = sync("group,email\nEng,user04@example.com\nEng,not-an-email\n")
      assert.are.equal(2, code)
      assert.matches(path:gsub("%p", "%%%0") .. ":3: invalid email", err)
      assert.are.equal(0, #s:requests())
    end)

    it("maps other headers with --group-column and --email-column", function()
      local code, out, err = sync("Team;Mail\nEng;user04@example.com\n", "--group-column", "Team",
        "--email-column", "Mail")
      assert.are.equal(0, code, out .. err)
      assert.are.same({ "user01@example.com", "user02@example.com", "user04@example.com" }, memberships().Eng)
    end)

    it("merges duplicates and matches emails case-insensitively", function()
      local code, out, err = sync(csv{ { "Eng", "USER04@example.com" }, { "Eng", "user04@EXAMPLE.com" },
        { "Eng", "User02@Example.com" } })
      assert.are.equal(0, code, out .. err)
      assert.are.same({ "user01@example.com", "user02@example.com", "user04@example.com" }, memberships().Eng)
      assert.are.equal(1, select(2, log_of("mutation")))
    end)

    it("skips unknown users and groups with exit 3 and applies the rest", function()
      local code, out, err = sync(csv{ { "Eng", "nobody@example.com" }, { "Eng", "user04@example.com" },
        { "No such group", "user04@example.com" }, { "Synced", "user04@example.com" } })
      assert.are.equal(3, code, out .. err)
      assert.matches(':2: "nobody@example.com" in group "Eng": unknown user', out, 1, true)
      assert.matches('group "No such group" (1 row): unknown group', out, 1, true)
      assert.matches('group "Synced" (1 row): group is SYNCED', out, 1, true)
      assert.are.same({ "user01@example.com", "user02@example.com", "user04@example.com" }, memberships().Eng)
    end)

    it("matches rows of SYNCED/SYSTEM groups the server already has; exit 0 on an export read back", function()
      local code, out, err = sync(csv{ { "Directory", "user05@example.com" }, { "Directory", "User06@Example.com" },
        { "All", "user07@example.com" }, { "Eng", "user01@example.com" }, { "Eng", "user02@example.com" } },
        "--remove-missing")
      assert.are.equal(0, code, out .. err)
      assert.matches("No changes.", out, 1, true)
      assert.not_matches("skipped", out, 1, true)
      assert.are.equal(0, (log_of("mutation")))
    end)

    it("skips only the rows that would change a SYNCED/SYSTEM group; --remove-missing never removes from one", function()
      local code, out, err = sync(csv{ { "Directory", "user05@example.com" }, { "Directory", "user04@example.com" },
        { "All", "user08@example.com" }, { "Eng", "user04@example.com" } }, "--remove-missing")
      assert.are.equal(3, code, out .. err)
      assert.matches('group "Directory" (1 row): group is SYNCED', out, 1, true)
      assert.matches('group "All" (1 row): group is SYSTEM', out, 1, true)
      assert.matches("rows skipped: 2\n", out, 1, true)
      assert.matches('members not removed: 2\n', out, 1, true)
      assert.matches('group "Directory" (1 member not in the file: "User06@Example.com"): group is SYNCED', out, 1, true)
      assert.matches('group "All" (1 member not in the file: "User07@Example.com"): group is SYSTEM', out, 1, true)
      local m = memberships()
      assert.are.same({ "user05@example.com", "user06@example.com" }, m.Directory)
      assert.are.same({ "user07@example.com" }, m.All)
      assert.are.same({ "user04@example.com" }, m.Eng)   -- the manual group is synced
    end)

    it("writes singular counts for one: 1 group, 1 duplicate row", function()
      local code, out, err = sync(csv{ { "Eng", "user04@example.com" }, { "Eng", "user04@example.com" } }, "--dry-run")
      assert.are.equal(0, code, out .. err)
      assert.matches(": 2 rows, 1 group, 1 duplicate row merged", err, 1, true)
    end)

    it("creates groups with --create-groups", function()
      local code, out, err = sync(csv{ { "New, \"team\"", "user04@example.com" }, { "Eng", "user05@example.com" } },
        "--create-groups")
      assert.are.equal(0, code, out .. err)
      local m, count = memberships()
      assert.are.same({ "user04@example.com" }, m['New, "team"'])
      assert.are.equal(1, count['New, "team"'])
      assert.are.equal(1, (log_of("mutation")))  -- create and update in one request
    end)

    it("removes members only from the named groups with --remove-missing", function()
      local code, out, err = sync(csv{ { "Eng", "user04@example.com" } }, "--remove-missing")
      assert.are.equal(0, code, out .. err)
      local m = memberships()
      assert.are.same({ "user04@example.com" }, m.Eng)
      assert.are.same({ "user03@example.com" }, m.Other)
      assert.are.same({ "user01@example.com" }, m.G01)
    end)

    it("handles hostile group names", function()
      local code, out, err = sync(csv{ { HOSTILE, "user04@example.com" }, { "{$x: \"y\"} 🙂, 'q'", "user05@example.com" } },
        "--create-groups")
      assert.are.equal(0, code, out .. err)
      local m = memberships()
      assert.are.same({ "user04@example.com" }, m[HOSTILE])
      assert.are.same({ "user05@example.com" }, m["{$x: \"y\"} 🙂, 'q'"])
      assert.matches('\\n new line', out, 1, true)  -- printed escaped, on one line
    end)
    it("reads formula-neutralised cells from an export back as the real names", function()
      local code, out, err = sync(csv{ { "'=Sum(A1)", "user04@example.com" }, { "'@home", "'+x@example.com" } },
        "--create-groups")
      assert.are.equal(3, code, out .. err)  -- +x@example.com is no user: skipped
      local m = memberships()
      assert.are.same({ "user04@example.com" }, m["=Sum(A1)"])
      assert.is_nil(m["'=Sum(A1)"])
      assert.matches("+x@example.com", out, 1, true)
    end)
  end)

  describe("failures", function()
    it("lists a failed group and exits 3 when one request is refused", function()
      s:fault{ match = "mutation", graphqlError = "injected failure", count = 1 }
      local code, out, err = sync(csv{ { "G01", "user04@example.com" }, { "G02", "user04@example.com" } },
        "--batch-size", "1")
      assert.are.equal(3, code, out .. err)
      assert.matches("  failed: 1\n    update group \"G01\": twingate: graphql: injected failure", out, 1, true)
      assert.not_matches("Applied ", out, 1, true)
      assert.not_matches("Failed:", out, 1, true)
      local m = memberships()
      assert.are.same({ "user01@example.com" }, m.G01)
      assert.are.same({ "user01@example.com", "user04@example.com" }, m.G02)
    end)

    it("exits 6 when every change failed", function()
      s:fault{ match = "mutation", graphqlError = "injected failure", count = 5 }
      local code, out, err = sync(csv{ { "G01", "user04@example.com" }, { "G02", "user04@example.com" } },
        "--batch-size", "1")
      assert.are.equal(6, code, out .. err)
    end)

    it("isolates a batch refused as a whole by sending its changes one by one", function()
      s:fault{ match = "mutation", graphqlError = "injected failure", count = 1 }
      local code, out, err = sync(csv{ { "G01", "user04@example.com" }, { "G02", "user04@example.com" } })
      assert.are.equal(0, code, out .. err)
      assert.are.same({ "user01@example.com", "user04@example.com" }, memberships().G01)
      assert.are.equal(3, (log_of("mutation")))
    end)

    it("resends an idempotent batch after a 503 and reports success", function()
      s:fault{ match = "mutation", status = 503, count = 1 }
      local code, out, err = sync(csv(many_rows()))
      assert.are.equal(0, code, out .. err)
      assert.are.equal(4, (log_of("mutation")))
      assert.are.same({ "user01@example.com", "user02@example.com", "user03@example.com",
        "user04@example.com", "user05@example.com" }, memberships().G25)
    end)

    it("reports an unknown outcome after repeated 503s and exits 3", function()
      s:fault{ match = "mutation", status = 503, count = 3 }
      local code, out, err = sync(csv{ { "G01", "user04@example.com" }, { "G02", "user04@example.com" } },
        "--batch-size", "1")
      assert.are.equal(3, code, out .. err)
      assert.matches("unknown outcome (may have been applied; check): 1\n    update group \"G0", out, 1, true)
      assert.not_matches("Applied ", out, 1, true)
    end)

    it("does not create a group twice when the response to its create is lost", function()
      s:fault{ match = "mutation", drop = "after", count = 1 }
      local code, out, err = sync(csv{ { "Fresh", "user04@example.com" } }, "--create-groups")
      assert.are.equal(0, code, out .. err)
      local m, count = memberships()
      assert.are.equal(1, count.Fresh)
      assert.are.same({ "user04@example.com" }, m.Fresh)
    end)
  end)

  describe("journal and resume", function()
    it("resumes a killed run without duplicates", function()
      local journal = tmpname(".jsonl")
      local path = write_file(tmpname(".csv"), csv{ { "G01", "user04@example.com" },
        { "G02", "user04@example.com" }, { "G03", "user04@example.com" }, { "Brand new", "user05@example.com" } })
      -- the first request goes through; the second hangs until the run is killed
      s:fault{ match = "mutation", delayMs = 1, count = 1 }
      s:fault{ match = "mutation", delayMs = 3000, count = 1 }
      local sending = cli.kill_when_sending(command{ "scripts/sync-group-members.lua", path, "--create-groups",
        "--batch-size", "1", "--journal", journal }, journal, 2)
      assert.are.equal(2, sending)
      os.execute("sleep 0.2")
      local before = slurp(journal)
      assert.matches('"key":"group G01","state":"done"', before, 1, true)
      assert.not_matches('"key":"group G02","state":"done"', before, 1, true)

      local code, out, err = run{ "scripts/sync-group-members.lua", path, "--create-groups", "--batch-size", "1",
        "--resume", journal }
      assert.are.equal(0, code, out .. err)
      os.execute("sleep 3") -- let the hung request finish too
      local m, count = memberships()
      for _, g in ipairs{ "G01", "G02", "G03" } do
        assert.are.same({ "user01@example.com", "user04@example.com" }, m[g])
      end
      assert.are.equal(1, count["Brand new"])
      assert.are.same({ "user05@example.com" }, m["Brand new"])
      local after = slurp(journal)
      assert.are.equal(before, after:sub(1, #before))   -- appended, not rewritten
      for _, g in ipairs{ "G02", "G03", "Brand new" } do
        assert.matches('"key":"group ' .. g .. '","state":"done"', after, 1, true)
      end
      -- a third run has nothing to do
      assert.are.equal(0, (run{ "scripts/sync-group-members.lua", path, "--create-groups" }))
    end)

    it("refuses a journal from a different plan", function()
      local journal = tmpname(".jsonl")
      assert.are.equal(0, (sync(csv{ { "G01", "user04@example.com" } }, "--journal", journal)))
      s:reset()
      local code, _, err = sync(csv{ { "G02", "user04@example.com" } }, "--resume", journal)
      assert.are.equal(2, code)
      assert.matches("from a different plan", err, 1, true)
      assert.are.equal(0, #s:requests())   -- refused at startup, before any read
    end)

    it("runs every night with the same --journal FILE; the finished run moves to FILE.prev", function()
      local journal = tmpname(".jsonl")
      assert.are.equal(0, (sync(csv{ { "G01", "user04@example.com" } }, "--journal", journal)))
      local night1 = slurp(journal)
      local code, out, err = sync(csv{ { "G02", "user04@example.com" } }, "--journal", journal)
      assert.are.equal(0, code, out .. err)
      assert.are.equal(night1, slurp(journal .. ".prev"))
      assert.matches('"key":"group G02","state":"done"', slurp(journal), 1, true)
      assert.not_matches('"group G01"', slurp(journal), 1, true)
      os.remove(journal .. ".prev")
    end)

    it("refuses an unfinished --journal FILE and a missing --resume FILE at startup", function()
      local journal = tmpname(".jsonl")
      write_file(journal, '{"v":1,"key":"group G01","state":"sending","fingerprint":"x"}\n')
      s:reset()
      local code, out, err = sync(csv{ { "G01", "user04@example.com" } }, "--journal", journal)
      assert.are.equal(2, code, out .. err)
      assert.matches("unfinished run", err, 1, true)
      assert.matches("--resume " .. journal, err, 1, true)
      assert.are.equal("", out)
      assert.are.equal(0, #s:requests())
      code, out, err = sync(csv{ { "G01", "user04@example.com" } }, "--resume", journal .. ".missing")
      assert.are.equal(2, code, out .. err)
      assert.matches("cannot read the journal", err, 1, true)
      assert.are.equal(0, #s:requests())
    end)

    it("tolerates a cut-short last line and refuses one in the middle", function()
      local journal = tmpname(".jsonl")
      local text = csv{ { "G01", "user04@example.com" } }
      local path = write_file(tmpname(".csv"), text)
      assert.are.equal(0, (run{ "scripts/sync-group-members.lua", path, "--journal", journal }))
      local good = slurp(journal)
      write_file(journal, good .. '{"key":"group G0')
      local code, out, err = run{ "scripts/sync-group-members.lua", path, "--resume", journal }
      assert.are.equal(0, code, out .. err)
      write_file(journal, '{"key":\n' .. good)
      code, _, err = run{ "scripts/sync-group-members.lua", path, "--resume", journal }
      assert.are.equal(2, code)
      assert.matches(":1: malformed journal entry", err, 1, true)
    end)
  end)

  describe("Unicode emails and exact names", function()
    -- the tester's seed: a non-ASCII user, a group whose name ends in a space
    local function unicode_seed()
      return {
        users = { { email = "ann@example.com" }, { email = "Bob@Example.com" }, { email = "Ünal@example.com" } },
        groups = { { name = "Eng", members = { "ann@example.com", "Ünal@example.com" } },
          { name = "Ops ", members = {} } },
      }
    end

    -- group name -> sorted member emails as stored (no case change)
    local function raw_members()
      local st = s:state().tables
      local email = {}
      for _, u in ipairs(st.users) do email[u.id] = u.email end
      local out = {}
      for _, g in ipairs(st.groups) do
        local list = {}
        for _, id in ipairs(g.userIds or {}) do list[#list + 1] = email[id] end
        table.sort(list)
        out[g.name] = list
      end
      return out
    end

    before_each(function()
      s:load(unicode_seed())
      s:reset()
    end)

    it("matches a non-ASCII email case-insensitively and keeps the member with --remove-missing", function()
      local code, out, err = sync("group,email\nEng,ann@example.com\nEng,ünal@example.com\n",
        "--remove-missing", "--yes")
      assert.are.equal(0, code, out .. err)
      assert.are.same({ "ann@example.com", "Ünal@example.com" }, raw_members().Eng)
      assert.are.equal(0, (log_of("mutation")))
      assert.not_matches("unknown user", out, 1, true)
    end)

    it("adds a user named with other case in Greek and Cyrillic", function()
      local st = unicode_seed()
      st.users[#st.users + 1] = { email = "ΟΔΥΣΣΕΥΣ@example.com" }
      st.users[#st.users + 1] = { email = "Иван@example.com" }
      s:load(st)
      local code, out, err = sync("group,email\nEng,οδυσσευς@example.com\nEng,иван@EXAMPLE.com\n")
      assert.are.equal(0, code, out .. err)
      assert.are.same({ "ann@example.com", "Ünal@example.com", "ΟΔΥΣΣΕΥΣ@example.com", "Иван@example.com" },
        raw_members().Eng)
    end)

    it("never removes a member the file lists for the group, even when its row is skipped", function()
      local st = unicode_seed()
      -- two users whose emails differ only in case: the row is ambiguous and skipped
      st.users[#st.users + 1] = { email = "ÜNAL@example.com" }
      s:load(st)
      local code, out, err = sync("group,email\nEng,ann@example.com\nEng,ünal@example.com\n",
        "--remove-missing", "--yes")
      assert.are.equal(3, code, out .. err)
      assert.matches("several users have this email", out, 1, true)
      assert.are.equal(2, #raw_members().Eng)
      assert.are.equal(0, (log_of("mutation")))
    end)

    it("targets a group whose name ends in a space when the file quotes it so", function()
      local code, out, err = sync('group,email\n"Ops ",ann@example.com\n', "--create-groups")
      assert.are.equal(0, code, out .. err)
      local m = raw_members()
      assert.are.same({ "ann@example.com" }, m["Ops "])
      assert.is_nil(m.Ops)  -- no near-duplicate created
      assert.matches('~ update group "Ops "', out, 1, true)
    end)

    it("falls back to the trimmed name when no group has the name as written", function()
      local code, out, err = sync('group,email\n" Eng ",Bob@Example.com\nEng,ann@example.com\n')
      assert.are.equal(0, code, out .. err)
      assert.are.same({ "Bob@Example.com", "ann@example.com", "Ünal@example.com" }, raw_members().Eng)
      assert.are.equal(1, select(2, log_of("mutation")))  -- both spellings: one change to Eng
    end)

    it("creates a new group under its trimmed name and finds it again on the next run", function()
      local code, out, err = sync('group,email\n"  New team ",ann@example.com\n', "--create-groups")
      assert.are.equal(0, code, out .. err)
      assert.are.same({ "ann@example.com" }, raw_members()["New team"])
      s:reset()
      code, out, err = sync('group,email\n"  New team ",ann@example.com\n', "--create-groups")
      assert.are.equal(0, code, out .. err)
      assert.are.equal(0, (log_of("mutation")))
    end)

    it("rejects emails with invisible or control characters, quoted on one line with FILE:LINE", function()
      local code, out, err, path = sync('group,email\nEng,ann@example.com\u{A0}\nEng,bob@example.com\u{200B}\n'
        .. 'Eng,"a\nb@example.com"\nEng,c@exa\u{202E}mple.com\n')
      assert.are.equal(2, code, out .. err)
      assert.matches(path .. ':2: invalid email "ann@example.com\\u{00A0}"', err, 1, true)
      assert.matches(path .. ':3: invalid email "bob@example.com\\u{200B}"', err, 1, true)
      assert.matches(path .. ':4: invalid email "a\\nb@example.com"', err, 1, true)
      assert.matches(path .. ':6: invalid email "c@exa\\u{202E}mple.com"', err, 1, true)
      assert.are.equal(0, #s:requests())
    end)

    it("prints each invalid row on its own stderr line, then one line", function()
      local code, out, err, path = sync("group,email\nEng,not-an-email\nEng,\n")
      assert.are.equal(2, code, out .. err)
      local lines = {}
      for l in err:gmatch("[^\n]+") do if not l:find(": info: ", 1, true) then lines[#lines + 1] = l end end
      assert.are.equal(3, #lines, err)
      assert.matches("^twingate%-lua: error: " .. path:gsub("%p", "%%%0") .. ":2: ", lines[1])
      assert.matches("^twingate%-lua: error: " .. path:gsub("%p", "%%%0") .. ":3: ", lines[2])
      assert.are.equal("twingate-lua: twingate: invalid_argument: 2 invalid rows in " .. path
        .. ", nothing changed", lines[3])
      assert.are.equal(0, #s:requests())
    end)

    it("refuses a directory with 'PATH: is a directory'", function()
      local code, _, err = run{ "scripts/sync-group-members.lua", "/tmp" }
      assert.are.equal(2, code)
      assert.matches("/tmp: is a directory", err, 1, true)
    end)

    it("names a missing column on one line, quoted", function()
      local code, out, err, path = sync('"gr\noup",email\nEng,ann@example.com\n')
      assert.are.equal(2, code, out .. err)
      assert.matches(path .. ':1:1: missing column "group"; the header has "gr\\noup", "email"', err, 1, true)
    end)

    it("accepts a Group,Email header (column names match ignoring case and surrounding spaces)", function()
      s:load{ users = { { email = "ann@example.com" } }, groups = { { name = "Eng", members = {} } } }
      local code, out, err = sync('Group, EMAIL \r\nEng,ann@example.com\r\n')
      assert.are.equal(0, code, out .. err)
      assert.are.same({ "ann@example.com" }, (memberships()).Eng)
    end)

    it("quotes names and emails in skip lines, the summary and the log", function()
      s:load{ users = { { email = "ann@example.com" } },
        groups = { { name = "Eng\u{200B}", members = {} }, { name = "a\nb", members = {} } } }
      local code, out, err, path = sync('group,email\n"a\nb",ann@example.com\n"Eng\u{202E}",ann@example.com\n'
        .. '"a\nb",nobody@example.com\n')
      assert.are.equal(3, code, out .. err)
      assert.matches('group "Eng\\u{202E}" (1 row): unknown group', out, 1, true)
      assert.matches(path .. ':5: "nobody@example.com" in group "a\\nb": unknown user', out, 1, true)
      assert.matches('update group "a\\nb": done', err, 1, true)
      assert.not_matches("\u{202E}", out .. err, 1, true)
    end)

    it("says once, and only, that there is nothing to do", function()
      local code, out, err = sync("group,email\nEng,ann@example.com\n")
      assert.are.equal(0, code, out .. err)
      local _, n = out:gsub("No changes", "")
      assert.are.equal(1, n, out)
      assert.not_matches("Summary", out, 1, true)
      assert.not_matches(": 0", out, 1, true)
    end)
  end)

  it("keeps --help true to the options", function()
    local code, out = run{ "scripts/sync-group-members.lua", "--help" }
    assert.are.equal(0, code)
    for _, o in ipairs{ "--batch-size", "--journal", "--resume", "--yes", "--dry-run", "--remove-missing",
      "--create-groups", "--group-column", "--email-column" } do
      assert.matches(o, out, 1, true)
    end
  end)
end)
