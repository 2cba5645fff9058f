-- export.lua: export a Twingate collection to CSV, JSON or JSON lines.
--
-- Usage:
--   twingate-lua scripts/export.lua KIND [--format csv|json|jsonl] [--output FILE]
--
-- KIND is a collection: users, groups, remote_networks, resources, connectors, devices,
-- serial_numbers, service_accounts, security_policies, gateways, webhooks, ... (any
-- collection of the client; "-" and "_" are the same: remote-networks), or
-- group-members: one row per (group, email) membership.
--
-- Relations are flattened readably: a related object becomes its name (or email),
-- lists of related objects their names separated by ";", tags `k=v;k2=v2`,
-- protocols the compact form of twingate.protocols (`tcp:22,443;udp:53;icmp`),
-- other nested objects dotted columns (`address.value`). In lists and tags a
-- backslash escapes `;`, `=`, `\` and spaces at the ends of an item (`Ops\; EU`).
-- Rows are sorted (by network, name and id for resources; group, email for
-- group-members; name or email, then id otherwise), so two exports of the same
-- tenant are byte-identical.
--
-- Two exports are valid input for the other scripts:
--   resources      columns name,address,network,alias,protocols,groups,security_policy,
--                  tags,visible,browser_shortcut,type: the input of import-resources.lua
--   group-members  columns group,email: the input of sync-group-members.lua
-- Example (resources):
--   name,address,network,alias,protocols,groups,security_policy,tags,visible,browser_shortcut,type
--   db,10.0.0.5,AWS Prod,db.corp,tcp:5432;icmp,DBAs;Engineering,Strict,env=prod,true,false,NetworkResource
--
-- CSV cells that a spreadsheet would run as a formula (starting with = + - @ TAB or
-- CR) get a leading ' (see twingate.csv neutralize); the import scripts remove it,
-- so round trips stay exact. JSON and JSON lines carry the same flattened records
-- (keys in column order) without that prefix.
--
-- Options:
--   --format F     csv (default), json (one array) or jsonl (one object per line)
--   --output FILE  write to FILE (replaced atomically) instead of stdout
--   -h, --help     print this text
--
-- Exit codes:
--   0  done
--   1  the export failed
--   2  bad usage (unknown kind or format)
--   4  the API token was refused
--   5  the API could not be reached
local twingate = require "twingate"
local args = require "twingate.args"
local csv = require "twingate.csv"
local errors = require "twingate.errors"
local json = require "twingate.json"
local log = require "twingate.log"
local protocols = require "twingate.protocols"

local opts = args.parse(arg, {
  positional = { "KIND" },
  options = {
    { "format", value = "F", default = "csv" },
    { "output", value = "FILE" },
  },
})
local format = opts.format
if format ~= "csv" and format ~= "json" and format ~= "jsonl" then
  errors.raise("invalid_argument", "--format must be csv, json or jsonl (got " .. require("twingate.text").quote(format) .. ")")
end
local kind = opts[1]:gsub("-", "_")

local null = json.null
local function is_null(v) return v == nil or v == null end

-- Lists and tags are escaped by twingate.csv (join_list/join_tags), the exact
-- inverse of what import-resources.lua reads (split_list/split_tags).
local function join_names(list)
  local names = {}
  for _, n in ipairs(list) do names[#names + 1] = n end
  table.sort(names)
  return csv.join_list(names)
end

local function tags_text(list)
  if is_null(list) then return "" end
  return csv.join_tags(list)
end

local function label_of(t)
  if type(t.name) == "string" then return t.name end
  if type(t.email) == "string" then return t.email end
  return nil
end

local function is_array(t)
  return getmetatable(t) == json.array_mt or #t > 0 or next(t) == nil
end

-- Flatten a node into `out` (column -> scalar).
local function flatten(prefix, v, out)
  if is_null(v) then return end
  local t = type(v)
  if t ~= "table" then out[prefix] = v; return end
  local last = prefix:match("([^.]+)$") or prefix
  if last == "protocols" then
    local ok, s = pcall(protocols.format, v)
    out[prefix] = ok and s or json.encode(v)
  elseif last == "tags" then
    out[prefix] = tags_text(v)
  elseif is_array(v) then
    local names, plain, scalars = {}, true, true
    for _, x in ipairs(v) do
      if type(x) == "table" and label_of(x) then names[#names + 1] = label_of(x)
      elseif type(x) == "table" and type(x.node) == "table" and label_of(x.node) then names[#names + 1] = label_of(x.node)
      elseif type(x) == "table" and type(x.principal) == "table" and label_of(x.principal) then
        names[#names + 1] = label_of(x.principal)
      else plain = false end
      if type(x) == "table" then scalars = false end
    end
    if plain then
      out[prefix] = join_names(names)
    elseif scalars then
      local s, empty = {}, false
      for i, x in ipairs(v) do s[i] = tostring(x); empty = empty or s[i] == "" end
      out[prefix] = empty and json.encode(v) or csv.join_list(s)
    else
      out[prefix] = json.encode(v)
    end
  elseif label_of(v) and prefix ~= "" then
    out[prefix] = label_of(v)
  else
    for k, x in pairs(v) do
      if k ~= "__typename" or prefix == "" then flatten(prefix == "" and k or (prefix .. "." .. k), x, out) end
    end
  end
end

local function by(...)
  local keys = { ... }
  return function(a, b)
    for _, k in ipairs(keys) do
      local x, y = a[k] or "", b[k] or ""
      if type(x) ~= type(y) then x, y = tostring(x), tostring(y) end
      if x ~= y then return x < y end
    end
    return false
  end
end

-- The columns `flatten` makes from a GraphQL selection: a field without a
-- sub-selection is a column; a related object (or list) selected with a name or
-- an email, protocols and tags are one column; other objects dotted columns
-- (`address.value`). Inline fragments (`... on T { }`) add their fields.
local function selection_columns(selection)
  local toks = {}
  for tok in selection:gsub("%b()", " "):gsub("([{}])", " %1 "):gmatch("%S+") do toks[#toks + 1] = tok end
  local i = 1
  -- parse one level: an array of { name =, children = nil|array }
  local function level()
    local fields = {}
    while i <= #toks and toks[i] ~= "}" do
      local tok = toks[i]
      if tok == "..." then
        i = i + 1
        if toks[i] == "on" then i = i + 2 end   -- on TypeName
        if toks[i] == "{" then
          i = i + 1
          for _, f in ipairs(level()) do fields[#fields + 1] = f end
          i = i + 1
        end
      else
        local name = tok:match("^[_%a][_%w]*:?$") and tok:gsub(":$", "")
        i = i + 1
        local f = { name = name }
        if toks[i] == "{" then
          i = i + 1
          f.children = level()
          i = i + 1
        end
        if name and name ~= "" then fields[#fields + 1] = f end
      end
    end
    return fields
  end
  local out = {}
  local function walk(fields, prefix)
    for _, f in ipairs(fields) do
      local col = prefix == "" and f.name or (prefix .. "." .. f.name)
      if f.name == "__typename" then
        if prefix == "" then out[col] = true end
      elseif not f.children or f.name == "protocols" or f.name == "tags" then
        out[col] = true
      else
        local labelled = false
        for _, c in ipairs(f.children) do labelled = labelled or c.name == "name" or c.name == "email" end
        if labelled then out[col] = true else walk(f.children, col) end
      end
    end
  end
  walk(level(), "")
  return out
end

local tg = twingate.connect()
local columns, records

if kind == "group_members" then
  columns = { "group", "email" }
  records = {}
  for _, g in ipairs(tg.groups:list(nil, { fields = "id name", include = { users = "id email" } })) do
    for _, u in ipairs(g.users or {}) do
      if type(u) == "table" and type(u.email) == "string" then
        records[#records + 1] = { group = g.name, email = u.email, _id = g.id }
      end
    end
  end
  table.sort(records, by("group", "email", "_id"))
elseif kind == "resources" then
  columns = { "name", "address", "network", "alias", "protocols", "groups", "security_policy", "tags",
    "visible", "browser_shortcut", "type" }
  records = {}
  local fields = "__typename id name address { value } alias isVisible isBrowserShortcutEnabled "
    .. "protocols { allowIcmp tcp { policy ports { start end } } udp { policy ports { start end } } } "
    .. "remoteNetwork { id name } securityPolicy { id name } tags { key value }"
  for _, r in ipairs(tg.resources:list(nil, { fields = fields,
      include = { access = "__typename ... on Group { id name } ... on ServiceAccount { id name }" } })) do
    local groups = {}
    for _, e in ipairs(r.access or {}) do
      if type(e.principal) == "table" and e.principal.__typename == "Group" then groups[#groups + 1] = e.principal.name end
    end
    records[#records + 1] = {
      name = r.name,
      address = type(r.address) == "table" and r.address.value or nil,
      network = type(r.remoteNetwork) == "table" and r.remoteNetwork.name or nil,
      alias = not is_null(r.alias) and r.alias or nil,
      protocols = protocols.format(not is_null(r.protocols) and r.protocols or nil),
      groups = join_names(groups),
      security_policy = type(r.securityPolicy) == "table" and r.securityPolicy.name or nil,
      tags = tags_text(r.tags),
      visible = r.isVisible ~= false,
      browser_shortcut = r.isBrowserShortcutEnabled == true,
      type = r.__typename or "NetworkResource",
      _id = r.id,
    }
  end
  table.sort(records, by("network", "name", "_id"))
else
  local module = twingate.kinds[kind]
  if not module then
    local valid = { "group-members" }
    for k in pairs(twingate.kinds) do valid[#valid + 1] = k end
    table.sort(valid)
    errors.raise("invalid_argument", "unknown kind " .. opts[1] .. " (valid: " .. table.concat(valid, ", ") .. ")")
  end
  local coll = tg[kind]
  records = {}
  local seen = {}
  local function add(node)
    if type(node) == "table" then
      local rec = {}
      flatten("", node, rec)
      for k in pairs(rec) do seen[k] = true end
      rec._id = rec.id
      records[#records + 1] = rec
    end
  end
  local selection = (coll.def and coll.def.fields) or "id"
  if kind == "service_account_keys" then
    -- no root list of keys: the keys of every service account, with their account
    local key_fields = require("twingate.service_accounts").KEY_FIELDS
    for _, sa in ipairs(tg.service_accounts:list(nil, { fields = "id name", include = { keys = key_fields } })) do
      for _, k in ipairs(sa.keys or {}) do
        if type(k) == "table" then
          k.serviceAccount = { id = sa.id, name = sa.name }
          add(k)
        end
      end
    end
  else
    for node in coll:each() do add(node) end
  end
  -- the columns come from the collection's selection, so the header is the same
  -- for every tenant (a field null on every row, or no rows at all); columns
  -- only the data has (a list flattened otherwise) are added after them
  for c in pairs(selection_columns(selection)) do seen[c] = true end
  local first = { "id", "name", "email" }
  columns = {}
  for _, c in ipairs(first) do if seen[c] then columns[#columns + 1] = c; seen[c] = nil end end
  local rest = {}
  for c in pairs(seen) do rest[#rest + 1] = c end
  table.sort(rest)
  for _, c in ipairs(rest) do columns[#columns + 1] = c end
  table.sort(records, by("name", "email", "_id"))
end

-- Write to a temporary file next to the target, renamed at the end.
local out, tmp
if opts.output then
  tmp = opts.output .. ".tmp"
  local f, msg = io.open(tmp, "wb")
  -- named as the user gave it (the message names the temporary file)
  if not f then
    local reason = tostring(msg):match("^.*%.tmp: (.*)$") or tostring(msg)
    errors.raise("invalid_argument", "cannot write " .. opts.output .. ": " .. reason)
  end
  out = f
else
  out = io.stdout
end

if format == "csv" then
  local w = csv.writer(out, { neutralize_formulas = true })
  w:write_header(columns)
  for _, r in ipairs(records) do w:write_record(r) end
else
  local lines = {}
  for i, r in ipairs(records) do
    local parts = {}
    for _, c in ipairs(columns) do
      local v = r[c]
      -- every empty value is null in JSON (CSV writes an empty cell)
      if v == nil or v == "" then v = null end
      parts[#parts + 1] = json.encode(c) .. ":" .. json.encode(v)
    end
    lines[i] = "{" .. table.concat(parts, ",") .. "}"
  end
  if format == "jsonl" then
    for _, l in ipairs(lines) do out:write(l, "\n") end
  else
    out:write("[", #lines > 0 and "\n" or "", table.concat(lines, ",\n"), #lines > 0 and "\n" or "", "]\n")
  end
end

if tmp then
  out:close()
  local ok, msg = os.rename(tmp, opts.output)
  if not ok then errors.raise("invalid_argument", "cannot write " .. opts.output .. ": " .. tostring(msg)) end
end
log.info(string.format("exported %d %s", #records, opts[1]))
return 0
