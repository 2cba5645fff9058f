-- offboard-users.lua: offboard the users listed in a CSV file: remove them from
-- every group, block (or archive) their devices, and disable (or delete) them.
--
-- Usage:
--   twingate-lua scripts/offboard-users.lua EMAILS.csv [options]
--
-- The CSV has one user per row in a column named `email` (change it with
-- --email-column); emails match case-insensitively, over all of Unicode as the
-- API does. Other columns are ignored:
--
--   email,reason
--   ada@example.com,left 2024-05-31
--   "Bob.Smith@Example.com","contract ended, see HR-1234"
--
-- Commas, semicolons and tabs are recognised as delimiters; quoted fields, CRLF
-- line ends and a UTF-8 BOM are fine.
--
-- What it does:
--   1. Reads and checks the whole file first: an empty or invalid email stops
--      the job with FILE:LINE and nothing is changed. Duplicates are merged.
--   2. Reads every user, then the listed users' groups and devices.
--   3. Plans, per group: one groupUpdate removing all the listed users who are
--      members (groups of type SYNCED are managed by the identity provider and
--      cannot be edited: they are reported; the SYSTEM group "Everyone" is left
--      alone); per device: block it (deviceBlock), or archive it with
--      --archive-devices (deviceArchive); per user: disable it (userDetailsUpdate
--      state DISABLED), or delete it with --delete-users (userDelete).
--      What is already done is not planned again: blocked or archived devices
--      stay as they are (blocking never un-archives), disabled users stay
--      disabled, so a second run changes nothing.
--   4. Prints the plan. An interactive run asks before applying (unless --yes);
--      cron runs (no terminal) do not ask. Changes go in batched write requests
--      (--batch-size per request); one failure does not stop the others.
--   5. Prints one summary: what was done (what would be, in a dry run), failed
--      changes, changes with an unknown outcome, what a resumed journal showed
--      as done, where a run that stopped early left off, unknown emails, emails
--      of several users, and SYNCED group memberships left in place. A run with
--      nothing to do says "No changes." once (then lists only unknown emails
--      and SYNCED memberships, if any).
--
-- With --delete-users a re-run reports the deleted users as unknown emails.
--
-- Options:
--   --email-column NAME   the column with the user's email (default: email)
--   --delimiter D         ",", ";", "tab" or "auto" (default: auto, from the header)
--   --archive-devices     archive the users' devices instead of blocking them
--   --delete-users        delete the users instead of disabling them
--   --dry-run             print the plan and change nothing
--   --yes                 do not ask before applying in an interactive run
--   --batch-size N        changes per write request (1..100, default 10)
--   --journal FILE        record every change before and after it is sent (JSON
--                         lines), so that a killed run can be resumed. FILE may
--                         be the same every run (cron): a finished run in it is
--                         moved to FILE.prev and a new one started; an unfinished
--                         one (changes in flight) is refused before any request:
--                         continue it with --resume FILE
--   --resume FILE         continue the run recorded in FILE (same CSV and
--                         options): skips what is done, re-checks what was in
--                         flight, and appends to FILE
--   -h, --help            print this text
--
-- Exit codes:
--   0  done (or nothing to do)
--   1  the job failed, or the confirmation prompt was answered "no" (nothing changed)
--   2  bad usage, a bad CSV file, or a journal that does not match; nothing changed
--   3  done, but some emails match no user, some users stay in SYNCED groups,
--      or some changes failed (the summary lists them)
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
  positional = { "EMAILS.csv" },
  options = {
    { "email-column", value = "NAME", default = "email" },
    { "delimiter", value = "D", default = "auto" },
    { "archive-devices" },
    { "delete-users" },
  },
})

local path = opts[1]
local email_col = opts["email-column"]
local archive, delete_users = opts["archive-devices"], opts["delete-users"]
local quote = text.quote

local trim = text.trim

-- One @, a dot in the domain, no white space, and nothing invisible: no
-- control, zero-width, no-break space, bidi or invalid UTF-8 character.
local valid_email = text.is_email

---------------------------------------------------------------------------
-- 1. Read and check the whole file.
---------------------------------------------------------------------------
local emails = {}      -- lower email -> { email = spelling, line = n }
local order = {}
local rows, duplicates = 0, 0
local content
do
  -- --delimiter checked, the file read whole (the fingerprint below hashes the same bytes)
  local reader
  reader, content = planning.read_input(path, { delimiter = opts.delimiter })
  reader:require_columns { email_col }
  local bad = {}
  for row, line in reader:rows() do
    rows = rows + 1
    -- cells export.lua neutralised for spreadsheets ('-bob@...) are read without the '
    local email = trim(csv.unneutralize(row[email_col] or ""))
    if email == "" then
      bad[#bad + 1] = string.format("%s:%d: empty %s", path, line, quote(email_col))
    elseif not valid_email(email) then
      bad[#bad + 1] = string.format("%s:%d: invalid email %s", path, line, quote(email))
    else
      local key = text.lower(email)
      if emails[key] then
        duplicates = duplicates + 1
      else
        emails[key] = { email = email, line = line }
        order[#order + 1] = key
      end
    end
  end
  -- each problem on its own stderr line, then "N invalid rows in FILE, nothing changed"
  csv.raise_problems(path, bad)
end
log.info(string.format("%s: %s, %s, %s merged", path, planning.count(rows, "row"), planning.count(#order, "user"),
  planning.count(duplicates, "duplicate row")))

-- A resumed run must have the same input and options as the journaled one:
-- a --resume FILE of another plan is refused now, before any request.
local fingerprint = planning.fingerprint(run_opts, "offboard-users", content, email_col, opts.delimiter,
  archive, delete_users)

---------------------------------------------------------------------------
-- 2. Read the users, then the listed users' groups and devices.
---------------------------------------------------------------------------
local tg = twingate.connect { dry_run = run_opts.dry_run }

local by_email = {}   -- lower email -> user, or false when several users have it
if #order > 0 then
  for u in tg.users:each(nil, { fields = "id email" }) do
    if type(u.email) == "string" then
      local key = text.lower(u.email)
      if emails[key] then
        if by_email[key] == nil then by_email[key] = u else by_email[key] = false end
      end
    end
  end
end

local unknown, ambiguous, ids = {}, {}, {}
for _, key in ipairs(order) do
  local u = by_email[key]
  if u then
    ids[#ids + 1] = u.id
  elseif u == false then
    ambiguous[#ambiguous + 1] = emails[key]
  else
    unknown[#unknown + 1] = emails[key]
  end
end

local users = {}
if #ids > 0 then
  local got = tg.users:get_many(ids, {
    fields = "id email state",
    include = { groups = "id name type", devices = "id name activeState serialNumber" },
  })
  for i = 1, #ids do
    if got[i] then users[#users + 1] = got[i] end
  end
end

---------------------------------------------------------------------------
-- 3. Plan.
---------------------------------------------------------------------------
local plan = planning.new { title = "Offboarding from " .. path, fingerprint = fingerprint }

-- Groups: one change per group with every listed member.
local groups, group_order = {}, {}
local synced = {}   -- { group =, email = }
for _, u in ipairs(users) do
  for _, g in ipairs(u.groups or {}) do
    if g.type == "SYNCED" then
      synced[#synced + 1] = { group = g.name, email = u.email, user_id = u.id }
    elseif g.type == "SYSTEM" then
      log.debug(string.format("group %s is a system group; %s stays in it", quote(g.name),
        quote(u.email)))
    else
      local e = groups[g.id]
      if not e then
        e = { group = g, ids = {}, labels = {} }
        groups[g.id] = e
        group_order[#group_order + 1] = g.id
      end
      e.ids[#e.ids + 1] = u.id
      e.labels[#e.labels + 1] = u.email
    end
  end
end
-- Removals (memberships, device blocks) are done when what they remove is gone:
-- after a lost response, the resend of a change the lost request applied may
-- find the user (or device) deleted by that same request ("User ... does not
-- exist"); batch counts such an answer to a resend as done (`delete = true`),
-- never to a first send.
local function removal(op)
  op.delete = true
  return op
end
for _, gid in ipairs(group_order) do
  local e = groups[gid]
  plan:add {
    kind = "group", action = "update", name = e.group.name, id = gid, key = "group " .. gid,
    changes = { { field = "members", added = {}, removed = e.labels } },
    op = removal(batch.op(tg.groups, "update", gid, { removedUserIds = e.ids })),
  }
end

-- Devices.
local device_target = archive and "ARCHIVED" or "BLOCKED"
local device_field = archive and "deviceArchive" or "deviceBlock"
for _, u in ipairs(users) do
  for _, d in ipairs(u.devices or {}) do
    local st = d.activeState
    if st ~= "ARCHIVED" and st ~= device_target then
      plan:add {
        kind = "device", action = "update", id = d.id, key = "device " .. d.id,
        name = string.format("%s of %s", d.name or d.serialNumber or "(unnamed)", quote(u.email)),
        changes = { { field = "activeState", before = st, after = device_target } },
        destructive = true,   -- cuts the user off: an interactive run asks first
        op = removal { field = device_field, args = { id = d.id }, types = { id = "ID!" }, idempotent = true,
          selection = "ok error entity { id activeState }" },
      }
    end
  end
end

-- Users last: a deleted user cannot be edited any more.
for _, u in ipairs(users) do
  if delete_users then
    plan:add { kind = "user", action = "delete", name = u.email, id = u.id, key = "user " .. u.id,
      op = batch.op(tg.users, "delete", u.id) }
  elseif u.state ~= "DISABLED" then
    plan:add {
      kind = "user", action = "update", name = u.email, id = u.id, key = "user " .. u.id,
      changes = { { field = "state", before = u.state, after = "DISABLED" } },
      destructive = true,     -- like group removals and deletes: asked first
      op = batch.op(tg.users, "update", u.id, { state = "DISABLED" }),
    }
  end
end

---------------------------------------------------------------------------
-- 4. Show, apply, report.
---------------------------------------------------------------------------
local dry_run = tg.dry_run
run_opts.dry_run = dry_run
run_opts.on_result = planning.result_logger()
-- one summary: the script's own (the plan's "Applied N of M" would repeat it);
-- an interrupted run still prints the plan's account of what was applied
local code, report = plan:run_quiet(tg, run_opts)
if report.declined then return code end

local n = { group = 0, removed = 0, device = 0, user = 0 }
local deleted = {}   -- user id -> true: deleted (would be, in a dry run)
for _, r in ipairs(report.results or {}) do
  if r.status == "applied" or (dry_run and r.status == "planned") then
    local c = r.change
    n[c.kind] = n[c.kind] + 1
    if c.kind == "group" then n.removed = n.removed + #c.changes[1].removed end
    if c.kind == "user" and c.action == "delete" then deleted[c.id] = true end
  end
end
-- a deleted user's SYNCED memberships went with it
do
  local left = {}
  for _, m in ipairs(synced) do
    if not deleted[m.user_id] then left[#left + 1] = m end
  end
  synced = left
end
-- an empty plan has said "No changes." already: only unknown emails and
-- SYNCED memberships follow it
local nothing = plan:is_empty()
if nothing and #unknown == 0 and #ambiguous == 0 and #synced == 0 then return code end
local out = { "" }
out[#out + 1] = planning.summary_heading(dry_run)
local function verb(v, past) return planning.verb(dry_run, v, past) end
out[#out + 1] = string.format("  users: %d listed, %d found", #order, #users)
if not nothing then
  out[#out + 1] = string.format("  group memberships %s: %d (in %s)", verb("remove", "removed"),
    n.removed, planning.count(n.group, "group"))
  out[#out + 1] = string.format("  devices %s: %d",
    archive and verb("archive", "archived") or verb("block", "blocked"), n.device)
  out[#out + 1] = string.format("  users %s: %d",
    delete_users and verb("delete", "deleted") or verb("disable", "disabled"), n.user)
  plan:report_lines(report, { into = out })
end
if #unknown > 0 then
  out[#out + 1] = string.format("  unknown emails (no such user%s): %d", delete_users and ", or deleted already" or "",
    #unknown)
  for _, e in ipairs(unknown) do
    out[#out + 1] = string.format("    %s:%d: %s", path, e.line, quote(e.email))
  end
end
if #ambiguous > 0 then
  out[#out + 1] = string.format("  emails of several users (skipped): %d", #ambiguous)
  for _, e in ipairs(ambiguous) do
    out[#out + 1] = string.format("    %s:%d: %s", path, e.line, quote(e.email))
  end
end
if #synced > 0 then
  out[#out + 1] = string.format("  memberships of SYNCED groups left in place (remove them in the identity provider): %d",
    #synced)
  for _, s in ipairs(synced) do
    out[#out + 1] = string.format("    %s in %s", quote(s.email), quote(s.group))
  end
end
io.stdout:write(table.concat(out, "\n"), "\n")

if code == twingate.exit.ok and (#unknown > 0 or #ambiguous > 0 or #synced > 0) then
  return twingate.exit.partial
end
return code
