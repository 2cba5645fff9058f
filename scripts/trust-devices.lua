-- trust-devices.lua: register device serial numbers and trust (or untrust) the
-- matching devices, from a CSV file.
--
-- Usage:
--   twingate-lua scripts/trust-devices.lua SERIALS.csv [options]
--
-- The CSV has one serial number per row in a column named `serial` (change it
-- with --serial-column). An optional `action` column says, per row, `trust` or
-- `untrust` (empty: the default, which is trust, or untrust with --untrust):
--
--   serial,action
--   C02XK1ZZJG5H,trust
--   " c02xk2aajg5h ",untrust
--   FVFZQ3ABCDEF,
--
-- Commas, semicolons and tabs are recognised as delimiters; quoted fields, CRLF
-- line ends and a UTF-8 BOM are fine. Other columns are ignored. Cells that
-- export.lua neutralised for spreadsheets ('-SN1) are read without the '.
--
-- Serial matching: leading and trailing white space (ASCII and Unicode spaces,
-- including no-break spaces) is removed, and serials are compared with ASCII
-- letters case-insensitively, so " c02xk1zzjg5h " matches a device reporting
-- "C02XK1ZZJG5H". Nothing else is changed (inner spaces, dashes and non-ASCII
-- letters must match exactly). Twingate itself matches registered serials to
-- devices exactly, so a serial is registered with the spelling the matching
-- device reports (the file's spelling when no device has it yet).
--
-- What it does:
--   1. Reads and checks the whole file first: an empty or invalid serial (control,
--      invisible or direction-changing characters, invalid UTF-8, over 256 bytes),
--      an unknown action, or a serial asked to be both trusted and untrusted stops
--      the job with FILE:LINE; nothing is changed. Duplicate rows are merged.
--      Column names match the header ignoring case and surrounding spaces.
--   2. Reads every device and every registered serial number.
--   3. Plans: "trust" rows register the serials not registered yet (one
--      serialNumbersCreate per 100 serials) and trust the matching devices that
--      are not trusted yet; "untrust" rows untrust the matching trusted devices
--      (their serials stay registered). Devices already in the wanted state are
--      left alone, so a second run changes nothing.
--   4. Prints the plan, then applies it in batched write requests (--batch-size
--      changes per request). Untrusting asks first in an interactive run (unless
--      --yes).
--   5. Prints one summary: serials registered, devices trusted and untrusted
--      (what would be, in a dry run), failed changes, changes with an unknown
--      outcome, what a resumed journal showed as done, where a run that stopped
--      early left off, and the serials with no matching device (trusted serials
--      are still registered, so devices enrolled later match them). A run with
--      nothing to do says "No changes." once.
--
-- Options:
--   --serial-column NAME  the column with the serial number (default: serial)
--   --action-column NAME  the column with trust/untrust (default: action, optional; a
--                         column named explicitly must exist)
--   --untrust             untrust the devices of rows without an action
--   --delimiter D         ",", ";", "tab" or "auto" (default: auto, from the header)
--   --dry-run             print the plan and change nothing
--   --yes                 do not ask before untrusting devices in an interactive run
--   --batch-size N        changes per write request (1..100, default 10)
--   --journal FILE        record every change before and after it is sent (JSON
--                         lines), so that a killed run can be resumed. FILE may
--                         be the same every run (cron): a finished run in it is
--                         moved to FILE.prev and a new one started; an unfinished
--                         one (changes in flight) is refused before any request:
--                         continue it with --resume FILE
--   --resume FILE         continue the run recorded in FILE (same CSV and options)
--   -h, --help            print this text
--
-- Exit codes:
--   0  done (or nothing to do)
--   1  the job failed, or the confirmation prompt was answered "no"
--   2  bad usage or a bad CSV file; nothing was changed
--   3  done, but some serials match no device, or some changes failed (listed)
--   4  the API token was refused
--   5  the API could not be reached
--   6  nothing was done: every change failed
local twingate = require "twingate"
local batch = require "twingate.batch"
local csv = require "twingate.csv"
local log = require "twingate.log"
local planning = require "twingate.plan"
local text = require "twingate.text"

local opts, run_opts = planning.parse_args(arg, {
  positional = { "SERIALS.csv" },
  options = {
    { "serial-column", value = "NAME", default = "serial" },
    { "action-column", value = "NAME" },
    { "untrust" },
    { "delimiter", value = "D", default = "auto" },
  },
})

local path = opts[1]
local serial_col, action_col = opts["serial-column"], opts["action-column"] or "action"
-- an --action-column given explicitly must exist; the default one is optional
local action_required = opts["action-column"] ~= nil
local default_action = opts.untrust and "untrust" or "trust"
local quote = text.quote

-- Leading/trailing white space: ASCII, NBSP, U+1680, U+2000..U+200B, U+2028/9,
-- U+202F, U+205F, U+3000, U+FEFF.
local SPACE = { "\194\160", "\225\154\128", "\226\128[\128-\139]", "\226\128[\168\169\175]",
  "\226\129\159", "\227\128\128", "\239\187\191", "[ \t\r\n\v\f]" }

local function trim(s)
  local changed = true
  while changed do
    changed = false
    for _, p in ipairs(SPACE) do
      local a = s:match("^" .. p)
      if a then s, changed = s:sub(#a + 1), true end
      local b = s:match(p .. "$")
      if b then s, changed = s:sub(1, #s - #b), true end
    end
  end
  return s
end

--- The matching key of a serial: trimmed, ASCII letters upper-cased.
local function key_of(s)
  return trim(s):gsub("%a", string.upper)
end

---------------------------------------------------------------------------
-- 1. Read and check the whole file.
---------------------------------------------------------------------------
local wanted = {}   -- key -> { serial = spelling, action = "trust"|"untrust", line = n }
local order = {}    -- keys in file order
local rows, duplicates = 0, 0
local content
do
  -- --delimiter checked, the file read whole (the fingerprint below hashes the same bytes)
  local reader
  reader, content = planning.read_input(path, { delimiter = opts.delimiter })
  reader:require_columns { serial_col }
  -- the optional action column matches its header ignoring case and spaces, as required ones do
  local has_action
  if action_required then
    reader:require_columns { action_col }
    has_action = true
  else
    has_action = reader:optional_column(action_col)
  end
  local bad = {}
  for row, line in reader:rows() do
    rows = rows + 1
    -- cells export.lua neutralised for spreadsheets ('-SN1) are read without the '
    local serial = trim(csv.unneutralize(row[serial_col] or ""))
    local action = has_action and text.lower(trim(csv.unneutralize(row[action_col] or ""))) or ""
    if action == "" then action = default_action end
    local problem = serial ~= "" and text.problem(serial)
    if serial == "" then
      bad[#bad + 1] = string.format("%s:%d: empty %s", path, line, quote(serial_col))
    elseif problem then
      bad[#bad + 1] = string.format("%s:%d: serial %s: %s", path, line, quote(serial), problem)
    elseif #serial > 256 then
      bad[#bad + 1] = string.format("%s:%d: serial is longer than 256 bytes", path, line)
    elseif action ~= "trust" and action ~= "untrust" then
      bad[#bad + 1] = string.format("%s:%d: %s must be \"trust\" or \"untrust\", got %s", path, line,
        quote(action_col), quote(action))
    else
      local key = key_of(serial)
      local seen = wanted[key]
      if not seen then
        wanted[key] = { serial = serial, action = action, line = line }
        order[#order + 1] = key
      elseif seen.action ~= action then
        bad[#bad + 1] = string.format("%s:%d: serial %s is to %s here but to %s on line %d", path, line,
          quote(serial), action, seen.action, seen.line)
      else
        duplicates = duplicates + 1
      end
    end
  end
  -- each problem on its own stderr line, then "N invalid rows in FILE, nothing changed"
  csv.raise_problems(path, bad)
end
log.info(string.format("%s: %s, %s, %s merged", path, planning.count(rows, "row"),
  planning.count(#order, "serial"), planning.count(duplicates, "duplicate row")))

-- A resumed run must have the same input and options as the journaled one:
-- a --resume FILE of another plan is refused now, before any request.
local fingerprint = planning.fingerprint(run_opts, "trust-devices", content, serial_col, action_col,
  opts.delimiter, opts.untrust)

---------------------------------------------------------------------------
-- 2. Read the devices and the registered serial numbers.
---------------------------------------------------------------------------
local tg = twingate.connect { dry_run = run_opts.dry_run }

local devices_of = {}   -- key -> array of devices
if #order > 0 then
  for d in tg.devices:each(nil, { fields = "id name isTrusted activeState serialNumber user { id email }" }) do
    if type(d.serialNumber) == "string" and d.serialNumber ~= "" then
      local key = key_of(d.serialNumber)
      if wanted[key] then
        local list = devices_of[key] or {}
        list[#list + 1] = d
        devices_of[key] = list
      end
    end
  end
end

local registered = {}   -- exact spelling -> true
if #order > 0 then
  for sn in tg.serial_numbers:each(nil, { fields = "id serialNumber" }) do
    registered[sn.serialNumber] = true
  end
end

---------------------------------------------------------------------------
-- 3. Plan.
---------------------------------------------------------------------------
local plan = planning.new { title = "Device trust from " .. path, fingerprint = fingerprint }

local to_register, queued = {}, {}
local device_changes = {}
local unmatched = {}    -- { serial, line, action }

for _, key in ipairs(order) do
  local w = wanted[key]
  local devs = devices_of[key] or {}
  if #devs == 0 then unmatched[#unmatched + 1] = w end
  if w.action == "trust" then
    local spellings = {}
    for _, d in ipairs(devs) do spellings[#spellings + 1] = d.serialNumber end
    if #spellings == 0 then spellings[1] = w.serial end
    for _, sp in ipairs(spellings) do
      if not registered[sp] and not queued[sp] then
        queued[sp] = true
        to_register[#to_register + 1] = sp
      end
    end
  end
  local want = w.action == "trust"
  for _, d in ipairs(devs) do
    if d.isTrusted ~= want then
      device_changes[#device_changes + 1] = { device = d, want = want }
    end
  end
end

-- Registrations first (up to 100 serials per serialNumbersCreate), so a device
-- trusted next already matches a registered serial.
local CHUNK = 100
for from = 1, #to_register, CHUNK do
  local list = {}
  for i = from, math.min(from + CHUNK - 1, #to_register) do list[#list + 1] = to_register[i] end
  local label = #to_register <= CHUNK and "registered serials"
    or string.format("registered serials %d-%d of %d", from, from + #list - 1, #to_register)
  plan:add {
    kind = "serial numbers", action = "create", name = label,
    key = "serials " .. planning.hash(table.concat(list, "\n")),
    changes = { { field = "serialNumber", added = list, removed = {} } },
    count = #list,
    op = {
      field = "serialNumbersCreate", args = { serialNumbers = list }, types = { serialNumbers = "[String!]!" },
      idempotent = true, selection = "ok error entities { id serialNumber }",
    },
  }
end

for _, c in ipairs(device_changes) do
  local d = c.device
  local owner = type(d.user) == "table" and d.user.email or nil
  local label = string.format("%s [%s]%s", d.name or "(unnamed)", d.serialNumber,
    owner and (" of " .. quote(owner)) or "")
  plan:add {
    kind = "device", action = "update", name = label, id = d.id, key = "device " .. d.id,
    changes = { { field = "isTrusted", before = d.isTrusted, after = c.want } },
    -- untrusting a device cuts its user off: an interactive run asks first
    destructive = not c.want,
    op = batch.op(tg.devices, "update", d.id, { isTrusted = c.want }),
  }
end

---------------------------------------------------------------------------
-- 4. Show, apply, report.
---------------------------------------------------------------------------
local dry_run = tg.dry_run
run_opts.dry_run = dry_run
run_opts.on_result = planning.result_logger(function(c) return c.kind .. " " .. quote(c.name) end)
-- one summary: the script's own (the plan's "Applied N of M" would repeat it);
-- an interrupted run still prints the plan's account of what was applied
local code, report = plan:run_quiet(tg, run_opts)
if report.declined then return code end

-- an empty plan has said "No changes." already: only unmatched serials follow it
local nothing = plan:is_empty()
if nothing and #unmatched == 0 then return code end
local out = { "" }
local registered_n, trusted_n, untrusted_n = 0, 0, 0
for _, r in ipairs(report.results or {}) do
  local ok = r.status == "applied" or (dry_run and r.status == "planned")
  if ok then
    local c = r.change
    if c.kind == "serial numbers" then
      registered_n = registered_n + c.count
    elseif c.changes[1].after then
      trusted_n = trusted_n + 1
    else
      untrusted_n = untrusted_n + 1
    end
  end
end
out[#out + 1] = planning.summary_heading(dry_run)
local function verb(v, past) return planning.verb(dry_run, v, past) end
if not nothing then
  out[#out + 1] = string.format("  serials %s: %d", verb("register", "registered"), registered_n)
  out[#out + 1] = string.format("  devices %s: %d, %s: %d", verb("trust", "trusted"), trusted_n,
    verb("untrust", "untrusted"), untrusted_n)
  plan:report_lines(report, { into = out })
end
out[#out + 1] = string.format("  serials with no matching device: %d", #unmatched)
for _, w in ipairs(unmatched) do
  out[#out + 1] = string.format("    %s:%d: %s (%s)%s", path, w.line, quote(w.serial), w.action,
    w.action == "trust" and ", registered for when it enrolls" or "")
end
io.stdout:write(table.concat(out, "\n"), "\n")

if code == twingate.exit.ok and #unmatched > 0 then return twingate.exit.partial end
return code
