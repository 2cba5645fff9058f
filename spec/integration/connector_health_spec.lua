-- scripts/connector-health.lua through the built binary against the simulator:
-- exit codes, text and JSON output, --network, --stale-after, --silent-ok,
-- read-only, usage errors, hostile names, API failures.
local sim = require "spec.support.sim"
local cli = require "spec.support.cli"
local h = require "spec.fixtures.ops.helper"
local cjson = require "cjson"

local SCRIPT = "scripts/connector-health.lua"
local HOSTILE = 'Edge "quoted", {braces} $var \n ✨'
local NEVER = "2001-02-03T04:05:06.000Z"
local s

local function iso(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", t) end

local function health(...)
  return h.run(s, { SCRIPT, ... })
end

local function seed(now)
  return {
    remoteNetworks = {
      { name = "AWS Prod", connectors = {
        { name = "aws-1", state = "ALIVE", lastHeartbeatAt = iso(now - 30) },
        { name = "aws-2", state = "DEAD_NO_HEARTBEAT", lastHeartbeatAt = iso(now - 3 * 3600 - 600) },
      } },
      { name = "Office", connectors = {
        { name = "office-1", state = "ALIVE", lastHeartbeatAt = iso(now - 7200) },
        { name = HOSTILE, state = "DEAD_NO_RELAYS", lastHeartbeatAt = NEVER },   -- cleared below
      } },
      { name = "Lab", connectors = {
        { name = "lab-1", state = "ALIVE", lastHeartbeatAt = iso(now - 10) },
      } },
    },
  }
end

describe("scripts/connector-health.lua #integration", function()
  sim.suite{
    seed = function() return seed(os.time()) end,
    -- a seed cannot say "never" (null gets "now"): clear it in the raw state dump
    -- (raw text, as cjson would turn its empty arrays into objects)
    prepare = function()
      local dump = s:request{ method = "GET", path = "/_sim/state" }.body
      local cleared, n = dump:gsub(('"lastHeartbeatAt":"' .. NEVER .. '"'):gsub("%p", "%%%0"),
        '"lastHeartbeatAt":null')
      assert(n == 1, "heartbeat marker not found in the state dump")
      assert(s:request{ method = "POST", path = "/_sim/state", body = cleared }.status == 200)
    end,
    teardown = cli.cleanup,
    started = function(x) s = x end,
  }

  it("lists the connectors that are not alive with network and heartbeat, exits 3", function()
    local code, out, err = health()
    assert.are.equal(3, code, out .. err)
    assert.matches("2 of 5 connectors are not healthy:", out, 1, true)
    assert.matches('  "aws%-2" +network "AWS Prod"  DEAD_NO_HEARTBEAT  last heartbeat ', out)
    assert.matches("%(3h 1[01]m ago%)", out)
    assert.matches('"Edge \\"quoted\\", {braces} $var \\n ✨"  network "Office"    DEAD_NO_RELAYS     last heartbeat never',
      out, 1, true)
    -- aligned columns, as in the header's example (widths in characters)
    local cols = {}
    for line in out:gmatch("[^\n]+") do
      if line:find("last heartbeat", 1, true) then
        local before_net = line:sub(1, line:find("  network ", 1, true))
        local before_last = line:sub(1, line:find("  last heartbeat", 1, true))
        cols[#cols + 1] = { utf8.len(before_net), utf8.len(before_last) }
      end
    end
    assert.are.equal(2, #cols)
    assert.are.same(cols[1], cols[2])
    assert.not_matches("office%-1", out)
    assert.are.equal(0, (h.count(s, "mutation")))   -- read-only
  end)

  it("exits 0 when every connector is alive, silently with --silent-ok", function()
    local code, out = health("--network", "Lab")
    assert.are.equal(0, code)
    assert.are.equal("All 1 connector is alive.\n", out)
    code, out = health("--network", "Lab", "--silent-ok")
    assert.are.equal(0, code)
    assert.are.equal("", out)
  end)

  it("exits 0 with no connectors at all", function()
    s:load{ remoteNetworks = { { name = "Empty" } } }
    local code, out = health()
    assert.are.equal(0, code)
    assert.matches("No connectors.", out, 1, true)
  end)

  it("prints one JSON object with counts and the unhealthy list", function()
    local code, out, err = health("--format", "json")
    assert.are.equal(3, code, out .. err)
    local doc = cjson.decode(out)
    -- the keys in the header's order, one line
    assert.matches('^{"status":"unhealthy","checkedAt":"[^"]+","network":null,"staleAfter":null,"total":5,'
      .. '"healthy":3,"unhealthy":2,"connectors":%[{"id":"[^"]+","name":"[^"]+","state":"[A-Z_]+","stale":false,'
      .. '"remoteNetwork":{"id":"[^"]+","name":"[^"]+"},"lastHeartbeatAt":', out)
    assert.matches('"secondsSinceHeartbeat":[%dnul]+,"hostname":[^,]+,"version":[^,]+}', out)
    assert.are.equal(1, select(2, out:gsub("\n", "")))
    assert.are.equal("unhealthy", doc.status)
    assert.are.equal(5, doc.total)
    assert.are.equal(3, doc.healthy)
    assert.are.equal(2, doc.unhealthy)
    assert.are.equal(cjson.null, doc.network)
    assert.are.equal(2, #doc.connectors)
    local byname = h.by(doc.connectors, "name")
    local a = byname["aws-2"]
    assert.are.equal("DEAD_NO_HEARTBEAT", a.state)
    assert.are.equal("AWS Prod", a.remoteNetwork.name)
    assert.is_true(math.abs(a.secondsSinceHeartbeat - (3 * 3600 + 600)) <= 5)
    assert.is_false(a.stale)
    local x = byname[HOSTILE]
    assert.are.equal("DEAD_NO_RELAYS", x.state)
    assert.are.equal(cjson.null, x.lastHeartbeatAt)
    assert.are.equal(cjson.null, x.secondsSinceHeartbeat)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$", doc.checkedAt)
  end)

  it("prints an empty JSON list and status ok when healthy", function()
    local code, out = health("--format", "json", "--network", "Lab")
    assert.are.equal(0, code)
    local doc = cjson.decode(out)
    assert.are.equal("ok", doc.status)
    assert.are.equal("Lab", doc.network)
    assert.are.equal(0, doc.unhealthy)
    assert.are.same({}, doc.connectors)
    assert.matches('"connectors":[]', out, 1, true)
  end)

  it("restricts to the named network with --network", function()
    local code, out = health("--network", "AWS Prod")
    assert.are.equal(3, code)
    assert.matches("1 of 2 connectors is not healthy", out, 1, true)
    assert.not_matches("Office", out)
  end)

  it("counts ALIVE connectors with an old heartbeat as unhealthy with --stale-after", function()
    local code, out = health("--stale-after", "3600", "--network", "Office")
    assert.are.equal(3, code)
    assert.matches('"office%-1" +network "Office"  STALE           last heartbeat ', out)
    code, out = health("--stale-after", "3600", "--network", "Lab", "--format", "json")
    assert.are.equal(0, code, out)
    code, out = health("--stale-after", "5", "--network", "Lab", "--format", "json")
    assert.are.equal(3, code)
    local doc = cjson.decode(out)
    assert.is_true(doc.connectors[1].stale)
    assert.are.equal("ALIVE", doc.connectors[1].state)
    assert.are.equal(5, doc.staleAfter)
  end)

  it("exits 2 on usage errors", function()
    for _, args in ipairs{ { "--network", "Nowhere" }, { "--format", "xml" }, { "--stale-after", "soon" },
      { "--stale-after", "0" }, { "--bogus" }, { "extra" } } do
      local code, _, err = health(table.unpack(args))
      assert.are.equal(2, code, table.concat(args, " ") .. ": " .. err)
    end
  end)

  it("exits 4 when the token is refused and 5 when the API keeps failing", function()
    local code, _, err = h.run({ url = s.url, token = "wrong" }, { SCRIPT })
    assert.are.equal(4, code, err)
    assert.not_matches("wrong", err)
    s:fault{ match = "query", status = 503, count = 50 }
    local code5 = h.run(s, { SCRIPT }, { env = { TWINGATE_HTTP_MAX_RETRY = "1" } })
    assert.are.equal(5, code5)
  end)

  it("prints its header with --help", function()
    local code, out = health("--help")
    assert.are.equal(0, code)
    assert.matches("connector-health.lua: report the connectors that are not alive", out, 1, true)
    assert.matches("--stale-after", out, 1, true)
  end)
end)
