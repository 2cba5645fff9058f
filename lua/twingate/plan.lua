--- Plans: collect intended changes, show them, apply them, report.
--
--   local plan = require("twingate.plan").new{ title = "Group membership sync" }
--   plan:add{ kind = "group", action = "update", name = "Engineering", id = g.id,
--             changes = { { field = "users", added = { "a@x.com" }, removed = {} } },
--             op = batch.op(tg.groups, "update", g.id, { addedUserIds = ids }) }
--   local code = plan:run(tg, run_opts)   -- print, confirm, journal, apply, summary
--
-- A change is plain data (kind, action, name, id, changes, a stable `key`, and
-- any fields a script wants to keep) plus the work: a declarative mutation
-- `op` (see twingate.batch: applied several per request as aliased fields,
-- journaled, re-checked after a lost response) and/or an `apply` function
-- (run on its own; its return value is the change's result).
--
-- Scripts get the standard options the same way:
--
--   local opts, run_opts = plan.parse_args(arg, { positional = { "FILE.csv" }, options = { ... } })
--   -- adds --dry-run --yes --journal FILE --resume FILE --batch-size N
--
-- Exit codes of `run` (M.exit, `exit_code`), the same whichever error came last:
-- * 0 all done (or nothing to do, or dry run); 1 the admin declined at the prompt;
-- * 5 the run stopped early because the API could not be reached or kept
--   throttling (a transport or rate_limited error after the retries) and
--   changes were left not attempted; only then (or after an auth/config
--   error) does the summary say "Stopped after ...; N changes not attempted";
-- * 4 / 2 the run stopped on an auth / config error before any change was
--   applied or left with an unknown outcome;
-- * 3 some change failed or has an unknown outcome, and at least one was
--   applied or has an unknown outcome (it may have been applied);
-- * 6 nothing was done: every attempted change definitely failed.
local batch = require "twingate.batch"
local csv = require "twingate.csv"
local errors = require "twingate.errors"
local journal_mod = require "twingate.journal"
local log = require "twingate.log"
local text = require "twingate.text"

local M = {}

--- Exit codes returned by `run` (6, "nothing done", is plan's own: every
-- attempted change failed).
M.exit = { ok = 0, failed = 1, usage = 2, partial = 3, none = 6 }

local ACTIONS = { create = true, update = true, delete = true }
local SYMBOL = { create = "+", update = "~", delete = "-" }
local COLOR = { ["+"] = "\27[32m", ["-"] = "\27[31m", ["~"] = "\27[33m" }
local RESET = "\27[0m"

---------------------------------------------------------------------------
-- Unambiguous value printing
---------------------------------------------------------------------------

--- Quote a string so that it prints on one line and unambiguously (see
-- twingate.text.quote, which this is: one quoting function and one list of
-- invisible characters for every message).
-- @param s string (other values are converted with tostring)
-- @return string
M.quote = text.quote

--- A count with its noun, singular for 1: `count(1, "row")` is "1 row",
-- `count(2, "row")` "2 rows", `count(2, "entry", "entries")` "2 entries".
-- @param n number
-- @param word singular noun
-- @param plural optional plural (default word .. "s")
-- @return string
function M.count(n, word, plural)
  return string.format("%d %s", n, n == 1 and word or (plural or word .. "s"))
end

-- A scalar value for a before/after line.
local function show_value(v)
  local t = type(v)
  if v == nil then return "(none)" end
  if t == "string" then return M.quote(v) end
  if t == "number" or t == "boolean" then return tostring(v) end
  if t == "userdata" or t == "lightuserdata" then return "null" end
  if t == "table" then
    if #v > 0 or next(v) == nil then
      local parts = {}
      for i, x in ipairs(v) do parts[i] = show_value(x) end
      return "[" .. table.concat(parts, ", ") .. "]"
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    local parts = {}
    for i, k in ipairs(keys) do
      local val = v[k]
      if val == nil then val = v[tonumber(k)] end
      parts[i] = k .. " = " .. show_value(val)
    end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return M.quote(tostring(v))
end

-- An item of a set change (a label: email, name, id).
local function show_item(v)
  if type(v) == "string" then return M.quote(v) end
  return show_value(v)
end

---------------------------------------------------------------------------
-- Plans
---------------------------------------------------------------------------

local Plan = {}
Plan.__index = Plan

--- Create an empty plan.
-- @param opts optional table: `title` (first line of the rendering),
--   `fingerprint` (a string naming the plan's inputs, e.g. a hash of the input
--   file and the options: a journal only resumes a plan with the same
--   fingerprint; default: a hash of the changes' keys and ops), `destructive`
--   (true: every change of this plan cuts something off, so an interactive
--   run of a non-empty plan asks before applying; see `is_destructive`)
-- @return plan
function M.new(opts)
  opts = opts or {}
  if opts.title ~= nil and type(opts.title) ~= "string" then
    errors.raise("invalid_argument", "plan.new: title must be a string", nil, 2)
  end
  if opts.fingerprint ~= nil and type(opts.fingerprint) ~= "string" then
    errors.raise("invalid_argument", "plan.new: fingerprint must be a string", nil, 2)
  end
  if opts.destructive ~= nil and type(opts.destructive) ~= "boolean" then
    errors.raise("invalid_argument", "plan.new: destructive must be a boolean", nil, 2)
  end
  return setmetatable({ title = opts.title, changes = {}, keys = {}, given_fingerprint = opts.fingerprint,
    destructive = opts.destructive or false }, Plan)
end

--- A fingerprint of a string (16 hex digits; see journal.hash).
M.hash = journal_mod.hash

local function bad(msg)
  errors.raise("invalid_argument", "plan:add: " .. msg, nil, 4)
end

local function check_list(entry, key, i)
  local v = entry[key]
  if v ~= nil and type(v) ~= "table" then
    bad(string.format("changes[%d].%s must be an array", i, key))
  end
end

--- Add a change to the plan (kept in the order added).
-- @param change table: `kind` (string, e.g. "group"), `action` ("create",
--   "update" or "delete"), `name` (label shown to the admin), optional `id`,
--   optional `changes` (array of `{ field =, added = {...}, removed = {...} }`
--   set changes and `{ field =, before =, after = }` scalar changes), and
--   the work: `op` (a declarative mutation, see twingate.batch: `{ field =,
--   args =, types =, selection =, idempotent =, verify = }`) and/or `apply`
--   (function(change) doing the work; its return value is the change's
--   result; `verify`/`idempotent` on the change say how to re-check it when
--   resuming). `key`: a stable name for the journal (default
--   "kind:action:name", numbered when repeated). `destructive = true` marks
--   an update that cuts something off although it deletes and removes
--   nothing (disabling a user, blocking or untrusting a device): an
--   interactive run asks before applying it. `context`: optional array of
--   `{ field =, value = }` shown under the title as `= field value` (e.g.
--   the network of a deleted resource); not counted as changes. Other
--   fields are kept.
-- @return the change table
-- @raise invalid_argument when the change is malformed
function Plan:add(change)
  if type(change) ~= "table" then bad("the change must be a table") end
  if type(change.kind) ~= "string" or change.kind == "" then bad("kind must be a non-empty string") end
  if not ACTIONS[change.action] then
    bad(string.format("action must be \"create\", \"update\" or \"delete\", got %s",
      show_value(change.action)))
  end
  local nt = type(change.name)
  if nt ~= "string" and nt ~= "number" then bad("name must be a string") end
  if change.apply ~= nil and type(change.apply) ~= "function" then bad("apply must be a function") end
  if change.op ~= nil then
    local ok, err = pcall(batch.check, change.op)
    if not ok then bad(errors.is(err) and err.message or tostring(err)) end
  end
  if change.key ~= nil and type(change.key) ~= "string" then bad("key must be a string") end
  if change.destructive ~= nil and type(change.destructive) ~= "boolean" then
    bad("destructive must be a boolean")
  end
  local key = change.key or (change.kind .. ":" .. change.action .. ":" .. tostring(change.name))
  if self.keys[key] then
    if change.key then bad("key " .. show_value(key) .. " is used twice") end
    local n = 2
    while self.keys[key .. "#" .. n] do n = n + 1 end
    key = key .. "#" .. n
  end
  change.key = key
  self.keys[key] = change
  if change.changes == nil then change.changes = {} end
  if type(change.changes) ~= "table" then bad("changes must be an array") end
  for i, entry in ipairs(change.changes) do
    if type(entry) ~= "table" or type(entry.field) ~= "string" then
      bad(string.format("changes[%d] must be a table with a string field", i))
    end
    check_list(entry, "added", i)
    check_list(entry, "removed", i)
  end
  if change.context ~= nil and type(change.context) ~= "table" then bad("context must be an array") end
  for i, entry in ipairs(change.context or {}) do
    if type(entry) ~= "table" or type(entry.field) ~= "string" then
      bad(string.format("context[%d] must be a table with a string field", i))
    end
  end
  local list = self.changes
  list[#list + 1] = change
  return change
end

--- Number of changes.
function Plan:count()
  return #self.changes
end

--- True when the plan has no change.
function Plan:is_empty()
  return #self.changes == 0
end

local function is_set(entry)
  return entry.added ~= nil or entry.removed ~= nil
end

-- Totals of a list of changes.
local function totals_of(list)
  local t = { create = 0, update = 0, delete = 0, added = 0, removed = 0, changed_fields = 0 }
  for _, c in ipairs(list) do
    t[c.action] = t[c.action] + 1
    for _, e in ipairs(c.changes) do
      if is_set(e) then
        t.added = t.added + #(e.added or {})
        t.removed = t.removed + #(e.removed or {})
      else
        t.changed_fields = t.changed_fields + 1
      end
    end
  end
  return t
end

--- Totals over the plan.
-- @return `{ create = n, update = n, delete = n, added = n, removed = n,
--   changed_fields = n }` (added/removed count set items, changed_fields the
--   scalar changes)
function Plan:totals()
  return totals_of(self.changes)
end

--- True when applying would delete objects, remove set items, or make a
-- change marked `destructive` (or the plan was created `destructive` and is
-- not empty): what an interactive run confirms first.
-- @return boolean
function Plan:is_destructive()
  if #self.changes == 0 then return false end
  if self.destructive then return true end
  for _, c in ipairs(self.changes) do
    if c.destructive then return true end
  end
  local t = self:totals()
  return t.delete > 0 or t.removed > 0
end

-- "1 to create, 2 to update; 3 added" (zero counts left out; "nothing"
-- when every count is zero). `past`: "1 created, 2 updated; ...".
local function totals_line(t, past)
  local function part(list)
    local out = {}
    for _, x in ipairs(list) do
      if x[1] > 0 then out[#out + 1] = x[1] .. " " .. x[2] end
    end
    return table.concat(out, ", ")
  end
  local objects = part{ { t.create, past and "created" or "to create" }, { t.update, past and "updated" or "to update" },
    { t.delete, past and "deleted" or "to delete" } }
  local items = part{ { t.added, "added" }, { t.removed, "removed" },
    { t.changed_fields, t.changed_fields == 1 and "field changed" or "fields changed" } }
  if objects ~= "" and items ~= "" then return objects .. "; " .. items end
  if objects ~= "" or items ~= "" then return objects .. items end
  return "nothing"
end

-- The header line of a change: "~ update group "Eng" (id "R3J...")".
local function change_title(c)
  local s = string.format("%s %s %s %s", SYMBOL[c.action], c.action, c.kind, show_item(c.name))
  if c.id ~= nil then s = s .. " (id " .. show_item(c.id) .. ")" end
  return s
end

--- Render the plan as text: the title, then every change in the order added
-- (`+ create`, `~ update`, `- delete`), with one indented line per scalar
-- change (`~ field before -> after`) and per set item (`+ field item`,
-- `- field item`), then a totals line. Strings are quoted and escaped so
-- that every name prints unambiguously on one line.
-- @param opts optional: `color` (ANSI colours, default false), `max_items`
--   (show at most this many items per field and direction, then a count of
--   the rest; default: all)
-- @return string ending with a newline
function Plan:render(opts)
  opts = opts or {}
  local color, max_items = opts.color, opts.max_items
  if max_items ~= nil and (math.type(max_items) ~= "integer" or max_items < 0) then
    errors.raise("invalid_argument", "plan:render: max_items must be a non-negative integer", nil, 2)
  end
  local out = {}
  local function emit(sym, text)
    if color and COLOR[sym] then
      out[#out + 1] = COLOR[sym] .. text .. RESET
    else
      out[#out + 1] = text
    end
  end
  if self.title then out[#out + 1] = self.title end
  if #self.changes == 0 then
    out[#out + 1] = "No changes."
    return table.concat(out, "\n") .. "\n"
  end
  for _, c in ipairs(self.changes) do
    emit(SYMBOL[c.action], change_title(c))
    for _, e in ipairs(c.context or {}) do
      out[#out + 1] = string.format("    = %s %s", e.field, show_value(e.value))
    end
    for _, e in ipairs(c.changes) do
      local field = e.field
      if is_set(e) then
        for _, dir in ipairs{ { "+", e.added or {} }, { "-", e.removed or {} } } do
          local sym, items = dir[1], dir[2]
          local shown = #items
          if max_items and shown > max_items then shown = max_items end
          for i = 1, shown do
            emit(sym, string.format("    %s %s %s", sym, field, show_item(items[i])))
          end
          if shown < #items then
            emit(sym, string.format("    %s %s ... %d more not shown", sym, field, #items - shown))
          end
        end
      else
        emit("~", string.format("    ~ %s %s -> %s", field, show_value(e.before), show_value(e.after)))
      end
    end
  end
  out[#out + 1] = ""
  out[#out + 1] = "Totals: " .. totals_line(self:totals())
  return table.concat(out, "\n") .. "\n"
end

--- Write the rendering to a file (default io.stdout).
-- @param file optional file handle
-- @param opts as for `render`
function Plan:print(file, opts)
  file = file or io.stdout
  file:write(self:render(opts))
end

-- Error kinds after which trying further changes is pointless.
-- (auth, config, and the API unreachable or throttling after the retries:
-- transport, rate_limited; the journal lets --resume continue later).
local DEFAULT_STOP_ON = batch.DEFAULT_STOP_ON

-- A deterministic text of a value (sorted keys), for fingerprints.
local function canonical(v)
  local t = type(v)
  if t == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(x, y) return tostring(x) < tostring(y) end)
    local parts = {}
    for i, k in ipairs(keys) do parts[i] = tostring(k) .. "=" .. canonical(v[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif t == "string" then
    return string.format("%q", v)
  elseif t == "function" then
    return "fn"
  end
  return tostring(v)
end

--- The plan's fingerprint: the one given to `new`, else a hash of every
-- change's key and op (a journal from another plan is refused on resume).
-- @return string
function Plan:fingerprint()
  if self.given_fingerprint then return self.given_fingerprint end
  local parts = {}
  for i, c in ipairs(self.changes) do
    parts[i] = c.key .. "\0" .. (c.op and canonical({ c.op.field, c.op.args }) or "")
  end
  return M.hash(table.concat(parts, "\n"))
end

--- Default per-request timeout (seconds) when neither the options nor the
-- client nor the settings give one.
M.DEFAULT_TIMEOUT = 35

-- The client's per-request timeout: how long a request sent by a run may
-- still be on its way or being processed by the server.
local function request_timeout(client)
  if type(client) == "table" then
    local api = client.api
    if type(api) == "table" and type(api.timeout) == "number" then return api.timeout end
    if type(client.timeout) == "number" then return client.timeout end
  end
  local ok, tw = pcall(require, "twingate")
  if ok and type(tw) == "table" and type(tw.settings) == "function" then
    local oks, st = pcall(tw.settings)
    if oks and type(st) == "table" and type(st.timeout) == "number" then return st.timeout end
  end
  return M.DEFAULT_TIMEOUT
end

-- Wall clock (sub-second inside the program) and sleep.
local function default_clock()
  local ok, sys = pcall(require, "twingate.sys")
  if ok and type(sys) == "table" and sys.time and sys.sleep then return sys.time, sys.sleep end
  return os.time, select(2, require("twingate.ratelimit").default_clock())
end

-- The op as written to the journal: what would be sent.
local function journal_op(op)
  if not op then return nil end
  return { field = op.field, args = op.args }
end

--- Apply the changes in order. Changes with an `op` go in batched requests
-- (`batch_size` mutations per request, twingate.batch) when a client is given;
-- changes with only an `apply` function run one by one. A change that fails is
-- recorded and the rest go on, except after an error whose kind is in
-- `stop_on` (default `auth` and `config`: every later change would fail the
-- same way); the remaining changes are then skipped.
-- @param opts optional table:
--   `client` (the twingate client; needed for changes with an `op`),
--   `dry_run` (apply nothing; every change counts as planned; always when
--   the client is in dry run), `batch_size` (default 10),
--   `journal` (a twingate.journal: each change is written before it is sent
--   and after; on a resumed journal, changes already done are skipped and
--   changes that were in flight are re-checked first: `verify` asks the
--   server, `idempotent` ones are resent, others are reported unknown;
--   before verifying one, apply waits until `timeout` seconds have passed
--   since the earlier run sent it, so that a request the server is still
--   processing is not taken for lost and sent again),
--   `timeout` (the per-request timeout of the run that wrote the journal;
--   default the client's, else the settings', else 35), `now` (wall-clock
--   seconds, default twingate.sys.time) and `sleep` (function(seconds)),
--   `on_result` (function(change, ok, result_or_err), after each change that
--   was applied or definitely failed; a change whose outcome is unknown is
--   logged at warn as "outcome unknown" by apply and goes to `on_unknown`
--   (function(change, err, reason)) instead),
--   `skip` (function(change) -> truthy reason to skip it),
--   `stop_on` (set of error kinds that stop the run),
--   `stop_on_error` (stop at the first failure),
--   `interrupted` (function -> signal number or nil, polled before each
--   change and request; default twingate.interrupt.pending: SIGINT/SIGTERM
--   stop the run there, the rest is skipped "not attempted: interrupted" and
--   `report.interrupted` is the signal number)
-- @return report `{ applied, failed, unknown, skipped, planned, already, total,
--   requests (write requests sent for ops), dry_run, failures = { { change =,
--   error = } }, unknowns = { { change =, error =, reason = } }, results = {
--   { change =, status = "applied"|"failed"|"unknown"|"skipped"|"planned",
--   result =, error =, reason =, verified = } }, aborted = err or nil,
--   would_send = { { operation =, document =, variables = } } (dry run),
--   interrupted = signal number or nil }`
local apply_changes

function Plan:apply(opts)
  opts = opts or {}
  -- SIGINT/SIGTERM (src/main.c): while applying, a signal does not raise in
  -- the middle of a request's bookkeeping; it is polled between changes and
  -- requests, and the rest is not attempted
  local iface = package.loaded["twingate.interrupt"]
  local poll = opts.interrupted
  if poll == nil and type(iface) == "table" then poll = iface.pending end
  local prev
  if type(iface) == "table" and iface.defer then prev = iface.defer(true) end
  local ok, report = pcall(apply_changes, self, opts, poll)
  if type(iface) == "table" and iface.defer then iface.defer(prev) end
  if not ok then error(report, 0) end
  return report
end

apply_changes = function(self, opts, poll)
  local client = opts.client
  -- a client in dry run never sends, so opts.dry_run = false cannot turn it off
  local dry = (client and client.dry_run) or opts.dry_run
  dry = dry and true or false
  local stop_on = opts.stop_on or DEFAULT_STOP_ON
  local j = opts.journal
  local now, sleep = opts.now, opts.sleep
  if not now or not sleep then
    local dnow, dsleep = default_clock()
    now, sleep = now or dnow, sleep or dsleep
  end
  local timeout = opts.timeout
  if timeout ~= nil and (type(timeout) ~= "number" or timeout < 0) then
    errors.raise("invalid_argument", "plan:apply: timeout must be a number of seconds >= 0", nil, 2)
  end

  -- An earlier (killed) run sent this change and may have been killed while
  -- the server was still working on it: a create checked too early is not
  -- found yet and would be sent again. Wait until the request cannot be in
  -- progress any more (its timeout has passed since it was sent).
  local function settle(change)
    timeout = timeout or request_timeout(client)
    local sent = j.sent_at and j:sent_at(change.key) or (j.entries[change.key] or {}).time
    local wait = timeout
    if type(sent) == "number" then wait = math.min(timeout, sent + timeout - now()) end
    if wait > 0 then
      log.info(string.format("waiting %.1f s before checking a change an earlier run left in flight: "
        .. "the server may still be processing its request (request timeout %g s)", wait, timeout),
        { key = change.key })
      sleep(wait)
    end
  end
  local report = {
    applied = 0, failed = 0, unknown = 0, skipped = 0, planned = 0, already = 0,
    total = #self.changes, requests = 0, dry_run = dry, failures = {}, unknowns = {},
    results = {}, would_send = {},
  }
  local stopped

  -- true once interrupted (report.interrupted = the signal number)
  local function interrupted()
    if report.interrupted then return true end
    local sig = poll and poll()
    if not sig then return false end
    report.interrupted = math.tointeger(sig) or 2
    if not stopped then stopped = "not attempted: interrupted" end
    return true
  end

  local function record(i, r)
    local change = r.change
    report[r.status] = report[r.status] + 1
    report.results[i] = r
    if r.status == "failed" then
      report.failures[#report.failures + 1] = { change = change, error = r.error }
      local kind = errors.is(r.error) and r.error.kind
      if not stopped and ((kind and stop_on[kind]) or opts.stop_on_error) then
        report.aborted = r.error
        stopped = "not attempted after an earlier " .. (kind or "error") .. " error"
      end
    elseif r.status == "unknown" then
      report.unknowns[#report.unknowns + 1] = { change = change, error = r.error, reason = r.reason }
      log.warn(string.format("%s %s %s: outcome unknown (may have been applied; check it): %s",
        change.action, change.kind, M.quote(change.name), tostring(r.reason or r.error)), { key = change.key })
      local kind = errors.is(r.error) and r.error.kind
      if not stopped and kind and stop_on[kind] then
        report.aborted = r.error
        stopped = "not attempted after an earlier " .. kind .. " error"
      end
    end
    if j and not dry then
      if r.status == "applied" then
        j:write{ key = change.key, state = "done", verified = r.verified or nil }
      elseif r.status == "failed" or r.status == "unknown" then
        j:write{ key = change.key, state = r.status, error = r.error and tostring(r.error) or r.reason }
      end
    end
    if opts.on_result and (r.status == "applied" or r.status == "failed") then
      opts.on_result(change, r.status == "applied", r.status == "applied" and r.result or r.error)
    elseif opts.on_unknown and r.status == "unknown" then
      opts.on_unknown(change, r.error, r.reason)
    end
  end

  -- Ops waiting to be sent together: { index =, change =, op = }
  local pending = {}
  local function flush()
    if dry or #pending == 0 then return end
    local items = pending
    pending = {}
    if stopped then
      for _, it in ipairs(items) do record(it.index, { change = it.change, status = "skipped", reason = stopped }) end
      return
    end
    local _, n = batch.apply(client, items, {
      batch_size = opts.batch_size,
      stop_on = opts.stop_on_error and setmetatable({}, { __index = function() return true end }) or stop_on,
      started = function(it) return it.started end,
      interrupted = interrupted,
      on_send = function(chunk)
        if not j then return end
        for _, it in ipairs(chunk) do
          j:write{ key = it.change.key, state = "sending", op = journal_op(it.op) }
        end
      end,
      on_result = function(it, o)
        local st = o.status
        if st == "skipped" and not o.reason then o.reason = stopped end
        record(it.index, { change = it.change, status = st, result = o.result and (o.result.entity or o.result),
          error = o.error, reason = o.reason, verified = o.verified })
      end,
    })
    report.requests = report.requests + n
  end

  for i, change in ipairs(self.changes) do
    local r = { change = change }
    local jstate = j and j:state(change.key)
    local jentry = j and j.entries[change.key]
    local first_sent = jentry and select(2, j:sent_at(change.key)) or (jentry and jentry.time)
    if not dry and not stopped then interrupted() end
    local reason = not stopped and opts.skip and opts.skip(change)
    if not change.op or not client then flush() end
    if stopped then
      r.status, r.reason = "skipped", stopped
    elseif reason then
      r.status, r.reason = "skipped", type(reason) == "string" and reason or "skipped"
    elseif jstate == "done" then
      r.status, r.reason = "skipped", "already done (journal)"
      report.already = report.already + 1
    elseif dry then
      r.status = "planned"
      if change.op then pending[#pending + 1] = { index = i, change = change, op = change.op } end
    else
      local verify = change.op and change.op.verify or change.verify
      local idempotent = change.op and change.op.idempotent or change.idempotent
      if jstate == "in_flight" then
        -- Sent by an earlier run with no known outcome: check before resending.
        if verify then
          settle(change)
          local ok, res = pcall(verify, client, { started = first_sent })
          if ok and res ~= nil then
            r.status, r.result, r.verified = "applied", type(res) == "table" and res.entity or res, true
            log.info("already applied by an earlier run (checked)", { key = change.key })
          elseif not ok then
            r.status, r.error = "unknown", res
            r.reason = "was in flight when an earlier run stopped; checking it failed"
          end
        elseif not idempotent then
          r.status = "unknown"
          r.reason = "was in flight when an earlier run stopped; not resent (not safe to repeat, no way to check)"
        end
      end
      if not r.status then
        if change.op and client then
          pending[#pending + 1] = { index = i, change = change, op = change.op,
            started = first_sent or nil }
        else
          if j then j:write{ key = change.key, state = "sending", op = journal_op(change.op) } end
          local ok, res
          if change.apply then
            ok, res = pcall(change.apply, change)
          elseif change.op then
            ok, res = false, errors.new("invalid_argument", "this change has an op but apply got no client")
          else
            ok, res = false, errors.new("invalid_argument", "no apply function for this change")
          end
          if ok then r.status, r.result = "applied", res else r.status, r.error = "failed", res end
        end
      end
    end
    if r.status then record(i, r) end
  end
  if dry then
    -- what would be sent, request by request (logged by batch.apply)
    local items = pending
    pending = {}
    if #items > 0 and client then
      batch.apply({ dry_run = true }, items, { batch_size = opts.batch_size, would_send = report.would_send })
    end
  else
    flush()
  end
  return report
end

local function error_text(e)
  local s = tostring(e):gsub("[\r\n]+", " ")
  return (s:gsub("[%z\1-\31\127]", function(c) return string.format("\\x%02X", c:byte()) end))
end

-- How many changes of a report were not attempted (after an early stop).
local function not_attempted(report)
  local n = 0
  for _, r in ipairs(report.results or {}) do
    if r.status == "skipped" and type(r.reason) == "string" and r.reason:find("^not attempted") then n = n + 1 end
  end
  return n
end

--- A short readable summary of an apply report.
-- @param report as returned by `apply`
-- @return string ending with a newline
function Plan:summary(report)
  if report.total == 0 then return "No changes.\n" end
  local lines = {}
  if report.dry_run then
    lines[1] = string.format("Dry run: %d change%s planned, nothing applied (%s).",
      report.planned, report.planned == 1 and "" or "s", totals_line(self:totals()))
    if report.would_send and #report.would_send > 0 then
      lines[#lines + 1] = string.format("Would send %d write request%s.", #report.would_send,
        #report.would_send == 1 and "" or "s")
    end
  else
    local done = {}
    for _, r in ipairs(report.results) do
      if r.status == "applied" then done[#done + 1] = r.change end
    end
    local t = totals_of(done)
    local tail = {}
    if report.failed > 0 then tail[#tail + 1] = report.failed .. " failed" end
    if report.skipped > 0 then tail[#tail + 1] = report.skipped .. " skipped" end
    lines[1] = string.format("Applied %d of %d change%s (%s)%s.",
      report.applied, report.total, report.total == 1 and "" or "s", totals_line(t, true),
      #tail > 0 and ("; " .. table.concat(tail, ", ")) or "")
    if (report.already or 0) > 0 then
      lines[#lines + 1] = string.format("%d change%s already done by an earlier run (journal).",
        report.already, report.already == 1 and "" or "s")
    end
    if (report.requests or 0) > 0 then
      lines[#lines + 1] = string.format("%d write request%s.", report.requests, report.requests == 1 and "" or "s")
    end
  end
  if #report.failures > 0 then
    lines[#lines + 1] = "Failed:"
    for _, f in ipairs(report.failures) do
      lines[#lines + 1] = "  " .. change_title(f.change) .. ": " .. error_text(f.error)
    end
  end
  if report.unknowns and #report.unknowns > 0 then
    lines[#lines + 1] = "Unknown outcome (may have been applied; check these):"
    for _, u in ipairs(report.unknowns) do
      lines[#lines + 1] = "  " .. change_title(u.change) .. ": " .. error_text(u.reason or u.error)
    end
  end
  local n = not_attempted(report)
  if report.aborted and n > 0 then
    lines[#lines + 1] = string.format("Stopped after %s; %d change%s not attempted.",
      error_text(report.aborted), n, n == 1 and "" or "s")
  end
  return table.concat(lines, "\n") .. "\n"
end

---------------------------------------------------------------------------
-- A script's own summary (scripts that count their own facts run the plan
-- with `run_quiet` and build their summary around `report_lines`)
---------------------------------------------------------------------------

--- The label of a change in log lines and summaries: `action kind "name"`
-- (e.g. `update group "Eng"`; the name quoted as by `quote`).
-- @param change a change of a plan
-- @return string
function M.change_label(change)
  return string.format("%s %s %s", change.action, change.kind, M.quote(change.name))
end

--- An `on_result` function for `run`/`apply` that logs every change: info
-- `<label>: done`, or error `<label> failed: <error>`.
-- @param label optional function(change) -> string (default `change_label`)
-- @return function(change, ok, result)
function M.result_logger(label)
  label = label or M.change_label
  return function(change, ok, res)
    if ok then
      log.info(label(change) .. ": done")
    else
      log.error(label(change) .. " failed: " .. tostring(res))
    end
  end
end

--- The heading of a script's summary: "Summary (dry run, nothing changed):"
-- or "Summary:".
-- @param dry_run boolean
-- @return string
function M.summary_heading(dry_run)
  return dry_run and "Summary (dry run, nothing changed):" or "Summary:"
end

--- A count's wording in a summary: "to <verb>" in a dry run, else the past
-- tense (`verb(true, "create", "created")` is "to create").
-- @param dry_run boolean
-- @param verb string (infinitive)
-- @param past string (past participle)
-- @return string
function M.verb(dry_run, verb, past)
  return dry_run and ("to " .. verb) or past
end

--- The summary lines every bulk script shares, indented by two spaces, in
-- this order: write requests (sent, or that a dry run would send), failed
-- changes with their errors, changes with an unknown outcome with the
-- reason, changes a resumed journal showed as done, changes in flight in the
-- journal no longer needed, and where a run that stopped early left off.
-- Lines with a zero count are left out. Errors and reasons are printed on
-- one line (line breaks and control characters escaped).
-- @param report from `run`/`apply`
-- @param opts optional table: `dry_run` (default `report.dry_run`), `label`
--   (function(change) -> string naming a failed or unknown change; default
--   `change_label`), `into` (an array to append the lines to)
-- @return the array of lines (`into` when given; possibly empty)
function Plan:report_lines(report, opts)
  opts = opts or {}
  local label = opts.label or M.change_label
  local dry = opts.dry_run
  if dry == nil then dry = report.dry_run end
  local out = opts.into or {}
  if dry then
    local n = #(report.would_send or {})
    if n > 0 then out[#out + 1] = string.format("  write requests it would send: %d", n) end
  elseif (report.requests or 0) > 0 then
    out[#out + 1] = string.format("  write requests: %d", report.requests)
  end
  local failures, unknowns = report.failures or {}, report.unknowns or {}
  if #failures > 0 then
    out[#out + 1] = string.format("  failed: %d", #failures)
    for _, f in ipairs(failures) do
      out[#out + 1] = string.format("    %s: %s", label(f.change), error_text(f.error))
    end
  end
  if #unknowns > 0 then
    out[#out + 1] = string.format("  unknown outcome (may have been applied; check): %d", #unknowns)
    for _, u in ipairs(unknowns) do
      out[#out + 1] = string.format("    %s: %s", label(u.change), error_text(u.reason or u.error))
    end
  end
  if (report.already or 0) > 0 then
    out[#out + 1] = string.format("  already done by an earlier run (journal): %d", report.already)
  end
  if (report.settled or 0) > 0 then
    out[#out + 1] = string.format("  in flight in the journal and no longer needed (already applied): %d",
      report.settled)
  end
  local n = not_attempted(report)
  if report.aborted and n > 0 then
    out[#out + 1] = string.format("  stopped after %s; %d change%s not attempted", error_text(report.aborted),
      n, n == 1 and "" or "s")
  end
  return out
end

--- The exit code for an apply report (the rules in the module comment):
-- 128 + N when interrupted by signal N (130 SIGINT, 143 SIGTERM); 0 all done
-- (or dry run, or nothing to do); 5 when the run stopped early because the
-- API could not be reached or kept throttling (changes were left not
-- attempted); the error kind's code (4 auth, 2 config) when the run stopped
-- on such an error before anything was applied or left unknown; 3 when some
-- change failed or has an unknown outcome and at least one was applied or is
-- unknown; 6 when every attempted change definitely failed. Which error came
-- last does not matter.
-- @param report from `apply`
-- @return integer
function M.exit_code(report)
  if report.interrupted then return 128 + report.interrupted end
  if report.dry_run then return M.exit.ok end
  local unknown = report.unknown or 0
  local good = report.applied + (report.already or 0)
  local left = not_attempted(report)
  if report.aborted then
    local code = errors.exit_code(report.aborted)
    -- stopped early because the API went away: say so, whatever was done before
    if code == 5 and left > 0 then return code end
    -- the token was refused or the settings are wrong before anything happened
    if code ~= 5 and code ~= 1 and good == 0 and unknown == 0 then return code end
  end
  if report.failed + unknown == 0 and left == 0 then return M.exit.ok end
  -- an unknown outcome may have been applied: partial, never "nothing done"
  if good == 0 and unknown == 0 then return M.exit.none end
  return M.exit.partial
end

---------------------------------------------------------------------------
-- Scripts: standard options and the whole run
---------------------------------------------------------------------------

--- The standard options of a bulk script, for twingate.args.
M.OPTIONS = {
  { "dry-run" },
  { "yes" },
  { "journal", value = "FILE" },
  { "resume", value = "FILE" },
  { "batch-size", value = "N" },
}

--- The standard options appended to a script's own (its own win on a name clash).
-- @param extra array of twingate.args option specs
-- @return array
function M.options(extra)
  local out, seen = {}, {}
  for _, o in ipairs(extra or {}) do out[#out + 1] = o; seen[o[1]] = true end
  for _, o in ipairs(M.OPTIONS) do if not seen[o[1]] then out[#out + 1] = o end end
  return out
end

--- The `run` options from parsed standard options.
-- @param parsed table from twingate.args.parse
-- @return `{ dry_run =, yes =, journal =, resume =, batch_size = }`
-- @raise invalid_argument on a bad --batch-size, --journal with --resume,
--   a --journal FILE holding an unfinished run (a finished one is moved to
--   FILE.prev when the run starts), or a --resume FILE missing or malformed
function M.run_options(parsed)
  local r = {
    dry_run = parsed["dry-run"] or nil, yes = parsed.yes or false,
    journal = parsed.journal, resume = parsed.resume,
  }
  local bs = parsed["batch-size"]
  if bs ~= nil then
    local n = math.tointeger(tonumber(bs))
    if not n or n < 1 or n > batch.MAX_BATCH_SIZE then
      errors.raise("invalid_argument", "--batch-size must be an integer from 1 to " .. batch.MAX_BATCH_SIZE
        .. " (got " .. tostring(bs) .. ")", nil, 2)
    end
    r.batch_size = n
  end
  if r.journal and r.resume then
    errors.raise("invalid_argument", "give --journal FILE or --resume FILE, not both "
      .. "(--resume appends to the journal it continues)", nil, 2)
  end
  -- fail fast, before any request: an unfinished --journal, a missing or
  -- malformed --resume
  if r.journal then journal_mod.check_new(r.journal) end
  if r.resume then journal_mod.check_resume(r.resume) end
  return r
end

--- Check, before any request, that `--resume FILE` belongs to the plan with
-- this fingerprint (a script computes its fingerprint from the input file and
-- options, so it can call this before reading anything from the API).
-- Does nothing without `resume`.
-- @param run_opts from `run_options`/`parse_args`
-- @param fingerprint the fingerprint the script gives to `new`
-- @raise invalid_argument for a journal of another plan
function M.check_resume(run_opts, fingerprint)
  if run_opts and run_opts.resume then journal_mod.check_resume(run_opts.resume, fingerprint) end
end

--- The values of a bulk script's `--delimiter D` option -> the `csv.reader` delimiter.
M.DELIMITERS = { [","] = ",", [";"] = ";", tab = "\t", ["\t"] = "\t", auto = "auto" }

--- Read a bulk script's CSV input: check the `--delimiter` value, read the
-- whole file (once: the rows and the run's `fingerprint` come from the same
-- bytes) and open a reader with a header on it.
-- @param path the CSV file name
-- @param opts table (optional): `delimiter`, the `--delimiter` value (one of
--   `M.DELIMITERS`' keys; default "auto")
-- @return reader (twingate.csv reader, `header = true`, `name = path`), content (string)
-- @raise invalid_argument "--delimiter must be one of , ; tab auto (got X)",
--   "PATH: is a directory", "cannot open PATH: reason", or a malformed header
function M.read_input(path, opts)
  local given = opts and opts.delimiter or "auto"
  local delimiter = M.DELIMITERS[given]
  if not delimiter then
    errors.raise("invalid_argument", "--delimiter must be one of , ; tab auto (got " .. text.quote(given) .. ")",
      nil, 2)
  end
  local content = csv.read_file(path)
  return csv.reader(content, { delimiter = delimiter, header = true, name = path }), content
end

--- The fingerprint of a bulk run, checked at once against `--resume FILE`:
-- a journal of another plan (other input or options) is refused before any
-- request.
-- @param run_opts from `run_options`/`parse_args`
-- @param ... the script's name, the input's content, then every option value
--   that shapes the plan (each converted with tostring, so nil is "nil")
-- @return the fingerprint, for `new{ fingerprint = }`
-- @raise invalid_argument for a journal of another plan
function M.fingerprint(run_opts, ...)
  local parts = table.pack(...)
  for i = 1, parts.n do parts[i] = tostring(parts[i]) end
  local fingerprint = M.hash(table.concat(parts, "\0", 1, parts.n))
  M.check_resume(run_opts, fingerprint)
  return fingerprint
end

--- Parse a script's arguments with the standard options added.
-- @param argv the script's `arg`
-- @param spec as for twingate.args.parse
-- @return parsed options, run options (see `run_options`)
function M.parse_args(argv, spec)
  local s = {}
  for k, v in pairs(spec or {}) do s[k] = v end
  s.options = M.options(s.options)
  local parsed = require("twingate.args").parse(argv, s)
  return parsed, M.run_options(parsed)
end

-- stdin is a terminal: someone can answer the prompt, whatever stdout is
-- (`| tee log` must still ask). No twingate.sys on plain lua5.4: not interactive.
local function interactive()
  local ok, sys = pcall(require, "twingate.sys")
  if not ok or type(sys) ~= "table" or not sys.isatty then return false end
  return sys.isatty(0) and true or false
end

--- Run the plan as a bulk script does: print it, ask before a destructive
-- change in an interactive run (unless `yes`), open or resume the journal,
-- apply, print the summary (an empty plan prints only its rendering, which
-- says "No changes.").
-- @param tg the twingate client
-- @param opts table: `dry_run` (a dry run also when tg.dry_run), `yes`, `journal` (file
--   to start), `resume` (journal file to continue), `batch_size`,
--   `on_result`, `max_items` (of the rendering), `stdout`, `stdin`, `prompt`
--   (where the question goes, default io.stderr, so it shows when stdout
--   is piped), `interactive` (override the terminal check: by default it
--   asks when stdin is a terminal, whatever stdout is), `quiet_summary`, and for
--   resuming `timeout`, `now`, `sleep` (see `apply`; `timeout` defaults to
--   the client's request timeout, `--timeout`)
-- @return exit code (see M.exit_code; 1 when declined at the prompt), report
-- @raise `{ interrupted = true, signal = N, reported = true, report = }` after
--   SIGINT/SIGTERM stopped the apply (see `apply`), once the summary and
--   "interrupted: N of M changes applied; resume with --resume FILE" (on
--   `opts.stderr`, default io.stderr) are written: the process exits 128 + N
-- @raise invalid_argument for a journal that holds an unfinished run (a
--   finished one is moved to FILE.prev), is malformed or belongs to another
--   plan (nothing is sent or printed then)
function Plan:run(tg, opts)
  opts = opts or {}
  local out = opts.stdout or io.stdout
  local dry = (tg and tg.dry_run) or opts.dry_run
  dry = dry and true or false
  local j
  if opts.resume then
    j = journal_mod.resume(opts.resume, { fingerprint = self:fingerprint() })
  elseif opts.journal and not dry and not self:is_empty() then
    -- a finished run in the file moves to FILE.prev (same --journal every night)
    j = journal_mod.create(opts.journal, { fingerprint = self:fingerprint(), restart = true })
  end
  self:print(out, { max_items = opts.max_items })
  if not dry and not opts.yes and self:is_destructive() then
    local tty = opts.interactive
    if tty == nil then tty = interactive() end
    if tty then
      -- the prompt goes to stderr: it shows on the terminal when stdout is piped
      local prompt = opts.prompt or io.stderr
      out:flush()
      prompt:write(string.format("Apply %d change%s? [y/N] ", #self.changes, #self.changes == 1 and "" or "s"))
      prompt:flush()
      local answer = (opts.stdin or io.stdin):read("l") or ""
      if not answer:match("^%s*[yY]") then
        if j then j:close() end
        out:write("Nothing applied.\n")
        local report = { applied = 0, failed = 0, unknown = 0, skipped = #self.changes, planned = 0,
          already = 0, total = #self.changes, requests = 0, dry_run = false, failures = {},
          unknowns = {}, results = {}, declined = true }
        return M.exit.failed, report
      end
    end
  end
  local report = self:apply{ client = tg, dry_run = dry, batch_size = opts.batch_size, journal = j,
    on_result = opts.on_result, timeout = opts.timeout, now = opts.now, sleep = opts.sleep,
    interrupted = opts.interrupted }
  if j then
    -- journal keys in flight that this plan no longer holds: already applied
    -- (a recomputed plan no longer needs them) or not wanted any more
    local gone = 0
    for _, key in ipairs(j.order or {}) do
      if j:state(key) == "in_flight" and not self.keys[key] then gone = gone + 1 end
    end
    report.settled = gone
    j:close()
  end
  -- an empty plan's rendering already said "No changes."
  if not opts.quiet_summary and not self:is_empty() then
    out:write("\n", self:summary(report))
  end
  if not opts.quiet_summary then
    if (report.settled or 0) > 0 then
      out:write(string.format("%d change%s in flight in the journal no longer needed (already applied).\n",
        report.settled, report.settled == 1 and "" or "s"))
    end
  end
  if report.interrupted then
    out:flush()
    local done = report.applied + (report.already or 0)
    local path = j and j.path
    local how = path and ("resume with --resume " .. path)
      or "run it again to apply the rest (with --journal FILE an interrupted run can be resumed with --resume FILE)"
    local err_out = opts.stderr or io.stderr
    err_out:write(string.format("twingate-lua: interrupted: %d of %d change%s applied; %s\n",
      done, report.total, report.total == 1 and "" or "s", how))
    err_out:flush()
    -- stop the script here: main exits 128 + N and does not repeat the message
    local iface = package.loaded["twingate.interrupt"]
    local e = type(iface) == "table" and iface.error and iface.error(report.interrupted)
      or setmetatable({ interrupted = true, signal = report.interrupted,
        message = "interrupted (signal " .. report.interrupted .. ")" },
        { __tostring = function(x) return x.message end })
    e.reported = true
    e.report = report
    error(e, 0)
  end
  return M.exit_code(report), report
end

--- `run` for a script that prints its own summary (see `report_lines`): runs
-- with `quiet_summary`, so the plan's "Applied N of M" summary is not
-- printed; but when SIGINT/SIGTERM stops the run, the plan's summary of what
-- was applied is written (to `opts.stdout`, default io.stdout) before the
-- interruption is raised on, as `run` raises it.
-- @param tg the twingate client
-- @param opts as for `run` (not modified)
-- @return exit code, report (as `run`)
function Plan:run_quiet(tg, opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.quiet_summary = true
  local ok, code, report = pcall(self.run, self, tg, o)
  if ok then return code, report end
  local e = code
  if type(e) == "table" and e.interrupted and type(e.report) == "table" then
    local out = o.stdout or io.stdout
    out:write("\n", self:summary(e.report))
    out:flush()
  end
  error(e, 0)
end

return M
