--- Plans: collect intended changes, show them, apply them, report.
--
--   local plan = require("twingate.plan").new{ title = "Group membership sync" }
--   plan:add{ kind = "group", action = "update", name = "Engineering", id = g.id,
--             changes = { { field = "users", added = { "a@x.com" }, removed = {} } },
--             apply = function(change) return tg.groups:add_users(g.id, ids) end }
--   plan:print()                                   -- what would happen
--   local report = plan:apply{ dry_run = settings.dry_run }
--   io.stderr:write(plan:summary(report), "\n")
--
-- A change is plain data (kind, action, name, id, changes, and any fields a
-- script wants to keep, such as the ids or variables for its mutation) plus
-- an `apply` function doing the work. Keeping them as data lets a later
-- apply step batch them into aliased mutations and journal them.
local errors = require "twingate.errors"

local M = {}

local ACTIONS = { create = true, update = true, delete = true }
local SYMBOL = { create = "+", update = "~", delete = "-" }
local COLOR = { ["+"] = "\27[32m", ["-"] = "\27[31m", ["~"] = "\27[33m" }
local RESET = "\27[0m"

---------------------------------------------------------------------------
-- Unambiguous value printing
---------------------------------------------------------------------------

-- Code points that render as nothing, as a space, or reorder text: shown as
-- \u{XXXX} so two names that look alike never print alike.
local function invisible(cp)
  return (cp >= 0x80 and cp <= 0xA0) or cp == 0xAD or cp == 0x34F or cp == 0x61C
    or cp == 0x115F or cp == 0x1160 or cp == 0x17B4 or cp == 0x17B5 or cp == 0x180E
    or (cp >= 0x2000 and cp <= 0x200F) or (cp >= 0x2028 and cp <= 0x202F)
    or (cp >= 0x205F and cp <= 0x206F) or cp == 0x3000 or cp == 0x3164
    or cp == 0xFEFF or cp == 0xFFA0 or (cp >= 0xFFF9 and cp <= 0xFFFB)
    or (cp >= 0xE0000 and cp <= 0xE007F)
end

local ASCII_ESCAPES = { [10] = "\\n", [13] = "\\r", [9] = "\\t", [34] = '\\"', [92] = "\\\\" }

--- Quote a string so that it prints on one line and unambiguously: double
-- quotes around it, `\"` and `\\`, control characters as `\n`, `\r`, `\t`
-- or `\xHH`, invalid UTF-8 bytes as `\xHH`, and invisible or
-- direction-changing characters as `\u{XXXX}`. Other Unicode is kept.
-- @param s string (other values are converted with tostring)
-- @return string
function M.quote(s)
  s = tostring(s)
  if not s:find('[%z\1-\31"\\\127-\255]') then return '"' .. s .. '"' end
  local out, n, i, len = {}, 0, 1, #s
  while i <= len do
    local b = s:byte(i)
    local piece, step
    if b < 0x80 then
      if ASCII_ESCAPES[b] then
        piece = ASCII_ESCAPES[b]
      elseif b < 32 or b == 127 then
        piece = string.format("\\x%02X", b)
      else
        piece = string.char(b)
      end
      step = 1
    else
      local size = (b >= 0xF0 and 4) or (b >= 0xE0 and 3) or (b >= 0xC2 and 2) or 0
      local seq = size > 0 and s:sub(i, i + size - 1) or ""
      if #seq == size and size > 0 and utf8.len(seq) == 1 then
        local cp = utf8.codepoint(seq)
        piece = invisible(cp) and string.format("\\u{%04X}", cp) or seq
        step = size
      else
        piece = string.format("\\x%02X", b)
        step = 1
      end
    end
    n = n + 1
    out[n] = piece
    i = i + step
  end
  return '"' .. table.concat(out) .. '"'
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
-- @param opts optional table: `title` (first line of the rendering)
-- @return plan
function M.new(opts)
  opts = opts or {}
  if opts.title ~= nil and type(opts.title) ~= "string" then
    errors.raise("invalid_argument", "plan.new: title must be a string", nil, 2)
  end
  return setmetatable({ title = opts.title, changes = {} }, Plan)
end

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
--   `apply` (function(change) doing the work; its return value is the
--   change's result). Other fields are kept as they are.
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
  if change.changes == nil then change.changes = {} end
  if type(change.changes) ~= "table" then bad("changes must be an array") end
  for i, entry in ipairs(change.changes) do
    if type(entry) ~= "table" or type(entry.field) ~= "string" then
      bad(string.format("changes[%d] must be a table with a string field", i))
    end
    check_list(entry, "added", i)
    check_list(entry, "removed", i)
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

--- True when applying would delete objects or remove set items (what an
-- interactive run should confirm first).
function Plan:is_destructive()
  local t = self:totals()
  return t.delete > 0 or t.removed > 0
end

local function totals_line(t)
  return string.format("%d to create, %d to update, %d to delete; %d added, %d removed, %d field%s changed",
    t.create, t.update, t.delete, t.added, t.removed, t.changed_fields,
    t.changed_fields == 1 and "" or "s")
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
local DEFAULT_STOP_ON = { auth = true, config = true }

--- Apply the changes in order. A change whose `apply` raises is recorded as
-- failed and the rest go on, except after an error whose kind is in
-- `stop_on` (default `auth` and `config`: every later change would fail the
-- same way); the remaining changes are then skipped.
-- @param opts optional table:
--   `dry_run` (apply nothing; every change counts as planned),
--   `on_result` (function(change, ok, result_or_err), called after each
--   change that was attempted),
--   `skip` (function(change) -> truthy reason to skip it, e.g. done already),
--   `stop_on` (set of error kinds that stop the run),
--   `stop_on_error` (stop at the first failure)
-- @return report `{ applied = n, failed = n, skipped = n, planned = n,
--   total = n, dry_run = bool, failures = { { change =, error = } },
--   results = { { change =, status = "applied"|"failed"|"skipped"|"planned",
--   result =, error =, reason = } }, aborted = err or nil }`
function Plan:apply(opts)
  opts = opts or {}
  local dry = opts.dry_run and true or false
  local stop_on = opts.stop_on or DEFAULT_STOP_ON
  local report = {
    applied = 0, failed = 0, skipped = 0, planned = 0, total = #self.changes,
    dry_run = dry, failures = {}, results = {},
  }
  local stopped
  for i, change in ipairs(self.changes) do
    local r = { change = change }
    local reason = not stopped and opts.skip and opts.skip(change)
    if stopped then
      r.status, r.reason = "skipped", stopped
    elseif reason then
      r.status, r.reason = "skipped", type(reason) == "string" and reason or "skipped"
    elseif dry then
      r.status = "planned"
    else
      local ok, res
      if change.apply then
        ok, res = pcall(change.apply, change)
      else
        ok, res = false, errors.new("invalid_argument", "no apply function for this change")
      end
      if ok then
        r.status, r.result = "applied", res
      else
        r.status, r.error = "failed", res
        report.failures[#report.failures + 1] = { change = change, error = res }
        local kind = errors.is(res) and res.kind
        if (kind and stop_on[kind]) or opts.stop_on_error then
          report.aborted = res
          stopped = "not attempted after an earlier " .. (kind or "error") .. " error"
        end
      end
      if opts.on_result then opts.on_result(change, ok, res) end
    end
    report[r.status] = report[r.status] + 1
    report.results[i] = r
  end
  return report
end

local function error_text(e)
  local s = tostring(e):gsub("[\r\n]+", " ")
  return (s:gsub("[%z\1-\31\127]", function(c) return string.format("\\x%02X", c:byte()) end))
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
  else
    local done = {}
    for _, r in ipairs(report.results) do
      if r.status == "applied" then done[#done + 1] = r.change end
    end
    local t = totals_of(done)
    lines[1] = string.format("Applied %d of %d change%s (%d created, %d updated, %d deleted; "
      .. "%d added, %d removed, %d field%s changed); %d failed, %d skipped.",
      report.applied, report.total, report.total == 1 and "" or "s",
      t.create, t.update, t.delete, t.added, t.removed, t.changed_fields,
      t.changed_fields == 1 and "" or "s", report.failed, report.skipped)
  end
  if #report.failures > 0 then
    lines[#lines + 1] = "Failed:"
    for _, f in ipairs(report.failures) do
      lines[#lines + 1] = "  " .. change_title(f.change) .. ": " .. error_text(f.error)
    end
  end
  if report.aborted then
    local n = 0
    for _, r in ipairs(report.results) do
      if r.status == "skipped" and r.reason and r.reason:find("^not attempted") then n = n + 1 end
    end
    lines[#lines + 1] = string.format("Stopped after %s; %d change%s not attempted.",
      error_text(report.aborted), n, n == 1 and "" or "s")
  end
  return table.concat(lines, "\n") .. "\n"
end

return M
