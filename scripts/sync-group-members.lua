-- sync-group-members.lua: make Twingate group memberships match a CSV file.
--
-- Usage:
--   twingate-lua scripts/sync-group-members.lua MEMBERS.csv [options]
--
-- The CSV has one membership per row: a group name and a user's email. The first
-- row names the columns; by default they are `group` and `email`, so a file like
--
--   group,email
--   Engineering,ada@example.com
--   "Sales, EMEA",Bob@Example.com
--
-- works as it is. Other headers (an identity provider's or HR system's export) are
-- mapped with --group-column and --email-column. Commas, semicolons and tabs are
-- all recognised as delimiters; quoted fields, CRLF line ends and a UTF-8 BOM are fine.
--
-- What it does:
--   1. Reads and checks the whole file first. A malformed row, a missing column or
--      an invalid email stops the job with FILE:LINE and nothing is changed.
--      Duplicate rows are merged; emails match case-insensitively, over all of
--      Unicode as the API does ("Ünal@example.com" is "ünal@example.com").
--   2. Reads all users and the groups named in the file with every member (all
--      pages, in as few requests as the API allows) and computes the difference.
--   3. Prints the plan, then applies it with one groupUpdate per changed group
--      carrying both the added and the removed members (one groupCreate per new
--      group), several of them per request (--batch-size, default 10). One failed
--      group does not stop the others; a lost response is re-checked, never
--      blindly repeated. An interactive run that would remove members asks
--      first (unless --yes); cron runs do not ask.
--   4. Prints one summary: groups changed, members added and removed (what would
--      be, in a dry run), failed group changes, changes with an unknown outcome,
--      what a resumed journal showed as done, where a run that stopped early left
--      off, and rows skipped and why. A second run says "No changes." and
--      nothing more (skipped rows, if any, are still listed).
--
-- Group names are taken as written in the cell (a quoted "Ops " keeps its
-- trailing space): the group with exactly that name is used; if there is
-- none, the group with the name without leading and trailing spaces and
-- tabs; if there is none either, the group is unknown, and --create-groups
-- creates it under the trimmed name (so the next run finds it). Names are
-- otherwise compared exactly: case and every other character count.
--
-- By default the sync only adds members. Unknown users are reported and skipped.
-- Unknown groups are reported and skipped unless --create-groups is given.
-- SYNCED and SYSTEM groups (managed by an identity provider or by Twingate) are
-- never changed: their rows naming a current member are matched; rows that would
-- add a member are skipped and reported, and so are the members --remove-missing
-- would remove from them ("members not removed"; exit 3). So an export.lua
-- group-members file synced back says "No changes." and exits 0.
--
-- Options:
--   --group-column NAME   the column with the group name (default: group)
--   --email-column NAME   the column with the user's email (default: email)
--   --delimiter D         ",", ";", "tab" or "auto" (default: auto, from the header)
--   --remove-missing      also remove members that the file does not list, from
--                         the groups the file names (never from other groups;
--                         never a member whose email the file lists for that
--                         group, even when its row was skipped)
--   --create-groups       create groups the file names that do not exist
--   --dry-run             print the plan and change nothing (same as
--                         twingate-lua --dry-run)
--   --yes                 do not ask before removing members in an interactive run
--   --batch-size N        group changes per write request (1..100, default 10)
--   --journal FILE        record every change before and after it is sent (JSON
--                         lines), so that a killed run can be resumed. FILE may
--                         be the same every run (cron): a finished run in it is
--                         moved to FILE.prev and a new one started; an unfinished
--                         one (changes in flight) is refused before any request:
--                         continue it with --resume FILE
--   --resume FILE         continue the run recorded in FILE (same CSV and options):
--                         skips what is done, re-checks what was in flight, and
--                         appends to FILE
--   -h, --help            print this text
--
-- Exit codes:
--   0  done (or nothing to do)
--   1  the job failed, or the confirmation prompt was answered "no" (nothing changed)
--   2  bad usage, a bad CSV file, or a journal that does not match; nothing was changed
--   3  done, but some rows were skipped (unknown users or groups, changes to
--      SYNCED/SYSTEM groups), members were left in such a group, or some group
--      changes failed; the summary lists them
--   4  the API token was refused
--   5  the API could not be reached
--   6  nothing was done: every group change failed
local twingate = require "twingate"
local batch = require "twingate.batch"
local csv = require "twingate.csv"
local log = require "twingate.log"
local planning = require "twingate.plan"
local text = require "twingate.text"

-- the script's options plus the standard ones (--dry-run --yes --journal --resume --batch-size)
local opts, run_opts = planning.parse_args(arg, {
  positional = { "MEMBERS.csv" },
  options = {
    { "group-column", value = "NAME", default = "group" },
    { "email-column", value = "NAME", default = "email" },
    { "delimiter", value = "D", default = "auto" },
    { "remove-missing" },
    { "create-groups" },
  },
})

local path = opts[1]
local group_col, email_col = opts["group-column"], opts["email-column"]

-- Trim ASCII white space only: names may contain any Unicode.
local trim = text.trim

-- One @, a dot in the domain, no white space, and nothing invisible: no
-- control, zero-width, no-break space, bidi or invalid UTF-8 character.
local valid_email = text.is_email

local quote = planning.quote

---------------------------------------------------------------------------
-- 1. Read and check the whole file before touching the network.
---------------------------------------------------------------------------
local wanted = {}        -- group name -> { [lower email] = true }
local group_order = {}   -- group names in first-seen order
local email_shown = {}   -- lower email -> the spelling first seen in the file
local rows_for = {}      -- lower email -> { group name -> line } (for skip reports)
local rows, duplicates = 0, 0
local content
do
  -- --delimiter checked, the file read whole (the fingerprint below hashes the same bytes)
  local reader
  reader, content = planning.read_input(path, { delimiter = opts.delimiter })
  reader:require_columns { group_col, email_col }
  local bad = {}
  for row, line in reader:rows() do
    rows = rows + 1
    -- cells an export neutralised against spreadsheet formulas ('=...) read back as written
    -- the group name as written (matched exactly first, see 3.)
    local group = csv.unneutralize(row[group_col] or "")
    local email = trim(csv.unneutralize(row[email_col] or ""))
    if trim(group) == "" then
      bad[#bad + 1] = string.format("%s:%d: empty %s", path, line, quote(group_col))
    elseif email == "" then
      bad[#bad + 1] = string.format("%s:%d: empty %s", path, line, quote(email_col))
    elseif not valid_email(email) then
      bad[#bad + 1] = string.format("%s:%d: invalid email %s", path, line, quote(email))
    else
      local key = text.lower(email)
      email_shown[key] = email_shown[key] or email
      local set = wanted[group]
      if not set then
        set = {}
        wanted[group] = set
        group_order[#group_order + 1] = group
      end
      if set[key] then
        duplicates = duplicates + 1
      else
        set[key] = true
        rows_for[key] = rows_for[key] or {}
        rows_for[key][group] = line
      end
    end
  end
  -- each problem on its own stderr line, then "N invalid rows in FILE, nothing changed"
  csv.raise_problems(path, bad)
end
log.info(string.format("%s: %s, %s, %s merged", path, planning.count(rows, "row"),
  planning.count(#group_order, "group"), planning.count(duplicates, "duplicate row")))

-- A resumed run must have the same input and options as the journaled one:
-- a --resume FILE of another plan is refused now, before any request.
local fingerprint = planning.fingerprint(run_opts, "sync-group-members", content, group_col, email_col,
  opts.delimiter, opts["remove-missing"], opts["create-groups"])

---------------------------------------------------------------------------
-- 2. Read the current state: every user, the named groups with all members.
---------------------------------------------------------------------------
local tg = twingate.connect { dry_run = run_opts.dry_run }

local user_by_email = {}  -- lower email -> user, or false when ambiguous
for u in tg.users:each(nil, { fields = "id email" }) do
  if u.email then
    local key = text.lower(u.email)
    if user_by_email[key] == nil then user_by_email[key] = u else user_by_email[key] = false end
  end
end

-- every name as written and trimmed
local lookup_names, lookup_seen = {}, {}
for _, raw in ipairs(group_order) do
  for _, n in ipairs { raw, trim(raw) } do
    if not lookup_seen[n] then
      lookup_seen[n] = true
      lookup_names[#lookup_names + 1] = n
    end
  end
end
local groups_by_name = {}
local group_list = {}
if #lookup_names > 0 then
  group_list = tg.groups:list({ name = { ["in"] = lookup_names } }, { include = { "users" } })
end
for _, g in ipairs(group_list) do
  local same = groups_by_name[g.name]
  if same then same[#same + 1] = g else groups_by_name[g.name] = { g } end
end

---------------------------------------------------------------------------
-- 3. Compute the plan.
---------------------------------------------------------------------------
local plan = planning.new { title = "Group membership sync from " .. path, fingerprint = fingerprint }
local skipped = {}       -- { reason, group, email, line, rows }
local skipped_rows = 0
local left_in_place = {} -- { reason, group, members }: removals --remove-missing may not make

local function sorted_keys(set)
  local out = {}
  for k in pairs(set) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- Each name as written resolves to a target: the group with exactly that
-- name, else the group with the trimmed name, else (a new group) the trimmed
-- name. Spellings that resolve to one target are merged into one change.
local target_sets, target_order = {}, {}
for _, raw in ipairs(group_order) do
  local target = trim(raw)
  if groups_by_name[raw] then target = raw end
  local set = target_sets[target]
  if not set then
    set = {}
    target_sets[target] = set
    target_order[#target_order + 1] = target
  end
  for key in pairs(wanted[raw]) do
    set[key] = true
    local lines = rows_for[key]
    if not lines[target] or lines[raw] < lines[target] then lines[target] = lines[raw] end
  end
end

local totals = { groups = 0, added = 0, removed = 0, created = 0 }  -- planned
for _, name in ipairs(target_order) do
  local matches = groups_by_name[name]
  local keys = sorted_keys(target_sets[name])

  -- Problems with the group itself skip all of its rows.
  -- A SYNCED or SYSTEM group is never changed: its rows that already match
  -- (the user is a member) are matched; the rows that would add a member, and
  -- the members --remove-missing would remove, are reported (exit 3).
  local problem, managed
  if matches and #matches > 1 then
    local ids = {}
    for i, g in ipairs(matches) do ids[i] = g.id end
    problem = "several groups have this name (" .. table.concat(ids, ", ") .. ")"
  elseif matches and matches[1].type and matches[1].type ~= "MANUAL" then
    managed = "group is " .. matches[1].type .. ", managed outside Twingate's manual groups"
  elseif not matches and not opts["create-groups"] then
    problem = "unknown group (use --create-groups to create it)"
  end
  if problem then
    skipped[#skipped + 1] = { reason = problem, group = name, rows = #keys }
    skipped_rows = skipped_rows + #keys
    goto continue
  end

  do
    local want_ids, want_list, want_labels = {}, {}, {}
    for _, key in ipairs(keys) do
      local u = user_by_email[key]
      if u then
        want_ids[u.id] = true
        want_list[#want_list + 1] = u
        want_labels[#want_labels + 1] = email_shown[key]
      else
        skipped[#skipped + 1] = {
          reason = u == nil and "unknown user" or "several users have this email",
          group = name, email = email_shown[key], line = rows_for[key][name], rows = 1,
        }
        skipped_rows = skipped_rows + 1
      end
    end

    if matches then
      local g = matches[1]
      local current = {}
      for _, m in ipairs(g.users or {}) do current[m.id] = m end
      local added_ids, added, removed_ids, removed = {}, {}, {}, {}
      for i, u in ipairs(want_list) do
        if not current[u.id] then
          added_ids[#added_ids + 1] = u.id
          added[#added + 1] = want_labels[i]
        end
      end
      if opts["remove-missing"] then
        -- never remove a member whose email the file lists for this group,
        -- even when that row was skipped (unknown or ambiguous user)
        local listed = target_sets[name]
        for _, id in ipairs(sorted_keys(current)) do
          local email = current[id].email
          if not want_ids[id] and not (type(email) == "string" and listed[text.lower(email)]) then
            removed_ids[#removed_ids + 1] = id
            removed[#removed + 1] = current[id].email or id
          end
        end
      end
      if managed then
        if #added_ids > 0 then
          skipped[#skipped + 1] = { reason = managed .. ": members not added", group = name,
            rows = #added_ids }
          skipped_rows = skipped_rows + #added_ids
        end
        if #removed_ids > 0 then
          left_in_place[#left_in_place + 1] = { reason = managed, group = name, members = removed }
        end
      elseif #added_ids > 0 or #removed_ids > 0 then
        totals.groups = totals.groups + 1
        totals.added = totals.added + #added_ids
        totals.removed = totals.removed + #removed_ids
        plan:add {
          kind = "group", action = "update", name = name, id = g.id, key = "group " .. name,
          changes = { { field = "members", added = added, removed = removed } },
          counts = { added = #added_ids, removed = #removed_ids, created = 0 },
          op = batch.op(tg.groups, "update", g.id, {
            addedUserIds = #added_ids > 0 and added_ids or nil,
            removedUserIds = #removed_ids > 0 and removed_ids or nil,
          }),
        }
      end
    else
      local ids = {}
      for i, u in ipairs(want_list) do ids[i] = u.id end
      totals.groups = totals.groups + 1
      totals.created = totals.created + 1
      totals.added = totals.added + #ids
      plan:add {
        kind = "group", action = "create", name = name, key = "group " .. name,
        changes = { { field = "members", added = want_labels, removed = {} } },
        counts = { added = #ids, removed = 0, created = 1 },
        -- a lost response is checked by name (a group created since the request)
        op = batch.op(tg.groups, "create", nil, { name = name, userIds = ids }),
      }
    end
  end
  ::continue::
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

local done = { groups = 0, added = 0, removed = 0, created = 0 }    -- applied
for _, r in ipairs(report.results) do
  if r.status == "applied" then
    local c = r.change.counts
    done.groups = done.groups + 1
    done.added = done.added + c.added
    done.removed = done.removed + c.removed
    done.created = done.created + c.created
  end
end

-- an empty plan has said "No changes." already: only skipped rows follow it
local out = {}
local nothing = plan:is_empty() and (report.failed or 0) == 0 and (report.unknown or 0) == 0
if nothing and skipped_rows == 0 and #left_in_place == 0 then return code end
out[#out + 1] = ""
out[#out + 1] = planning.summary_heading(dry_run)
local shown = dry_run and totals or done
local function verb(v, past) return planning.verb(dry_run, v, past) end
if not nothing then
  out[#out + 1] = string.format("  groups %s: %d (%d created)", verb("change", "changed"),
    shown.groups, shown.created)
  out[#out + 1] = string.format("  members %s: %d, %s: %d", verb("add", "added"), shown.added,
    verb("remove", "removed"), shown.removed)
end
plan:report_lines(report, { into = out })
out[#out + 1] = string.format("  rows skipped: %d", skipped_rows)
table.sort(skipped, function(a, b) return (a.line or 0) < (b.line or 0) end)
for _, s in ipairs(skipped) do
  if s.email then
    out[#out + 1] = string.format("    %s:%d: %s in group %s: %s", path, s.line, quote(s.email), quote(s.group), s.reason)
  else
    out[#out + 1] = string.format("    group %s (%d row%s): %s", quote(s.group), s.rows, s.rows == 1 and "" or "s", s.reason)
  end
end
if #left_in_place > 0 then
  local n = 0
  for _, l in ipairs(left_in_place) do n = n + #l.members end
  out[#out + 1] = string.format("  members not removed: %d", n)
  for _, l in ipairs(left_in_place) do
    local shown_members = {}
    for i, m in ipairs(l.members) do shown_members[i] = quote(m) end
    out[#out + 1] = string.format("    group %s (%d member%s not in the file: %s): %s", quote(l.group), #l.members,
      #l.members == 1 and "" or "s", table.concat(shown_members, ", "), l.reason)
  end
end
io.stdout:write(table.concat(out, "\n"), "\n")

-- the plan's code (0; 3 some changes failed; 6 none done; 1 declined; ...),
-- raised to 3 ("partial") when rows were skipped
if code == twingate.exit.ok and (skipped_rows > 0 or #left_in_place > 0) then return twingate.exit.partial end
return code
