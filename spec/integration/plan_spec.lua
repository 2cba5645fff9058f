-- twingate.plan through the built binary: a destructive plan of declarative
-- ops (spec/fixtures/scripts/delete-groups.lua) against the simulator.
local sim = require "spec.support.sim"
local cli = require "spec.support.cli"

local BIN = cli.bin()
local quote = cli.quote

-- Run the binary against simulator `sim` (TWINGATE_NETWORK and TWINGATE_DRY_RUN unset,
-- rate limit off, `env` name -> value on top); returns exit code and stdout+stderr.
local function run_against(sim_, env, args)
  local vars = { TWINGATE_RATE_LIMIT = "off" }
  for k, v in pairs(env) do vars[k] = v end
  local code, out = cli.run(args, { unset = { "TWINGATE_NETWORK", "TWINGATE_DRY_RUN" }, sim = sim_, env = vars,
    merge_stderr = true })
  return code, out
end

local s

local function run(args)
  local a = { "spec/fixtures/scripts/delete-groups.lua" }
  for _, v in ipairs(args) do a[#a + 1] = v end
  return run_against(s, {}, a)
end

local function names()
  local out = {}
  for _, g in ipairs(s:state().tables.groups) do out[#out + 1] = g.name end
  table.sort(out)
  return out
end

local function writes()
  return (s:count("mutation"))
end

describe("twingate.plan #integration", function()
  sim.suite{
    start = { rate_limit = "off" },
    seed = function()
      local groups = { { name = "keep" } }
      for i = 1, 7 do groups[#groups + 1] = { name = "tmp-" .. i } end
      return { groups = groups }
    end,
    started = function(x) s = x end,
  }

  it("applies a destructive plan without asking when not interactive, batched", function()
    local code, out = run{ "tmp-", "--batch-size", "3" }
    assert.are.equal(0, code, out)
    assert.are.same({ "keep" }, names())
    assert.are.equal(3, writes())
    assert.not_matches("[y/N]", out, 1, true)
  end)

  it("sends nothing with --dry-run", function()
    local code, out = run{ "tmp-", "--dry-run" }
    assert.are.equal(0, code, out)
    assert.are.equal(0, writes())
    assert.are.equal(8, #names())
  end)

  it("exits 3 and lists the failed change when one delete fails", function()
    local code, out = run{ "tmp-", "--extra-id", "R3JvdXA6OTk5" }
    assert.are.equal(3, code, out)
    assert.matches('- delete group "extra" (id "R3JvdXA6OTk5"): ', out, 1, true)
    assert.are.same({ "keep" }, names())
    assert.are.equal(1, writes())
  end)

  it("exits 6 when nothing was done", function()
    local code, out = run{ "nothing-matches", "--extra-id", "R3JvdXA6OTk5" }
    assert.are.equal(6, code, out)
  end)

  it("exits 3 without 'Stopped after' when a lost write ends unknown and the next is applied, whichever error", function()
    for _, fault in ipairs{ { match = "mutation", count = 3, drop = "before" },
      { match = "mutation", count = 3, status = 500 } } do
      s:clear_faults()
      s:load{ groups = { { name = "keep" }, { name = "x-1" }, { name = "x-2" } } }
      s:fault(fault)
      local code, out = run{ "x-", "--batch-size", "1" }
      assert.are.equal(3, code, out)
      assert.not_matches("[Ss]topped after", out)
      assert.matches("Unknown outcome", out, 1, true)
      assert.are.same({ "keep", "x-1" }, names())
    end
  end)

  it("counts a resent delete that finds the object gone as done", function()
    s:fault{ match = "mutation", drop = "after", count = 1 }
    local code, out = run{ "tmp-" }
    assert.are.equal(0, code, out)
    assert.are.same({ "keep" }, names())
    assert.are.equal(2, writes())
  end)
end)

describe("slow writes and dry run #integration", function()
  local s2
  sim.suite{
    start = { rate_limit = "off" },
    seed = function() return { users = { { email = "ann@example.com" } }, groups = {} } end,
    started = function(x) s2 = x end,
  }

  local function run2(env, args)
    return run_against(s2, env, args)
  end

  local function groups_named(name)
    os.execute("sleep 2.5") -- let a delayed request still held by the simulator finish first
    local n = 0
    for _, g in ipairs(s2:state().tables.groups) do if g.name == name then n = n + 1 end end
    return n
  end

  it("creates a group once when the create is slower than --timeout (sync script, batched)", function()
    local csv = os.tmpname()
    local f = assert(io.open(csv, "w"))
    f:write("group,email\nNewA,ann@example.com\n")
    f:close()
    s2:fault{ match = "mutation", delayMs = 3000 }
    local code, out = run2({ TWINGATE_VERIFY_GRACE = "6" },
      { "--timeout", "1", "scripts/sync-group-members.lua", csv, "--create-groups" })
    os.remove(csv)
    assert.are.equal(1, groups_named("NewA"), out)
    assert.are.equal(0, code, out)
  end)

  it("creates a group once when groups:create is slower than --timeout", function()
    s2:fault{ match = "mutation", delayMs = 3000 }
    local code, out = run2({ TWINGATE_VERIFY_GRACE = "6" },
      { "--timeout", "1", "-e", 'print(require"twingate".connect().groups:create{name="Solo"}.name)' })
    assert.are.equal(1, groups_named("Solo"), out)
    assert.are.equal(0, code, out)
  end)

  it("cannot leave --dry-run from a script with connect{ dry_run = false }", function()
    local code, out = run2({}, { "--dry-run", "-e", 'require"twingate".connect{dry_run=false}.groups:create{name="LEAK1"}' })
    assert.are.equal(0, code, out)
    assert.are.equal(0, groups_named("LEAK1"), out)
    code, out = run2({ TWINGATE_DRY_RUN = "1" }, { "-e", 'require"twingate".connect{dry_run=false}.groups:create{name="LEAK2"}' })
    assert.are.equal(0, groups_named("LEAK2"), out)
  end)
end)

describe("confirmation with stdout piped #integration", function()
  local s3
  sim.suite{
    start = { rate_limit = "off" },
    seed = function() return { groups = { { name = "keep" }, { name = "tmp-1" }, { name = "tmp-2" } } } end,
    started = function(x) s3 = x end,
  }

  -- run under a pseudo-terminal (util-linux `script`) with stdout piped into
  -- `cat > LOG`, as `twingate-lua ... | tee log` at a terminal; answers `answer`
  local function piped_on_tty(answer)
    local log = os.tmpname()
    local cmd = table.concat({ "env", "-u TWINGATE_NETWORK", "-u TWINGATE_DRY_RUN",
      "TWINGATE_ENDPOINT=" .. quote(s3.url), "TWINGATE_API_TOKEN=" .. quote(s3.token), "TWINGATE_RATE_LIMIT=off",
      quote(BIN), "-q", quote("spec/fixtures/scripts/delete-groups.lua"), "tmp-", "| cat >", quote(log) }, " ")
    local p = assert(io.popen("printf " .. quote(answer .. "\\n") .. " | script -qec " .. quote(cmd)
      .. " /dev/null 2>&1"))
    local tty = p:read("a")
    p:close()
    local f = assert(io.open(log))
    local logged = f:read("a")
    f:close()
    os.remove(log)
    return tty, logged
  end

  local function count()
    return #s3:state().tables.groups
  end

  it("asks on the terminal and applies nothing on no", function()
    local tty, logged = piped_on_tty("n")
    assert.matches("Apply 2 changes? [y/N]", tty, 1, true)
    assert.matches("- delete group \"tmp-1\"", logged, 1, true)
    assert.matches("Nothing applied.", logged, 1, true)
    assert.are.equal(3, count())
  end)

  it("applies on yes", function()
    local tty, logged = piped_on_tty("y")
    assert.matches("Apply 2 changes? [y/N]", tty, 1, true)
    assert.matches("Applied 2 of 2", logged, 1, true)
    assert.are.equal(1, count())
  end)
end)

describe("output order in one log file #integration", function()
  local s4
  sim.suite{ start = { rate_limit = "off" }, started = function(x) s4 = x end }

  it("prints the plan before the first 'done' log line when stdout and stderr go to one file", function()
    s4:load{ users = { { email = "ann@example.com" } }, groups = { { name = "Eng" } } }
    local csv, log = os.tmpname(), os.tmpname()
    local f = assert(io.open(csv, "w"))
    f:write("group,email\nEng,ann@example.com\n")
    f:close()
    local cmd = table.concat({ "env", "-u TWINGATE_NETWORK", "-u TWINGATE_DRY_RUN",
      "TWINGATE_ENDPOINT=" .. quote(s4.url), "TWINGATE_API_TOKEN=" .. quote(s4.token), "TWINGATE_RATE_LIMIT=off",
      quote(BIN), quote("scripts/sync-group-members.lua"), quote(csv), "</dev/null >" .. quote(log) .. " 2>&1" }, " ")
    local ok = os.execute(cmd)
    f = assert(io.open(log))
    local text = f:read("a")
    f:close()
    os.remove(csv)
    os.remove(log)
    assert.is_true(ok, text)
    local plan_at = text:find('~ update group "Eng"', 1, true)
    local done_at = text:find(': done', 1, true)
    assert.is_truthy(plan_at, text)
    assert.is_truthy(done_at, text)
    assert.is_true(plan_at < done_at, text)
  end)
end)

describe("interrupted run #integration", function()
  local s5
  sim.suite{ start = { rate_limit = "off" }, started = function(x) s5 = x end }

  local slurp = cli.slurp

  local function members(name)
    local st = s5:state().tables
    for _, g in ipairs(st.groups) do
      if g.name == name then return #(g.userIds or {}) end
    end
  end

  for _, case in ipairs{ { "INT", 130, "SIGINT" }, { "TERM", 143, "SIGTERM" } } do
    local signame, want_code = case[1], case[2]
    it("stops after the request in flight on SIG" .. signame .. ", says what was applied, exits "
      .. want_code .. ", and --resume finishes with no duplicates", function()
      local users, rows = {}, { "group,email" }
      for i = 1, 4 do
        users[i] = { email = "u" .. i .. "@example.com" }
        rows[#rows + 1] = "G" .. i .. ",u" .. i .. "@example.com"
      end
      s5:load{ users = users, groups = { { name = "G1" }, { name = "G2" }, { name = "G3" }, { name = "G4" } } }
      s5:reset()
      s5:clear_faults()
      local csv, journal, out, err, codefile = os.tmpname(), os.tmpname(), os.tmpname(), os.tmpname(), os.tmpname()
      os.remove(journal)
      local f = assert(io.open(csv, "w"))
      f:write(table.concat(rows, "\n"), "\n")
      f:close()
      -- the first write is fast, the second takes 2 s: the signal comes while it is in flight
      s5:fault{ match = "mutation", delayMs = 1, count = 1 }
      s5:fault{ match = "mutation", delayMs = 2000, count = 1 }
      -- --default-signal: a background job of sh starts with SIGINT ignored (kept ignored by the program)
      local base = { "env", "--default-signal=INT", "-u TWINGATE_NETWORK", "-u TWINGATE_DRY_RUN",
        "TWINGATE_ENDPOINT=" .. quote(s5.url), "TWINGATE_API_TOKEN=" .. quote(s5.token), "TWINGATE_RATE_LIMIT=off", quote(BIN),
        quote("scripts/sync-group-members.lua"), quote(csv), "--batch-size", "1" }
      local cmd = table.concat(base, " ") .. " --journal " .. quote(journal)
      local pidfile = os.tmpname()
      os.execute("(" .. cmd .. " </dev/null >" .. quote(out) .. " 2>" .. quote(err) .. " & echo $! > " .. quote(pidfile)
        .. "; wait $!; echo $? > " .. quote(codefile) .. ") &")
      local sending = 0
      for _ = 1, 200 do
        sending = select(2, slurp(journal):gsub('"state":"sending"', ""))
        if sending >= 2 then break end
        os.execute("sleep 0.05")
      end
      assert.are.equal(2, sending, slurp(err))
      local pid = assert(tonumber((slurp(pidfile):match("%d+"))))
      os.execute("kill -" .. signame .. " " .. pid)
      local code
      for _ = 1, 200 do
        code = tonumber((slurp(codefile):match("%d+")))
        if code then break end
        os.execute("sleep 0.05")
      end
      local stdout, stderr = slurp(out), slurp(err)
      assert.are.equal(want_code, code, stdout .. stderr)
      assert.matches("interrupted: 2 of 4 changes applied; resume with --resume " .. journal, stderr, 1, true)
      assert.matches("\n$", stdout)                       -- not cut mid-line
      assert.matches("Applied 2 of 4", stdout, 1, true)
      assert.are.equal(1, members("G2"))                   -- the request in flight completed
      assert.are.equal(0, members("G3"))
      local p = assert(io.popen(table.concat(base, " ") .. " --resume " .. quote(journal) .. " </dev/null 2>&1"))
      local again = p:read("a")
      local _, _, rcode = p:close()
      assert.are.equal(0, rcode, again)
      for i = 1, 4 do assert.are.equal(1, members("G" .. i), again) end
      assert.are.equal(4, (s5:count("mutation")))                          -- each group once: no duplicate
      for _, x in ipairs{ csv, journal, out, err, codefile, pidfile } do os.remove(x) end
    end)
  end
end)
