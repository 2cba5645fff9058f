-- scripts/trust-devices.lua through the built binary against the simulator:
-- registration and trust end states, serial normalisation, batched writes,
-- unmatched serials, untrust, dry run, idempotence, bad CSVs, hostile values,
-- injected failures.
local sim = require "spec.support.sim"
local cli = require "spec.support.cli"
local h = require "spec.fixtures.ops.helper"

local SCRIPT = "scripts/trust-devices.lua"
local s

local function trust(csv_text, ...)
  local path = cli.write_file(cli.tmppath(".csv"), csv_text)
  local code, out, err = h.run(s, { SCRIPT, path, ... })
  return code, out, err, path
end

local function state()
  local t = s:state().tables
  local registered = {}
  for _, sn in ipairs(t.serialNumbers or {}) do registered[#registered + 1] = sn.serialNumber end
  table.sort(registered)
  return h.by(t.devices, "name"), registered
end

local function seed()
  local devices = {
    { user = "ann@example.com", name = "ann-mac", serialNumber = "C02XK1ZZJG5H", isTrusted = false },
    { user = "ann@example.com", name = "ann-old", serialNumber = "OLD0001", isTrusted = true },
    { user = "bob@example.com", name = "bob-mac", serialNumber = "FVFZQ3ABCDEF", isTrusted = false },
    { user = "bob@example.com", name = "bob-trusted", serialNumber = "TRUSTED1", isTrusted = true },
    { user = "bob@example.com", name = "no-serial", isTrusted = false },
  }
  for i = 1, 25 do
    devices[#devices + 1] = { user = "bob@example.com", name = string.format("fleet-%02d", i),
      serialNumber = string.format("FLEET%02d", i), isTrusted = false }
  end
  return {
    users = { { email = "ann@example.com" }, { email = "bob@example.com" } },
    devices = devices,
    serialNumbers = { "OLD0001", "TRUSTED1" },
  }
end

describe("scripts/trust-devices.lua #integration", function()
  sim.suite{ seed = seed, teardown = cli.cleanup, started = function(x) s = x end }

  describe("trusting", function()
    it("registers new serials and trusts the matching devices, ignoring case and outer spaces", function()
      local code, out, err = trust(h.csv({ "serial" }, { { "  c02xk1zzjg5h\t" }, { "FVFZQ3ABCDEF" }, { "TRUSTED1" } }))
      assert.are.equal(0, code, out .. err)
      local dev, registered = state()
      assert.is_true(dev["ann-mac"].isTrusted)
      assert.is_true(dev["bob-mac"].isTrusted)
      assert.is_true(dev["bob-trusted"].isTrusted)
      assert.is_false(dev["fleet-01"].isTrusted)
      -- registered with the device's own spelling, so Twingate's exact matching works
      assert.are.same({ "C02XK1ZZJG5H", "FVFZQ3ABCDEF", "OLD0001", "TRUSTED1" }, registered)
      assert.matches("serials registered: 2", out, 1, true)
      assert.matches("devices trusted: 2, untrusted: 0", out, 1, true)
      assert.matches("serials with no matching device: 0", out, 1, true)
    end)

    it("writes singular counts for one: 1 serial, 1 duplicate row", function()
      local code, out, err = trust(h.csv({ "serial" }, { { "TRUSTED1" }, { "TRUSTED1" } }), "--dry-run")
      assert.are.equal(0, code, out .. err)
      assert.matches(": 2 rows, 1 serial, 1 duplicate row merged", err, 1, true)
    end)

    it("registers all serials in one serialNumbersCreate and batches the device updates", function()
      local rows = {}
      for i = 1, 25 do rows[i] = { string.format("fleet%02d", i) } end
      local code, out, err = trust(h.csv({ "serial" }, rows))
      assert.are.equal(0, code, out .. err)
      local writes = h.count(s, "mutation")
      assert.are.equal(3, writes)   -- 26 changes (1 registration + 25 devices), 10 per request
      assert.are.equal(1, select(2, h.count(s, "mutation", "serialNumbersCreate")))
      assert.are.equal(25, select(2, h.count(s, "mutation", "deviceUpdate")))
      assert.is_true(h.count(s, "query") <= 2)   -- devices page + serial numbers page
      local dev = state()
      for i = 1, 25 do assert.is_true(dev[string.format("fleet-%02d", i)].isTrusted) end
    end)

    it("reports serials with no matching device with FILE:LINE, still registers them, exits 3", function()
      local code, out, err, path = trust(h.csv({ "serial" }, { { "C02XK1ZZJG5H" }, { "NOT-ENROLLED-1" } }))
      assert.are.equal(3, code, out .. err)
      assert.matches(path .. ':3: "NOT-ENROLLED-1" (trust)', out, 1, true)
      local dev, registered = state()
      assert.is_true(dev["ann-mac"].isTrusted)
      assert.are.same({ "C02XK1ZZJG5H", "NOT-ENROLLED-1", "OLD0001", "TRUSTED1" }, registered)
    end)
  end)

  describe("untrusting", function()
    it("untrusts per the action column and leaves registrations alone", function()
      local code, out, err = trust(h.csv({ "serial", "action" },
        { { "old0001", "untrust" }, { "FVFZQ3ABCDEF", "Trust" }, { "fleet01", "" } }), "--yes")
      assert.are.equal(0, code, out .. err)
      local dev, registered = state()
      assert.is_false(dev["ann-old"].isTrusted)
      assert.is_true(dev["bob-mac"].isTrusted)
      assert.is_true(dev["fleet-01"].isTrusted)    -- empty action: the default, trust
      assert.are.same({ "FLEET01", "FVFZQ3ABCDEF", "OLD0001", "TRUSTED1" }, registered)
      assert.matches("devices trusted: 2, untrusted: 1", out, 1, true)
    end)

    it("untrusts every row with --untrust and registers nothing", function()
      local code, out, err = trust(h.csv({ "serial" }, { { "TRUSTED1" }, { "FLEET02" } }), "--untrust")
      assert.are.equal(0, code, out .. err)
      local dev, registered = state()
      assert.is_false(dev["bob-trusted"].isTrusted)
      assert.is_false(dev["fleet-02"].isTrusted)
      assert.are.same({ "OLD0001", "TRUSTED1" }, registered)
      assert.are.equal(0, select(2, h.count(s, "mutation", "serialNumbersCreate")))
      assert.are.equal(1, select(2, h.count(s, "mutation", "deviceUpdate")))   -- fleet-02 was untrusted already
    end)
  end)

  describe("confirmation", function()
    -- run under a pseudo-terminal, answering `answer`
    local function on_tty(answer, csv_text, ...)
      local path = cli.write_file(cli.tmppath(".csv"), csv_text)
      return h.on_tty(s, answer, { SCRIPT, path, ... })
    end

    it("asks on a terminal before untrusting and applies nothing on no", function()
      local code, out = on_tty("n", h.csv({ "serial", "action" }, { { "TRUSTED1", "untrust" } }))
      assert.are.equal(1, code, out)
      assert.matches("Apply 1 change? [y/N]", out, 1, true)
      assert.matches("Nothing applied.", out, 1, true)
      assert.are.equal(0, (h.count(s, "mutation")))
      assert.is_true(state()["bob-trusted"].isTrusted)
    end)

    it("does not ask on a terminal when it only registers and trusts", function()
      local code, out = on_tty("n", h.csv({ "serial" }, { { "C02XK1ZZJG5H" } }))
      assert.are.equal(0, code, out)
      assert.not_matches("[y/N]", out, 1, true)
      assert.is_true(state()["ann-mac"].isTrusted)
    end)
  end)

  describe("plan, dry run and idempotence", function()
    it("sends no mutation in a dry run and shows the plan", function()
      local code, out, err = trust(h.csv({ "serial" }, { { "C02XK1ZZJG5H" }, { "TRUSTED1" } }), "--dry-run")
      assert.are.equal(0, code, out .. err)
      assert.are.equal(0, (h.count(s, "mutation")))
      assert.matches('+ create serial numbers "registered serials"', out, 1, true)
      assert.matches('+ serialNumber "C02XK1ZZJG5H"', out, 1, true)
      assert.matches('~ update device "ann-mac [C02XK1ZZJG5H] of \\"ann@example.com\\""', out, 1, true)
      assert.matches("~ isTrusted false -> true", out, 1, true)
      assert.matches("Summary (dry run, nothing changed):\n  serials to register: 1\n"
        .. "  devices to trust: 1, to untrust: 0\n  write requests it would send: 1\n", out, 1, true)
      assert.not_matches("Dry run:", out, 1, true)
      assert.is_false(state()["ann-mac"].isTrusted)
    end)

    it("changes nothing on a second run", function()
      local text = h.csv({ "serial", "action" }, { { "C02XK1ZZJG5H", "trust" }, { "OLD0001", "untrust" },
        { "c02xk1zzjg5h", "" } })
      assert.are.equal(0, (trust(text, "--yes")))
      s:reset()
      local code, out = trust(text, "--yes")
      assert.are.equal(0, code)
      assert.are.equal(0, (h.count(s, "mutation")))
      assert.are.equal(1, select(2, out:gsub("No changes%.", "")), out)
      assert.not_matches("Summary", out, 1, true)
    end)

    it("prints one summary, not the plan's applied line as well", function()
      local code, out, err = trust(h.csv({ "serial" }, { { "C02XK1ZZJG5H" }, { "FVFZQ3ABCDEF" } }))
      assert.are.equal(0, code, out .. err)
      assert.not_matches("Applied ", out, 1, true)
      assert.are.equal(1, select(2, out:gsub("Summary", "")), out)
      assert.matches("Summary:\n  serials registered: 2\n  devices trusted: 2, untrusted: 0\n"
        .. "  write requests: 1\n  serials with no matching device: 0\n", out, 1, true)
    end)

    it("says No changes. once and lists unmatched serials without a summary of zeros", function()
      local code, out, err, path = trust(h.csv({ "serial" }, { { "TRUSTED1" }, { "GONE1" } }))
      assert.are.equal(3, code, out .. err)
      s:reset()
      code, out, err = h.run(s, { SCRIPT, path })
      assert.are.equal(3, code, out .. err)
      assert.are.equal(0, (h.count(s, "mutation")))
      assert.are.equal(1, select(2, out:gsub("No changes%.", "")), out)
      assert.not_matches("registered: 0", out, 1, true)
      assert.not_matches("Totals", out, 1, true)
      assert.matches(path .. ':3: "GONE1" (trust)', out, 1, true)
    end)
  end)

  describe("bad input", function()
    local function bad(file, ...)
      local code, out, err = h.run(s, { SCRIPT, h.FIXTURES .. file, ... })
      assert.are.equal(2, code, out .. err)
      assert.are.equal(0, #s:requests())
      return err
    end

    it("reports an unterminated quote with FILE:LINE and sends nothing", function()
      assert.matches("bad_quote.csv:3", bad("bad_quote.csv"), 1, true)
    end)

    it("reports a row with too many fields with FILE:LINE", function()
      assert.matches("bad_wide.csv:3", bad("bad_wide.csv"), 1, true)
    end)

    it("reports every bad value with its line: empty, unknown action, trust and untrust", function()
      local err = bad("bad_values.csv")
      assert.matches("3 invalid rows", err, 1, true)
      assert.matches('bad_values.csv:3: empty "serial"', err, 1, true)
      assert.matches('bad_values.csv:4: "action" must be "trust" or "untrust", got "maybe"', err, 1, true)
      assert.matches("bad_values.csv:5: serial \"c02x\" is to untrust here but to trust on line 2", err, 1, true)
    end)

    it("names the missing column and honours --serial-column", function()
      assert.matches('missing column "serial"', bad("bad_header.csv"), 1, true)
      local code, out, err = h.run(s, { SCRIPT, h.FIXTURES .. "bad_header.csv", "--serial-column", "device",
        "--dry-run" })
      assert.are.equal(3, code, out .. err)   -- C02X matches no device
      assert.matches("serials with no matching device: 1", out, 1, true)
    end)

    it("rejects a serial with a line break", function()
      local code, _, err = trust(h.csv({ "serial" }, { { "C02X\nK1" } }))
      assert.are.equal(2, code)
      assert.matches(":2: serial \"C02X\\nK1\": control character U+000A", err, 1, true)
      assert.are.equal(0, #s:requests())
    end)

    it("rejects serials with invisible or direction-changing characters with FILE:LINE", function()
      local code, _, err, path = trust(h.csv({ "serial" }, { { "C02X\u{200B}K1" }, { "OK1" }, { "AB\u{202E}C" } }))
      assert.are.equal(2, code)
      assert.matches(path .. ':2: serial "C02X\\u{200B}K1": invisible character U+200B', err, 1, true)
      assert.matches(path .. ':4: serial "AB\\u{202E}C": direction-changing character U+202E', err, 1, true)
      assert.are.equal(0, #s:requests())
    end)

    it("prints each bad row on its own stderr line (U+0085, U+202E, inner U+200B) and one summary line", function()
      local code, _, err, path = trust(h.csv({ "serial" }, { { "AB\u{85}C" }, { "AB\u{202E}C" }, { "AB\u{200B}C" } }))
      assert.are.equal(2, code)
      local lines = {}
      for l in err:gmatch("[^\n]+") do if not l:find(": info: ", 1, true) then lines[#lines + 1] = l end end
      assert.are.same({
        "twingate-lua: error: " .. path .. ':2: serial "AB\\u{0085}C": control character U+0085',
        "twingate-lua: error: " .. path .. ':3: serial "AB\\u{202E}C": direction-changing character U+202E',
        "twingate-lua: error: " .. path .. ':4: serial "AB\\u{200B}C": invisible character U+200B',
        "twingate-lua: twingate: invalid_argument: 3 invalid rows in " .. path .. ", nothing changed",
      }, lines)
      assert.are.equal(0, #s:requests())
    end)

    it("refuses an explicit --action-column the header lacks (exit 2)", function()
      local code, out, err = trust(h.csv({ "serial", "action" }, { { "TRUSTED1", "untrust" } }),
        "--action-column", "Foo", "--yes")
      assert.are.equal(2, code, out .. err)
      assert.matches('missing column "Foo"', err, 1, true)
      assert.are.equal(0, #s:requests())
      assert.is_true(state()["bob-trusted"].isTrusted)
    end)

    it("refuses a directory with 'PATH: is a directory'", function()
      local code, _, err = h.run(s, { SCRIPT, "/tmp" })
      assert.are.equal(2, code)
      assert.matches("/tmp: is a directory", err, 1, true)
      assert.are.equal(0, #s:requests())
    end)

    it("reads cells neutralised by export.lua without the leading '", function()
      local code, out, err = trust(h.csv({ "serial", "action" }, { { "'-SN1", "" }, { "TRUSTED1", "'-untrust" } }))
      assert.are.equal(2, code, out .. err)   -- "-untrust" is no action: the ' was removed
      assert.matches(':3: "action" must be "trust" or "untrust", got "-untrust"', err, 1, true)
      code, out, err = trust(h.csv({ "serial" }, { { "'-SN1" }, { "'=SN2" } }))
      assert.are.equal(3, code, out .. err)   -- no device has them
      local _, registered = state()
      assert.are.same({ "-SN1", "=SN2", "OLD0001", "TRUSTED1" }, registered)
    end)

    it("matches the action column's header ignoring case", function()
      local code, out, err = trust(h.csv({ "serial", " Action " }, { { "TRUSTED1", "UNTRUST" } }), "--yes")
      assert.are.equal(0, code, out .. err)
      assert.is_false(state()["bob-trusted"].isTrusted)
    end)
  end)

  it("registers hostile serials exactly as written (quotes, commas, braces, $, unicode)", function()
    local hostile = { 'SN "quoted", {x}', "$var ${x} \\ %s", "Ünïcødé-✨-序列" }
    local rows = {}
    for i, v in ipairs(hostile) do rows[i] = { v } end
    local code, out, err = trust(h.csv({ "serial" }, rows))
    assert.are.equal(3, code, out .. err)     -- no device has them
    local _, registered = state()
    for _, v in ipairs(hostile) do
      local found = false
      for _, r in ipairs(registered) do found = found or r == v end
      assert.is_true(found, v)
    end
    assert.matches('"SN \\"quoted\\", {x}"', out, 1, true)
  end)

  describe("injected failures", function()
    it("exits 3 when one request of several fails and the others are applied", function()
      s:fault{ match = "mutation", graphqlError = "injected failure", count = 1 }
      local code, out, err = trust(h.csv({ "serial" }, { { "NEW1" }, { "FLEET01" }, { "FLEET02" } }),
        "--batch-size", "1")
      assert.are.equal(3, code, out .. err)
      assert.matches("  failed: 1\n    create serial numbers \"registered serials\": ", out, 1, true)
      assert.matches("injected failure", out, 1, true)
      assert.not_matches("Applied ", out, 1, true)
      local dev, registered = state()
      assert.is_true(dev["fleet-01"].isTrusted)
      assert.is_true(dev["fleet-02"].isTrusted)
      assert.are.same({ "OLD0001", "TRUSTED1" }, registered)   -- the registration was the failed one
      -- a re-run completes it
      s:reset()
      code = trust(h.csv({ "serial" }, { { "FLEET01" }, { "FLEET02" } }))
      assert.are.equal(0, code)
      assert.are.equal(1, (h.count(s, "mutation")))
    end)

    it("exits 6 when every change fails", function()
      s:fault{ match = "mutation", graphqlError = "injected failure", count = 10 }
      local code, out, err = trust(h.csv({ "serial" }, { { "FLEET01" }, { "FLEET02" } }), "--batch-size", "1")
      assert.are.equal(6, code, out .. err)
      assert.is_false(state()["fleet-01"].isTrusted)
    end)

    it("re-checks a lost response and applies each change once", function()
      s:fault{ match = "mutation", drop = "after", count = 1 }
      local code, out, err = trust(h.csv({ "serial" }, { { "FLEET03" }, { "FLEET04" } }))
      assert.are.equal(0, code, out .. err)
      local dev, registered = state()
      assert.is_true(dev["fleet-03"].isTrusted)
      local n = 0
      for _, r in ipairs(registered) do if r == "FLEET03" then n = n + 1 end end
      assert.are.equal(1, n)
    end)
  end)

  it("prints its header with --help", function()
    local code, out = h.run(s, { SCRIPT, "--help" })
    assert.are.equal(0, code)
    assert.matches("trust-devices.lua: register device serial numbers", out, 1, true)
    assert.matches("Exit codes:", out, 1, true)
  end)
end)
