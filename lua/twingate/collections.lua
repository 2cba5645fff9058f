--- Generic collections: one definition table per kind of object.
--
-- A kind module describes its object with a definition table and gets
-- each/list/get/find/create/update/delete from here:
--
--   local C = collections.define{
--     name = "Group", plural = "Groups",           -- for operation names and placeholder ids
--     list_field = "groups", get_field = "group", get_id_type = "ID!",
--     filter_type = "GroupFilterInput", find_field = "name",
--     fields = "id name createdAt ...",            -- default selection
--     nested = { users = { fields = "id email" }, ... },   -- nested connections for `include`
--     create = { field = "groupCreate", args = { name = "String!", userIds = "[ID]" }, verify = fn },
--     update = { field = "groupUpdate", args = { name = "String", addedUserIds = "[ID]" } },
--     delete = { field = "groupDelete" },
--   }
--   -- optional: get_field = nil (no get by id), find_field = false (no find),
--   -- plain_list = true + list_fields = "id name" (root list field is a plain
--   -- list, not a connection), union = true (the node type is a union: no
--   -- bare `id` is added to the selection)
--   function C:add_users(id, ids) ... end          -- special operations
--   return C                                       -- C.new(client) makes the collection
--
-- Argument types are the schema's, so variable declarations are generated from
-- them and every value travels as a GraphQL variable. Input keys are the API's
-- argument names; omitted keys are not sent; `twingate.null` sends null.
local errors = require "twingate.errors"
local graphql = require "twingate.graphql"
local json = require "twingate.json"
local log = require "twingate.log"
local paginate = require "twingate.paginate"

local M = {}

local Collection = {}
Collection.__index = Collection
M.Collection = Collection

local PAGE_INFO = "pageInfo { hasNextPage endCursor }"

--- Make a collection class from a definition table.
-- @param def definition table (see the module comment)
-- @return class table: add methods to it; `class.new(client)` makes an instance
function M.define(def)
  assert(def.name and def.list_field and def.fields, "collection definition needs name, list_field, fields")
  def.plural = def.plural or (def.name .. "s")
  def.get_id_type = def.get_id_type or "ID!"
  local class = setmetatable({}, { __index = Collection })
  class.__index = class
  class.definition = def
  function class.new(client)
    return setmetatable({ client = client, def = def }, class)
  end
  return class
end

local function where(self, fn)
  return (self.def.list_field) .. ":" .. fn .. "()"
end

local function bad(self, fn, msg)
  errors.raise("invalid_argument", where(self, fn) .. ": " .. msg, nil, 0)
end

--- The keys of a table, sorted (for deterministic documents and messages).
-- @param t table with comparable keys
-- @return array of keys
M.sorted_keys = graphql.sorted_keys
local sorted_keys = M.sorted_keys

local function check_id(self, fn, id)
  if type(id) ~= "string" or id == "" then
    bad(self, fn, "expects an id string, got " .. (id == "" and "an empty string" or type(id)))
  end
end

local function check_opts(self, fn, opts)
  if opts ~= nil and type(opts) ~= "table" then bad(self, fn, "options must be a table") end
  return opts or {}
end

--- The connection selection of a nested definition `n` (`{ fields = ...,
-- make_selection = fn(fields) -> selection }`): by default
-- `edges { node { <fields> } } pageInfo { ... }`; a `make_selection` may read
-- whole edges (e.g. `nodes: edges { ... } pageInfo { ... }`).
-- @param n nested definition
-- @param fields custom item fields or nil
-- @return selection string
function M.nested_selection(n, fields)
  if n.make_selection then return n.make_selection(fields) end
  return "edges { node { " .. (fields or n.fields) .. " } } " .. PAGE_INFO
end

-- The nested connections asked for by opts.include, as paginate.complete specs.
-- opts.include: { "users", "resources" } or { users = "id email" } (custom fields).
local function includes(self, fn, opts)
  local inc = opts.include
  if inc == nil then return {} end
  if type(inc) == "string" then inc = { inc } end
  if type(inc) ~= "table" then bad(self, fn, "include must be a list of nested connection names") end
  local nested = self.def.nested or {}
  local specs = {}
  local function add(name, fields)
    local n = nested[name]
    if not n then
      local valid = sorted_keys(nested)
      bad(self, fn, "cannot include '" .. tostring(name) .. "' (valid: "
        .. (#valid > 0 and table.concat(valid, ", ") or "none") .. ")")
    end
    specs[#specs + 1] = {
      key = name, field = n.field or name,
      get_field = self.def.get_field, id_type = self.def.get_id_type,
      selection = M.nested_selection(n, fields),
    }
  end
  for k, v in pairs(inc) do
    if math.type(k) == "integer" then add(v) else add(k, type(v) == "string" and v or nil) end
  end
  table.sort(specs, function(a, b) return a.key < b.key end)
  return specs
end

-- The node selection: opts.fields or the default, plus the first page of each include.
local function selection(self, fn, opts)
  local sel = opts.fields or self.def.fields
  if type(sel) ~= "string" or sel:match("^%s*$") then bad(self, fn, "fields must be a non-empty selection string") end
  local specs = includes(self, fn, opts)
  if #specs > 0 then
    if not self.def.union then sel = "id " .. sel end
    for _, s in ipairs(specs) do
      sel = sel .. " " .. s.key .. ": " .. s.field .. "(first: $first) { " .. s.selection .. " }"
    end
  end
  return sel, specs
end

function Collection:_complete(nodes, specs)
  if #specs == 0 or #nodes == 0 then return nodes end
  local client = self.client
  return paginate.complete(function(d, v) return client:query(d, v) end, nodes, specs,
    { page_size = client.page_size, batch_size = client.batch_size, name = "Complete" .. self.def.plural })
end

-- Filter operator fields whose values are lists in the schema (`in: [String!]`,
-- the tag filter's `and`/`or`; `notIn` for forward compatibility).
local FILTER_LISTS = { ["in"] = true, notIn = true, ["and"] = true, ["or"] = true }

-- A copy of a filter whose list-valued operators are json.array (an empty
-- `in` must go as `[]`, not `{}`); raises when one is not a sequence.
local function normalize_filter(self, fn, v, path)
  if type(v) ~= "table" or v == json.null then return v end
  local out = {}
  for k, x in pairs(v) do
    local p = path .. "." .. tostring(k)
    if FILTER_LISTS[k] and x ~= json.null then
      local ok, res = pcall(graphql.list_value, x, p)
      if not ok then bad(self, fn, "filter " .. (errors.is(res) and res.message or tostring(res))) end
      for i, item in ipairs(res) do res[i] = normalize_filter(self, fn, item, p .. "[" .. i .. "]") end
      out[k] = res
    else
      out[k] = normalize_filter(self, fn, x, p)
    end
  end
  return setmetatable(out, getmetatable(v))
end

--- Iterate over the objects matching a filter, every page.
-- @param filter the kind's filter input (e.g. `{ name = { startsWith = "eng-" } }`) or nil
-- @param opts `{ fields = "selection", include = { "users" } }`: `include` fills
--   each node's nested connection as a plain array with every item
-- @return iterator of nodes
function Collection:each(filter, opts)
  opts = check_opts(self, "each", opts)
  local def = self.def
  if filter ~= nil and type(filter) ~= "table" then bad(self, "each", "filter must be a table") end
  if filter ~= nil and not def.filter_type then bad(self, "each", "this collection takes no filter") end
  if def.plain_list then return self:_each_plain(filter, opts) end
  filter = normalize_filter(self, "each", filter, "filter")
  local sel, specs = selection(self, "each", opts)
  local decl, arg = "", ""
  if def.filter_type then
    decl, arg = ", $filter: " .. def.filter_type, ", filter: $filter"
  end
  local doc = "query List" .. def.plural .. "($first: Int, $after: String" .. decl .. ") { "
    .. def.list_field .. "(first: $first, after: $after" .. arg .. ") { edges { node { " .. sel
    .. " } } " .. PAGE_INFO .. " } }"
  local on_page
  if #specs > 0 then on_page = function(nodes) self:_complete(nodes, specs) end end
  return self.client:each(doc, { filter = filter }, { on_page = on_page })
end

-- each() of a kind whose root list field is a plain list (no pages): one
-- request; with opts.fields or opts.include the listed ids are read again
-- through get_many (the list type usually holds only a summary).
function Collection:_each_plain(filter, opts)
  local def = self.def
  if filter ~= nil then bad(self, "each", "this collection takes no filter") end
  local doc = "query List" .. def.plural .. " { " .. def.list_field .. " { " .. (def.list_fields or def.fields) .. " } }"
  local data = self.client:query(doc, {})
  local items = {}
  for _, n in ipairs(type(data[def.list_field]) == "table" and data[def.list_field] or {}) do
    if type(n) == "table" then items[#items + 1] = n end
  end
  if (opts.fields or opts.include) and #items > 0 then
    local ids = {}
    for i, n in ipairs(items) do ids[i] = n.id end
    local full = self:get_many(ids, opts)
    items = {}
    for i = 1, full.n do
      if full[i] then items[#items + 1] = full[i] end
    end
  end
  local i = 0
  return function()
    i = i + 1
    return items[i]
  end
end

--- Every object matching a filter, as an array.
-- @param filter or nil
-- @param opts as for `each`
-- @return array (json.array) of nodes
function Collection:list(filter, opts)
  local out = json.array()
  for node in self:each(filter, opts) do out[#out + 1] = node end
  return out
end

--- One object by id.
-- @param id string
-- @param opts `{ fields = ..., include = ... }`
-- @return the node, or nil when it does not exist
function Collection:get(id, opts)
  check_id(self, "get", id)
  opts = check_opts(self, "get", opts)
  local def = self.def
  if not def.get_field then bad(self, "get", "the API has no lookup by id for this kind; use find() or each()") end
  local sel, specs = selection(self, "get", opts)
  local doc = "query Get" .. def.name .. "($id: " .. def.get_id_type
    .. (#specs > 0 and ", $first: Int" or "") .. ") { " .. def.get_field .. "(id: $id) { " .. sel .. " } }"
  local vars = { id = id }
  if #specs > 0 then vars.first = self.client.page_size end
  local ok, data = pcall(self.client.query, self.client, doc, vars)
  if not ok then
    -- some servers answer an unknown id with an error instead of null
    local err = data
    if errors.is(err) and err.kind == "graphql" then
      local m = tostring(err.message):lower()
      if m:find("does not exist", 1, true) or m:find("not found", 1, true) then return nil end
    end
    error(err, 0)
  end
  local node = data[def.get_field]
  if type(node) ~= "table" then return nil end
  self:_complete({ node }, specs)
  return node
end

local function missing_only(err)
  if not (errors.is(err) and err.kind == "graphql" and type(err.data) == "table") then return false end
  for _, e in ipairs(type(err.errors) == "table" and err.errors or {}) do
    local m = tostring(type(e) == "table" and e.message or e):lower()
    if not (m:find("does not exist", 1, true) or m:find("not found", 1, true)) then return false end
  end
  return true
end

--- Many objects by id, several per request (aliased fields).
-- Duplicate ids are fetched once (the same table is returned at each place).
-- @param ids array of id strings
-- @param opts `{ fields = ..., include = ..., batch_size = n }` (default the
--   client's batch_size, 25)
-- @return table `out` with `out.n = #ids` and `out[i]` the node of `ids[i]`,
--   nil when it does not exist (order preserved)
function Collection:get_many(ids, opts)
  opts = check_opts(self, "get_many", opts)
  local def = self.def
  if not def.get_field then bad(self, "get_many", "the API has no lookup by id for this kind") end
  if type(ids) ~= "table" then bad(self, "get_many", "expects a list of ids") end
  local unique, seen = {}, {}
  for i = 1, #ids do
    local id = ids[i]
    if type(id) ~= "string" or id == "" then bad(self, "get_many", "id #" .. i .. " is not an id string") end
    if not seen[id] then
      seen[id] = true
      unique[#unique + 1] = id
    end
  end
  local batch = opts.batch_size or self.client.batch_size or paginate.DEFAULT_BATCH_SIZE
  if math.type(batch) ~= "integer" or batch < 1 then bad(self, "get_many", "batch_size must be a positive integer") end
  local sel, specs = selection(self, "get_many", opts)
  local first = #specs > 0 and { first = "Int" } or nil
  local by_id, found = {}, {}
  for from = 1, #unique, batch do
    local items = {}
    for k = from, math.min(from + batch - 1, #unique) do items[#items + 1] = { id = unique[k] } end
    local doc, vars, aliases = graphql.batch{
      type = "query", name = "GetMany" .. def.plural, prefix = "g",
      template = def.get_field .. "(id: $id) { " .. sel .. " }",
      types = { id = def.get_id_type }, items = items,
      shared = first, shared_values = first and { first = self.client.page_size } or nil,
    }
    local ok, data = pcall(self.client.query, self.client, doc, vars)
    if not ok then
      -- a server that answers a missing id with an error still gives the others
      if missing_only(data) then data = data.data else error(data, 0) end
    end
    for idx, alias in ipairs(aliases) do
      local node = data[alias]
      if type(node) == "table" then
        by_id[items[idx].id] = node
        found[#found + 1] = node
      end
    end
  end
  self:_complete(found, specs)
  local out = { n = #ids }
  for i = 1, #ids do out[i] = by_id[ids[i]] end
  return out
end

--- The object with exactly this name (via the kind's filter).
-- @param name string
-- @param opts as for `each`
-- @return the node, or nil when none has that name
-- @raise `invalid_argument` listing the ids when several objects have the name
function Collection:find(name, opts)
  local def = self.def
  if def.find_field == false then bad(self, "find", "this kind has no name to find it by; use get(id) or each()") end
  local field = def.find_field or "name"
  if type(name) ~= "string" or name == "" then bad(self, "find", "expects a " .. field .. " string") end
  local nodes
  if def.filter_type and not def.find_client_side then
    nodes = self:list({ [field] = { eq = name } }, opts)
  else
    -- no server-side filter: read the list and compare here (the field must be selected)
    nodes = {}
    for _, n in ipairs(self:list(nil, opts)) do
      if n[field] == name then nodes[#nodes + 1] = n end
    end
  end
  return self:_one(nodes, field, name, function(v) return v == name end)
end

-- The single node of `nodes` whose `field` satisfies `match` (nodes without the
-- field selected count as matching); nil if none; raises if several.
function Collection:_one(nodes, field, value, match)
  local hits = {}
  for _, n in ipairs(nodes) do
    if n[field] == nil or match(n[field]) then hits[#hits + 1] = n end
  end
  if #hits == 0 then return nil end
  if #hits > 1 then
    local ids = {}
    for _, n in ipairs(hits) do ids[#ids + 1] = tostring(n.id) end
    errors.raise("invalid_argument", string.format("%s:find(): %d %s have %s %q: %s; use get(id)",
      self.def.list_field, #hits, self.def.list_field, field, value, table.concat(ids, ", ")),
      { ids = ids }, 0)
  end
  return hits[1]
end

-- Declarations, arguments and variables for a mutation from an input table.
local function build(self, fn, spec, input, fixed)
  if input ~= nil and type(input) ~= "table" then bad(self, fn, "input must be a table") end
  input = input or {}
  local args = spec.args or {}
  for k in pairs(input) do
    if type(k) ~= "string" or not args[k] then
      bad(self, fn, "unknown field '" .. tostring(k) .. "' (valid: " .. table.concat(sorted_keys(args), ", ") .. ")")
    end
  end
  local vars, decls, call = {}, {}, {}
  for k, v in pairs(fixed or {}) do
    vars[k] = v
    decls[#decls + 1] = "$" .. k .. ": " .. (k == "id" and "ID!" or spec.fixed_types[k])
    call[#call + 1] = k .. ": $" .. k
  end
  for _, k in ipairs(sorted_keys(args)) do
    local t, v = args[k], input[k]
    if v == nil then
      if t:sub(-1) == "!" then bad(self, fn, "'" .. k .. "' is required") end
    else
      if t:sub(1, 1) == "[" and v ~= json.null then
        local ok, res = pcall(graphql.list_value, v, k)
        if not ok then bad(self, fn, errors.is(res) and res.message or tostring(res)) end
        v = res
      elseif v == json.null and t:sub(-1) == "!" then
        bad(self, fn, "'" .. k .. "' cannot be null")
      end
      vars[k] = v
      decls[#decls + 1] = "$" .. k .. ": " .. t
      call[#call + 1] = k .. ": $" .. k
    end
  end
  return vars, table.concat(decls, ", "), table.concat(call, ", ")
end

local function op_name(field)
  return field:sub(1, 1):upper() .. field:sub(2)
end

-- A placeholder node for a create/update that was not sent (dry run).
function Collection:_placeholder(id, input)
  local node = { dry_run = true }
  for k, v in pairs(input or {}) do
    if v ~= json.null then node[k] = v end
  end
  if id then
    node.id = id
  else
    self.client.dry_run_count = self.client.dry_run_count + 1
    node.id = "dry-run:" .. self.def.name .. ":" .. self.client.dry_run_count
  end
  return node
end

-- Run a mutation; a "does not exist" payload becomes `not_found`.
function Collection:_mutate(fn, doc, vars, mopts)
  local ok, data = pcall(self.client.mutate, self.client, doc, vars, mopts)
  if not ok then
    local err = data
    if errors.is(err) and err.kind == "mutation" and require("twingate").does_not_exist(err.payload_error) then
      errors.raise("not_found", where(self, fn) .. ": " .. tostring(err.payload_error),
        { id = vars.id, payload_error = err.payload_error }, 0)
    end
    error(err, 0)
  end
  return data
end

--- Create an object.
-- @param input the mutation's arguments (API names), e.g. `{ name = "Ops", userIds = { ... } }`
-- @param opts `{ fields = "selection" }` for the returned entity
-- @return the created node; with --dry-run a placeholder `{ id = "dry-run:Group:1", dry_run = true, ... }`
function Collection:create(input, opts)
  opts = check_opts(self, "create", opts)
  local spec = self.def.create
  if not spec then bad(self, "create", "this kind cannot be created through the API") end
  local vars, decls, call = build(self, "create", spec, input)
  local sel = opts.fields or self.def.fields
  local doc = "mutation " .. op_name(spec.field) .. (decls ~= "" and ("(" .. decls .. ")") or "") .. " { "
    .. spec.field .. (call ~= "" and ("(" .. call .. ")") or "") .. " { ok error entity { " .. sel .. " } } }"
  local mopts = { idempotent = spec.idempotent }
  if spec.verify then
    local started = os.time()
    mopts.verify = function()
      local node = spec.verify(self, input, started, sel)
      if node then return { [spec.field] = { ok = true, entity = node, verified = true } } end
      return nil
    end
  end
  local data = self:_mutate("create", doc, vars, mopts)
  local p = data[spec.field]
  if p.dry_run then return self:_placeholder(nil, input) end
  return p.entity
end

--- Update an object.
-- @param id string
-- @param input the arguments to change (omitted keys keep their value; twingate.null clears)
-- @param opts `{ fields = "selection" }`
-- @return the updated node (a placeholder with --dry-run)
-- @raise `not_found` when the object does not exist
function Collection:update(id, input, opts)
  check_id(self, "update", id)
  opts = check_opts(self, "update", opts)
  local spec = self.def.update
  if not spec then bad(self, "update", "this kind cannot be updated through the API") end
  local vars, decls, call = build(self, "update", spec, input, { id = id })
  local sel = opts.fields or self.def.fields
  local doc = "mutation " .. op_name(spec.field) .. "(" .. decls .. ") { " .. spec.field .. "(" .. call
    .. ") { ok error entity { " .. sel .. " } } }"
  local data = self:_mutate("update", doc, vars, { idempotent = spec.idempotent ~= false })
  local p = data[spec.field]
  if p.dry_run then return self:_placeholder(id, input) end
  return p.entity
end

--- Delete an object.
-- @param id string
-- @return true (also when a resent delete finds the object already gone)
-- @raise `not_found` when the object does not exist
function Collection:delete(id)
  check_id(self, "delete", id)
  local spec = self.def.delete
  if not spec then bad(self, "delete", "this kind cannot be deleted through the API") end
  local doc = "mutation " .. op_name(spec.field) .. "($id: ID!) { " .. spec.field .. "(id: $id) { ok error } }"
  self:_mutate("delete", doc, { id = id }, { idempotent = true, delete = true })
  return true
end

--- Run a special mutation of this kind (the hook kind modules build their
-- special operations on: block, approve, generate_tokens, ...).
-- @param fn the method name, for messages
-- @param spec `{ field = "deviceBlock", args = { id = "ID!" }, payload = "ok error"
--   (default: `ok error entity { <opts.fields or the kind's fields> }`),
--   idempotent = bool, delete = bool }`
-- @param input the arguments' values (API names; required ones checked)
-- @param opts `{ fields = "selection of the entity" }`
-- @return the payload table; `{ ok = true, dry_run = true }` with --dry-run
-- @raise `not_found` on a "does not exist" payload, `mutation` on another failure
function Collection:_operation(fn, spec, input, opts)
  opts = check_opts(self, fn, opts)
  local vars, decls, call = build(self, fn, spec, input)
  local payload = spec.payload or ("ok error entity { " .. (opts.fields or self.def.fields) .. " }")
  local doc = "mutation " .. op_name(spec.field) .. (decls ~= "" and ("(" .. decls .. ")") or "") .. " { "
    .. spec.field .. (call ~= "" and ("(" .. call .. ")") or "") .. " { " .. payload .. " } }"
  local data = self:_mutate(fn, doc, vars, { idempotent = spec.idempotent, delete = spec.delete })
  return data[spec.field]
end

--- `_operation` on one object by id, returning its entity.
-- @param fn method name
-- @param spec as for `_operation`; `args.id` defaults to "ID!"
-- @param id the object's id
-- @param input further arguments or nil
-- @param opts `{ fields = ... }`
-- @return the entity (a placeholder with --dry-run; true when the payload has no entity)
function Collection:_id_operation(fn, spec, id, input, opts)
  check_id(self, fn, id)
  local args = { id = "ID!" }
  for k, v in pairs(spec.args or {}) do args[k] = v end
  local s = {}
  for k, v in pairs(spec) do s[k] = v end
  s.args = args
  local values = { id = id }
  for k, v in pairs(input or {}) do values[k] = v end
  local p = self:_operation(fn, s, values, opts)
  if p.dry_run then return self:_placeholder(id, input) end
  if p.entity == nil or p.entity == json.null then return true end
  return p.entity
end

--- Iterate over every item of one object's nested connection (every page).
-- @param id the object's id
-- @param name the nested connection (a key of the definition's `nested`)
-- @param opts `{ fields = "selection of the items" }`
-- @return iterator of items
-- @raise `not_found` when the object does not exist
function Collection:nested(id, name, opts)
  check_id(self, name, id)
  opts = check_opts(self, name, opts)
  local def = self.def
  local n = (def.nested or {})[name]
  if not n then bad(self, name, "no nested connection '" .. tostring(name) .. "'") end
  local doc = "query " .. def.name .. op_name(name) .. "($id: " .. def.get_id_type
    .. ", $first: Int, $after: String) { " .. def.get_field .. "(id: $id) { " .. (n.field or name)
    .. "(first: $first, after: $after) { " .. M.nested_selection(n, opts.fields) .. " } } }"
  local client = self.client
  local query = function(d, v)
    local data = client:query(d, v)
    if type(data[def.get_field]) ~= "table" then
      errors.raise("not_found", string.format("%s %s does not exist", def.name, id), { id = id }, 0)
    end
    return data
  end
  return paginate.each(query, doc, { id = id }, { page_size = client.page_size })
end

-- Seconds since the epoch of an ISO 8601 UTC time ("2024-05-01T12:00:00.123Z", "+00:00").
function M.parse_time(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, sec, rest = s:match("^(%d%d%d%d)-(%d%d)-(%d%d)[T ](%d%d):(%d%d):(%d%d)%.?%d*(.*)$")
  if not y then return nil end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  -- days from civil (Howard Hinnant), no dependence on the local time zone
  local yy = mo <= 2 and y - 1 or y
  local era = (yy >= 0 and yy or yy - 399) // 400
  local yoe = yy - era * 400
  local doy = (153 * (mo + (mo > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  local days = era * 146097 + doe - 719468
  local t = days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(sec)
  local sign, oh, om = rest:match("^([%+%-])(%d%d):?(%d%d)$")
  if sign then
    local off = tonumber(oh) * 3600 + tonumber(om) * 60
    t = sign == "+" and t - off or t + off
  elseif rest ~= "" and rest ~= "Z" then
    return nil
  end
  return t
end

--- Clock skew tolerated when deciding that an object was created by our request.
M.CLOCK_SKEW = 120

--- A `create.verify` for kinds with unique-ish names: after a create that may have
-- been applied, look the name up; an object of that name created since the request
-- was sent (createdAt, with CLOCK_SKEW tolerance; unparsable counts) is ours.
-- @return the node or nil
function M.verify_by_name(coll, input, started, sel)
  local name = input and input.name
  if type(name) ~= "string" then return nil end
  local nodes = coll:list({ name = { eq = name } }, { fields = "id name createdAt " .. sel })
  local best
  for _, n in ipairs(nodes) do
    if n.name == name then
      local t = M.parse_time(n.createdAt)
      if t == nil or t >= started - M.CLOCK_SKEW then
        if not best or (n.createdAt or "") > (best.createdAt or "") then best = n end
      end
    end
  end
  if best then
    log.info("found the object created by the failed request", { kind = coll.def.name, id = best.id })
  end
  return best
end

return M
