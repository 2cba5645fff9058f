-- import-resources.lua: create or update Twingate resources from a CSV file.
--
-- Usage:
--   twingate-lua scripts/import-resources.lua RESOURCES.csv [options]
--
-- One resource per row, upserted by (network, name). The first row names the
-- columns; `name`, `address` and `network` are required, the others optional:
--
--   name,address,network,alias,protocols,groups,security_policy,tags,visible,browser_shortcut
--   db,10.0.0.5,AWS Prod,db.corp,tcp:5432;icmp,Engineering;DBAs,Strict,env=prod;team=data,true,false
--   "wiki, new",wiki.internal,AWS Prod,,,Everyone,,,,
--
--   name              resource name (names are not unique in Twingate: the key is network + name)
--   address           IP, CIDR or DNS name
--   network           remote network, by name
--   alias             empty = no alias
--   protocols         compact form: tcp:22,443,8000-8100;udp:53;icmp  ("" or all = everything,
--                     none = nothing, tcp:all, tcp:none)
--   groups            names of the groups with access, separated by ";" (empty = none)
--   security_policy   by name (empty = the default policy)
--   tags              k=v;k2=v2 (empty = none)
--   visible           true/false (yes/no, 1/0; empty = true)
--   browser_shortcut  true/false (empty = false)
--   type              NetworkResource (written by export.lua; other kinds can be listed but
--                     not created or changed by this script)
-- A column that is absent is not managed: its value is kept on every resource.
-- In `groups` and `tags`, a backslash takes the next character literally: `\;` is a
-- ";" inside a name, `\=` an "=" inside a tag key or value, `\\` a backslash, `\ ` a
-- space kept at the start or end of an item (other spaces around items are dropped).
-- Cells that export.lua neutralised for spreadsheets (a leading ' before = + - @ TAB
-- CR) are read back without the '. Commas, semicolons and tabs are recognised as
-- delimiters; quoted fields, CRLF line ends and a UTF-8 BOM are fine.
--
-- What it does:
--   1. Reads and checks the whole file and the tenant before any change: every bad
--      cell, duplicate (network, name) row, unknown or ambiguous network, group or
--      security policy is listed with FILE:LINE and nothing is changed (exit 2).
--   2. Computes a field-level diff against each existing resource: one resourceUpdate
--      per changed resource carrying only the changed fields, with access for groups
--      edited through addedGroupIds/removedGroupIds (other access edges, e.g. service
--      accounts, are left alone); one resourceCreate (with groupIds) per new resource.
--      Unchanged resources produce no change, so a second run does nothing.
--   3. Prints the plan and applies it in batched write requests (--batch-size
--      mutations per request). A failed change does not stop the others; a lost
--      response is re-checked against the server, never blindly repeated.
--   A row whose (network, name) matches several existing resources is skipped and
--   reported (exit 3): the script never guesses which one is meant.
--
-- Options:
--   --prune        also delete the resources of the networks named in the file that
--                  the file does not list. Destructive: an interactive run asks first
--                  unless --yes; a non-interactive run (cron, no terminal) applies it.
--   --dry-run      print the plan and change nothing
--   --yes          do not ask before deleting in an interactive run
--   --batch-size N mutations per write request (1..100, default 10)
--   --journal FILE record every change before and after it is sent (JSON lines);
--                  FILE may be the same every run (cron): a finished run in it is
--                  moved to FILE.prev and a new one started; an unfinished one is
--                  refused before any request: continue it with --resume FILE
--   --resume FILE  continue the run recorded in FILE (same CSV and options): skips
--                  what is done, re-checks what was in flight, appends to FILE
--   -h, --help     print this text
--
-- Exit codes:
--   0  done (or nothing to do, or dry run)
--   1  the job failed, or the confirmation prompt was answered "no"
--   2  bad usage, a bad CSV file or unknown names; nothing was changed
--   3  done, but some rows were skipped or some changes failed (listed)
--   4  the API token was refused
--   5  the API could not be reached
--   6  nothing was done: every change failed
local twingate = require "twingate"
local batch = require "twingate.batch"
local csv = require "twingate.csv"
local errors = require "twingate.errors"
local json = require "twingate.json"
local log = require "twingate.log"
local planning = require "twingate.plan"
local text = require "twingate.text"
local quote = text.quote
local protocols = require "twingate.protocols"

local opts, run_opts = planning.parse_args(arg, {
  positional = { "RESOURCES.csv" },
  options = { { "prune" } },
})
local path = opts[1]

local REQUIRED = { "name", "address", "network" }
local OPTIONAL = { "alias", "protocols", "groups", "security_policy", "tags", "visible", "browser_shortcut", "type" }

-- Trim ASCII white space only: names may contain any Unicode.
local trim = text.trim

-- A `;`-separated list cell -> items (nil, message when malformed).
local function split_list(s)
  local ok, items = pcall(csv.split_list, s)
  if ok then return items end
  if errors.is(items) then return nil, items.message end
  error(items, 0)
end

-- A tags cell `k=v;k2=v2` -> sorted `{ { key =, value = } }` (nil, message when malformed).
local function parse_tags(s)
  local ok, tags = pcall(csv.split_tags, s)
  if ok then return tags end
  if errors.is(tags) then return nil, tags.message end
  error(tags, 0)
end

local BOOLS = { ["true"] = true, yes = true, ["1"] = true, ["false"] = false, no = false, ["0"] = false }

---------------------------------------------------------------------------
-- 1. Read and check the file (syntax and values) before touching the network.
---------------------------------------------------------------------------
local rows = {}          -- { line =, name =, address =, network =, alias =, protocols =, ... }
local bad = {}
local function problem(line, msg) bad[#bad + 1] = { line = line, text = string.format("%s:%d: %s", path, line, msg) } end
local has = {}           -- managed optional columns
local duplicates = {}    -- { row =, first = line } for each row repeating an earlier (network, name)
local content
do
  local reader
  reader, content = planning.read_input(path)
  -- every column name matches its header ignoring case and surrounding spaces
  -- (`Name`, ` address `); rows carry the values under the names below
  reader:require_columns(REQUIRED)
  local used = {}
  for _, c in ipairs(REQUIRED) do used[reader.index[c]] = true end
  for _, c in ipairs(OPTIONAL) do
    if reader:optional_column(c) then
      has[c] = true
      used[reader.index[c]] = true
    end
  end
  local unknown = {}
  for i, h in ipairs(reader.headers) do
    if not used[i] then unknown[#unknown + 1] = quote(h) end
  end
  if #unknown > 0 then
    errors.raise("invalid_argument", string.format("%s:%d: unknown column%s %s (valid: %s, %s)", path,
      reader.header_line or 1, #unknown == 1 and "" or "s", table.concat(unknown, ", "),
      table.concat(REQUIRED, ", "), table.concat(OPTIONAL, ", ")))
  end
  local first_line = {}  -- network \0 name -> line
  for row, line in reader:rows() do
    local function cell(c) return csv.unneutralize(row[c] or "") end
    local r = { line = line, name = cell("name"), address = trim(cell("address")), network = cell("network") }
    if trim(r.name) == "" then problem(line, "empty name") end
    if r.address == "" then problem(line, "empty address") end
    if trim(r.network) == "" then problem(line, "empty network") end
    if has.alias then
      local a = trim(cell("alias"))
      local bad_char = a ~= "" and text.problem(a)
      if a ~= "" and text.is_blank(a) then
        problem(line, "alias is blank (only spaces or invisible characters): leave the cell empty for no alias")
      elseif bad_char then
        problem(line, "alias: " .. bad_char)
      end
      r.alias = a ~= "" and a or nil
    end
    if has.protocols then
      local ok, p = pcall(protocols.parse, cell("protocols"))
      if ok then
        r.protocols, r.protocols_text = p, protocols.format(p)
      else
        problem(line, "protocols: " .. (errors.is(p) and p.message:gsub("^protocols%.%w+%(%): ", "") or tostring(p)))
      end
    end
    if has.groups then
      local g, msg = split_list(cell("groups"))
      if g then
        local set, list = {}, {}
        for _, name in ipairs(g) do
          if not set[name] then set[name] = true; list[#list + 1] = name end
        end
        r.groups = list
      else
        problem(line, "groups: " .. msg)
      end
    end
    if has.security_policy then
      local p = cell("security_policy")
      r.policy = trim(p) ~= "" and p or nil
    end
    if has.tags then
      local t, msg = parse_tags(cell("tags"))
      if t then r.tags = t else problem(line, "tags: " .. msg) end
    end
    for _, spec in ipairs{ { "visible", "visible", true }, { "browser_shortcut", "browser_shortcut", false } } do
      local col, default = spec[1], spec[3]
      if has[col] then
        local v = text.lower(trim(cell(col)))
        if v == "" then r[spec[2]] = default
        elseif BOOLS[v] ~= nil then r[spec[2]] = BOOLS[v]
        else problem(line, col .. ": " .. quote(v) .. " is not true or false") end
      end
    end
    if has.type then
      local t = trim(cell("type"))
      r.type = t ~= "" and t or "NetworkResource"
    else
      r.type = "NetworkResource"
    end
    -- a key listed twice is an error unless it names several existing resources
    -- (decided once the tenant is read: such rows are skipped and reported)
    local key = r.network .. "\0" .. r.name
    if first_line[key] then
      duplicates[#duplicates + 1] = { row = r, first = first_line[key] }
    else
      first_line[key] = line
    end
    rows[#rows + 1] = r
  end
end

-- Every problem on its own stderr line, then one line: "N problems in FILE, nothing changed".
local function fail_if_bad()
  table.sort(bad, function(a, b) return a.line < b.line end)
  csv.raise_problems(path, bad, { noun = "problem" })
end
log.info(string.format("%s: %s", path, planning.count(#rows, "row")))

-- A resumed run must have the same input and options as the journaled one;
-- a --resume FILE of another plan is refused now, before any request.
local fingerprint = planning.fingerprint(run_opts, "import-resources", content, opts.prune)

---------------------------------------------------------------------------
-- 2. Read the tenant: networks, groups, policies by name; resources of the
--    named networks with every access edge.
---------------------------------------------------------------------------
local tg = twingate.connect { dry_run = run_opts.dry_run }

local function by_name(list)
  local t = {}
  for _, n in ipairs(list) do
    local same = t[n.name]
    if same then same[#same + 1] = n else t[n.name] = { n } end
  end
  return t
end

-- unknown names are reported in the same round as bad cells: the tenant is read
-- even when cells are bad (when it cannot be read, the bad cells are reported)
local networks, groups, policies
do
  local ok, err = pcall(function()
    networks = by_name(tg.remote_networks:list(nil, { fields = "id name" }))
    groups = has.groups and by_name(tg.groups:list(nil, { fields = "id name" })) or {}
    policies = has.security_policy and by_name(tg.security_policies:list(nil, { fields = "id name" })) or {}
  end)
  if not ok then
    fail_if_bad()
    error(err, 0)
  end
end

local function resolve(t, name, what, line)
  local m = t[name]
  if not m then
    problem(line, "unknown " .. what .. " " .. quote(name))
  elseif #m > 1 then
    local ids = {}
    for i, x in ipairs(m) do ids[i] = x.id end
    problem(line, string.format("%s %s is ambiguous: %d have this name (%s)", what, quote(name), #m,
      table.concat(ids, ", ")))
  else
    return m[1]
  end
end

local network_ids, network_order = {}, {}
for _, r in ipairs(rows) do
  local n = trim(r.network) ~= "" and resolve(networks, r.network, "remote network", r.line)
  if n then
    r.network_id = n.id
    if not network_ids[n.id] then network_ids[n.id] = n; network_order[#network_order + 1] = n.id end
  end
  if r.groups then
    r.group_ids = {}
    for _, g in ipairs(r.groups) do
      local x = resolve(groups, g, "group", r.line)
      if x then r.group_ids[#r.group_ids + 1] = x.id end
    end
  end
  if r.policy then
    local p = resolve(policies, r.policy, "security policy", r.line)
    if p then r.policy_id = p.id end
  end
end

local RESOURCE_FIELDS = "__typename id name address { value } alias isVisible isBrowserShortcutEnabled "
  .. "protocols { allowIcmp tcp { policy ports { start end } } udp { policy ports { start end } } } "
  .. "remoteNetwork { id name } securityPolicy { id name } tags { key value }"

local existing = {}      -- network id \0 name -> { resources }
local existing_list = {}
if #network_order > 0 then
  local ok, err = pcall(function()
    existing_list = tg.resources:list({ remoteNetworkId = { ["in"] = network_order } },
      { fields = RESOURCE_FIELDS, include = { access = "__typename ... on Group { id name } ... on ServiceAccount { id name }" } })
  end)
  if not ok then
    fail_if_bad()
    error(err, 0)
  end
end
for _, res in ipairs(existing_list) do
  local key = res.remoteNetwork.id .. "\0" .. res.name
  local same = existing[key]
  if same then same[#same + 1] = res else existing[key] = { res } end
end

-- A (network, name) listed twice is a bad file, unless several existing
-- resources have it: every row of that key is then skipped and reported (an
-- export of such a tenant reads back with only the collision reported).
for _, d in ipairs(duplicates) do
  local r = d.row
  local same = r.network_id and existing[r.network_id .. "\0" .. r.name]
  if not (same and #same > 1) then
    problem(r.line, string.format("resource %s in network %s is listed twice (lines %d and %d)",
      quote(r.name), quote(r.network), d.first, r.line))
  end
end
fail_if_bad()

---------------------------------------------------------------------------
-- 3. The plan.
---------------------------------------------------------------------------
local plan = planning.new {
  title = "Resource import from " .. path .. (opts.prune and " (with --prune)" or ""),
  fingerprint = fingerprint,
}
local skipped = {}
local null = json.null

local function is_null(v) return v == nil or v == null end

-- Tags as the canonical cell text (sorted by key, `\;` `\=` `\\` escaped, as
-- export.lua writes them): two tag sets are equal exactly when these are, so
-- `a="b;c=d"` and `a=b;c=d` (two tags) differ. nil for no tags.
local function tags_text(list)
  if is_null(list) or #list == 0 then return nil end
  return csv.join_tags(list)
end

local function tags_input(list)
  local a = json.array()
  for i, kv in ipairs(list) do a[i] = { key = kv.key, value = kv.value } end
  return a
end

local function label(r) return r.name end

for _, r in ipairs(rows) do
  local key = r.network_id .. "\0" .. r.name
  local matches = existing[key]
  local change_key = "resource " .. r.network_id .. " " .. r.name
  if matches and #matches > 1 then
    local ids = {}
    for i, m in ipairs(matches) do ids[i] = m.id end
    skipped[#skipped + 1] = { line = r.line, name = r.name, network = r.network,
      reason = string.format("%d resources have this name in this network (%s); rename or delete one",
        #matches, table.concat(ids, ", ")) }
  elseif matches then
    local cur = matches[1]
    local changes, input = {}, {}
    local function scalar(field, before, after, arg, value)
      if before ~= after then
        changes[#changes + 1] = { field = field, before = before, after = after }
        input[arg] = value
      end
    end
    local cur_addr = type(cur.address) == "table" and cur.address.value or nil
    scalar("address", cur_addr, r.address, "address", r.address)
    if has.alias then
      local before = not is_null(cur.alias) and cur.alias or nil
      scalar("alias", before, r.alias, "alias", r.alias or null)
    end
    if has.protocols then
      local before = protocols.format(not is_null(cur.protocols) and cur.protocols or nil)
      scalar("protocols", before, r.protocols_text, "protocols", r.protocols)
    end
    if has.security_policy then
      local sp = not is_null(cur.securityPolicy) and cur.securityPolicy or nil
      if (sp and sp.id) ~= r.policy_id then
        changes[#changes + 1] = { field = "security_policy", before = sp and sp.name or nil, after = r.policy }
        input.securityPolicyId = r.policy_id or null
      end
    end
    if has.tags then
      local before, after = tags_text(cur.tags), tags_text(r.tags)
      scalar("tags", before, after, "tags", tags_input(r.tags))
    end
    if has.visible then scalar("visible", cur.isVisible ~= false, r.visible, "isVisible", r.visible) end
    if has.browser_shortcut then
      scalar("browser_shortcut", cur.isBrowserShortcutEnabled == true, r.browser_shortcut,
        "isBrowserShortcutEnabled", r.browser_shortcut)
    end
    if has.groups then
      local current = {}
      for _, e in ipairs(cur.access or {}) do
        local p = e.principal
        if type(p) == "table" and p.__typename == "Group" then current[p.id] = p.name end
      end
      local want = {}
      local added_ids, added, removed_ids, removed = {}, {}, {}, {}
      for i, id in ipairs(r.group_ids) do
        want[id] = true
        if not current[id] then added_ids[#added_ids + 1] = id; added[#added + 1] = r.groups[i] end
      end
      local cur_ids = {}
      for id in pairs(current) do cur_ids[#cur_ids + 1] = id end
      table.sort(cur_ids)
      for _, id in ipairs(cur_ids) do
        if not want[id] then removed_ids[#removed_ids + 1] = id; removed[#removed + 1] = current[id] end
      end
      if #added_ids > 0 or #removed_ids > 0 then
        changes[#changes + 1] = { field = "groups", added = added, removed = removed }
        if #added_ids > 0 then input.addedGroupIds = added_ids end
        if #removed_ids > 0 then input.removedGroupIds = removed_ids end
      end
    end
    if #changes > 0 then
      if cur.__typename and cur.__typename ~= "NetworkResource" then
        skipped[#skipped + 1] = { line = r.line, name = r.name, network = r.network,
          reason = "is a " .. cur.__typename .. "; this script changes network resources only" }
      else
        plan:add {
          kind = "resource", action = "update", name = label(r), id = cur.id, key = change_key,
          changes = changes, line = r.line,
          op = batch.op(tg.resources, "update", cur.id, input),
        }
      end
    end
  elseif r.type ~= "NetworkResource" then
    skipped[#skipped + 1] = { line = r.line, name = r.name, network = r.network,
      reason = "cannot create a " .. r.type .. " (this script creates network resources only)" }
  else
    local input = { name = r.name, address = r.address, remoteNetworkId = r.network_id }
    local changes = { { field = "network", before = nil, after = r.network },
      { field = "address", before = nil, after = r.address } }
    if r.alias then input.alias = r.alias; changes[#changes + 1] = { field = "alias", after = r.alias } end
    if r.protocols then
      input.protocols = r.protocols
      changes[#changes + 1] = { field = "protocols", after = r.protocols_text }
    end
    if r.policy_id then
      input.securityPolicyId = r.policy_id
      changes[#changes + 1] = { field = "security_policy", after = r.policy }
    end
    if r.tags and #r.tags > 0 then
      input.tags = tags_input(r.tags)
      changes[#changes + 1] = { field = "tags", after = tags_text(r.tags) }
    end
    -- every field the create sends is shown, defaults included (visible=true)
    if r.visible ~= nil then
      input.isVisible = r.visible
      changes[#changes + 1] = { field = "visible", after = r.visible }
    end
    if r.browser_shortcut ~= nil then
      input.isBrowserShortcutEnabled = r.browser_shortcut
      changes[#changes + 1] = { field = "browser_shortcut", after = r.browser_shortcut }
    end
    if r.group_ids and #r.group_ids > 0 then
      input.groupIds = r.group_ids
      changes[#changes + 1] = { field = "groups", added = r.groups, removed = {} }
    end
    plan:add {
      kind = "resource", action = "create", name = label(r), key = change_key, changes = changes, line = r.line,
      op = batch.op(tg.resources, "create", nil, input),
    }
  end
end

if opts.prune then
  local listed = {}
  for _, r in ipairs(rows) do listed[r.network_id .. "\0" .. r.name] = true end
  local doomed = {}
  for _, res in ipairs(existing_list) do
    if not listed[res.remoteNetwork.id .. "\0" .. res.name] then doomed[#doomed + 1] = res end
  end
  table.sort(doomed, function(a, b)
    if a.remoteNetwork.name ~= b.remoteNetwork.name then return a.remoteNetwork.name < b.remoteNetwork.name end
    if a.name ~= b.name then return a.name < b.name end
    return a.id < b.id
  end)
  for _, res in ipairs(doomed) do
    plan:add {
      kind = "resource", action = "delete", name = res.name, id = res.id, key = "resource delete " .. res.id,
      -- where the resource is, shown as context: not a field change
      context = { { field = "network", value = res.remoteNetwork.name },
        { field = "address", value = type(res.address) == "table" and res.address.value or nil } },
      op = batch.op(tg.resources, "delete", res.id),
    }
  end
end

---------------------------------------------------------------------------
-- 4. Show, apply, report.
---------------------------------------------------------------------------
run_opts.dry_run = tg.dry_run
run_opts.on_result = planning.result_logger()
-- failed and unknown changes are named with their FILE:LINE ("(prune)" for deletions)
local function located(c)
  return (c.line and (path .. ":" .. c.line) or "(prune)") .. " " .. planning.change_label(c)
end
-- one summary: the script's own (the plan's "Applied N of M" would repeat it);
-- an interrupted run still prints the plan's account of what was applied
local code, report = plan:run_quiet(tg, run_opts)
if report.declined then return code end
local dry_run = tg.dry_run

-- an empty plan has said "No changes." already: only skipped rows follow it
local nothing = plan:is_empty()
if nothing and #skipped == 0 then return code end
local n = { create = 0, update = 0, delete = 0 }
for _, r in ipairs(report.results or {}) do
  if r.status == "applied" or (dry_run and r.status == "planned") then
    n[r.change.action] = n[r.change.action] + 1
  end
end
local out = { "" }
out[#out + 1] = planning.summary_heading(dry_run)
if not nothing then
  local function verb(v, past) return planning.verb(dry_run, v, past) end
  out[#out + 1] = string.format("  resources %s: %d, %s: %d, %s: %d", verb("create", "created"), n.create,
    verb("update", "updated"), n.update, verb("delete", "deleted"), n.delete)
  plan:report_lines(report, { into = out, label = located })
end
out[#out + 1] = string.format("  rows skipped: %d", #skipped)
table.sort(skipped, function(a, b) return a.line < b.line end)
for _, sk in ipairs(skipped) do
  out[#out + 1] = string.format("    %s:%d: resource %s in network %s: %s", path, sk.line, quote(sk.name),
    quote(sk.network), sk.reason)
end
io.stdout:write(table.concat(out, "\n"), "\n")

if code == twingate.exit.ok and #skipped > 0 then return twingate.exit.partial end
return code
