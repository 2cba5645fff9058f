--- GraphQL documents at the lexer level: inspect and build, never parse values.
--
-- `inspect(doc)` tells the operation type and name, the declared variables and
-- the root fields (with aliases) of the first operation in a document, skipping
-- strings, block strings and comments so that text inside them never confuses it.
--
-- `batch(spec)` builds one document holding several aliased copies of a field
-- selection, each with its own numbered variables (`$id0`, `$after0`, ...), so
-- many reads (or writes) travel in one HTTP request. Values only ever travel as
-- variables; nothing is spliced into the document text.
local errors = require "twingate.errors"
local json = require "twingate.json"

local M = {}

local PUNCT = {
  ["!"] = true, ["$"] = true, ["&"] = true, ["("] = true, [")"] = true,
  [":"] = true, ["="] = true, ["@"] = true, ["["] = true, ["]"] = true,
  ["{"] = true, ["|"] = true, ["}"] = true,
}

local function bad(msg)
  errors.raise("invalid_argument", "graphql document: " .. msg, nil, 3)
end

--- Split a document into tokens.
-- Whitespace, commas and comments are dropped. Each token is
-- `{ t = "name"|"punct"|"string"|"number"|"spread", v = text, s = start, e = end }`
-- where `s`/`e` are byte positions in `doc`.
-- @param doc string
-- @return array of tokens; raises `invalid_argument` on an unterminated string
function M.tokens(doc)
  if type(doc) ~= "string" then
    errors.raise("invalid_argument", "graphql document must be a string, got " .. type(doc), nil, 2)
  end
  local out, i, n = {}, 1, #doc
  if doc:sub(1, 3) == "\239\187\191" then i = 4 end
  while i <= n do
    local c = doc:sub(i, i)
    if c == " " or c == "\t" or c == "\n" or c == "\r" or c == "," then
      i = i + 1
    elseif c == "#" then
      local j = doc:find("[\r\n]", i)
      i = j and j or n + 1
    elseif c == '"' then
      if doc:sub(i, i + 2) == '"""' then
        local j = i + 3
        while true do
          local a = doc:find('"""', j, true)
          if not a then bad("unterminated block string") end
          if doc:sub(a - 1, a - 1) == "\\" then
            j = a + 3
          else
            out[#out + 1] = { t = "string", v = doc:sub(i, a + 2), s = i, e = a + 2 }
            i = a + 3
            break
          end
        end
      else
        local j = i + 1
        while true do
          local ch = doc:sub(j, j)
          if ch == "" or ch == "\n" or ch == "\r" then bad("unterminated string") end
          if ch == "\\" then
            j = j + 2
          elseif ch == '"' then
            break
          else
            j = j + 1
          end
        end
        out[#out + 1] = { t = "string", v = doc:sub(i, j), s = i, e = j }
        i = j + 1
      end
    elseif c == "." then
      if doc:sub(i, i + 2) ~= "..." then bad("unexpected '.' at byte " .. i) end
      out[#out + 1] = { t = "spread", v = "...", s = i, e = i + 2 }
      i = i + 3
    elseif PUNCT[c] then
      out[#out + 1] = { t = "punct", v = c, s = i, e = i }
      i = i + 1
    elseif c:match("[_%a]") then
      local a, b = doc:find("^[_%w]+", i)
      out[#out + 1] = { t = "name", v = doc:sub(a, b), s = a, e = b }
      i = b + 1
    elseif c:match("[%-%d]") then
      local a, b = doc:find("^%-?%d+%.?%d*[eE]?[%+%-]?%d*", i)
      if not a then bad("malformed number at byte " .. i) end
      out[#out + 1] = { t = "number", v = doc:sub(a, b), s = a, e = b }
      i = b + 1
    else
      bad("unexpected character " .. string.format("%q", c) .. " at byte " .. i)
    end
  end
  return out
end

-- Index just past the group opened at toks[i] (one of `(`, `[`, `{`).
local CLOSE = { ["("] = ")", ["["] = "]", ["{"] = "}" }
local function skip_group(toks, i)
  local open = toks[i].v
  local close, depth = CLOSE[open], 0
  while i <= #toks do
    local tk = toks[i]
    if tk.t == "punct" then
      if tk.v == open then
        depth = depth + 1
      elseif tk.v == close then
        depth = depth - 1
        if depth == 0 then return i + 1 end
      end
    end
    i = i + 1
  end
  bad("unbalanced '" .. open .. "'")
end

local function is(tk, v) return tk and tk.t == "punct" and tk.v == v end

-- Skip directives `@name(args)` starting at i.
local function skip_directives(toks, i)
  while is(toks[i], "@") do
    i = i + 2
    if is(toks[i], "(") then i = skip_group(toks, i) end
  end
  return i
end

-- Parse `( $a: T = default @dir, ... )` at toks[i]; fills vars; returns next index.
local function parse_variables(toks, i, vars)
  i = i + 1
  while toks[i] and not is(toks[i], ")") do
    if not is(toks[i], "$") or not toks[i + 1] or toks[i + 1].t ~= "name" or not is(toks[i + 2], ":") then
      bad("malformed variable definitions")
    end
    local name = toks[i + 1].v
    i = i + 3
    local parts = {}
    while toks[i] and not (is(toks[i], ")") or is(toks[i], "=") or is(toks[i], "@") or is(toks[i], "$")) do
      parts[#parts + 1] = toks[i].v
      i = i + 1
    end
    local def = { name = name, type = table.concat(parts) }
    if is(toks[i], "=") then
      def.has_default = true
      i = i + 1
      if is(toks[i], "[") or is(toks[i], "{") then i = skip_group(toks, i) else i = i + 1 end
    end
    i = skip_directives(toks, i)
    vars[#vars + 1] = def
    vars[name] = def.type
  end
  if not toks[i] then bad("unterminated variable definitions") end
  return i + 1
end

-- Parse the root selection set at toks[i] (a `{`); returns fields, next index.
local function parse_root_fields(toks, i)
  local fields = {}
  local stop = skip_group(toks, i) - 1 -- index of the matching `}`
  i = i + 1
  while i < stop do
    local tk = toks[i]
    if tk.t == "spread" then
      -- `...Fragment` or `... on Type { }` or `... { }`: not a root field of ours
      i = i + 1
      if toks[i] and toks[i].t == "name" and toks[i].v == "on" then i = i + 2
      elseif toks[i] and toks[i].t == "name" then i = i + 1 end
      i = skip_directives(toks, i)
      if is(toks[i], "{") then i = skip_group(toks, i) end
    elseif tk.t == "name" then
      local alias, name = nil, tk.v
      if is(toks[i + 1], ":") then
        alias, name = tk.v, toks[i + 2] and toks[i + 2].v
        i = i + 3
      else
        i = i + 1
      end
      local f = { name = name, alias = alias, key = alias or name }
      if is(toks[i], "(") then
        f.args_start = toks[i].s
        i = skip_group(toks, i)
      end
      i = skip_directives(toks, i)
      if is(toks[i], "{") then i = skip_group(toks, i) end
      fields[#fields + 1] = f
    else
      bad("unexpected '" .. tk.v .. "' in the selection set")
    end
  end
  return fields, stop + 1
end

--- Inspect the first operation of a document.
-- @param doc string: a GraphQL document
-- @return table `{ type = "query"|"mutation"|"subscription", name = string|nil,
--   variables = { {name=, type=}, ..., [name] = type }, fields = { {name=, alias=, key=}, ... } }`
--   where `key` is the response key (alias or name).
-- Raises `invalid_argument` when the document holds no operation or is malformed.
function M.inspect(doc)
  local toks = M.tokens(doc)
  local i = 1
  while toks[i] do
    local tk = toks[i]
    if is(tk, "{") then
      local fields = parse_root_fields(toks, i)
      return { type = "query", variables = {}, fields = fields }
    elseif tk.t == "name" and (tk.v == "query" or tk.v == "mutation" or tk.v == "subscription") then
      local info = { type = tk.v, variables = {} }
      i = i + 1
      if toks[i] and toks[i].t == "name" then
        info.name = toks[i].v
        i = i + 1
      end
      if is(toks[i], "(") then i = parse_variables(toks, i, info.variables) end
      i = skip_directives(toks, i)
      if not is(toks[i], "{") then bad("operation without a selection set") end
      info.fields = parse_root_fields(toks, i)
      return info
    elseif tk.t == "name" and tk.v == "fragment" then
      -- fragment Name on Type @dirs { ... }
      i = i + 4
      i = skip_directives(toks, i)
      if not is(toks[i], "{") then bad("fragment without a selection set") end
      i = skip_group(toks, i)
    else
      bad("unexpected '" .. tk.v .. "' at top level")
    end
  end
  bad("no operation in the document")
end

--- Rename variables in a piece of document text, token-aware (strings untouched).
-- @param text string: a fragment of GraphQL (a field with arguments and selection)
-- @param rename function(name) -> new name or nil to keep
-- @return string
function M.rename_variables(text, rename)
  local toks = M.tokens(text)
  local parts, last = {}, 1
  for i = 1, #toks - 1 do
    if is(toks[i], "$") and toks[i + 1].t == "name" then
      local new = rename(toks[i + 1].v)
      if new then
        parts[#parts + 1] = text:sub(last, toks[i + 1].s - 1)
        parts[#parts + 1] = new
        last = toks[i + 1].e + 1
      end
    end
  end
  parts[#parts + 1] = text:sub(last)
  return table.concat(parts)
end

--- The keys of a table, sorted (so generated documents are stable).
-- @param t table with comparable keys
-- @return array of keys
function M.sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks)
  return ks
end
local sorted_keys = M.sorted_keys

--- Build a batched document: several aliased copies of one field in one request.
--
--   local doc, vars, aliases = graphql.batch{
--     type = "query", name = "GroupUsersPage",
--     shared = { first = "Int" }, shared_values = { first = 100 },
--     template = "group(id: $id) { users(first: $first, after: $after) { ... } }",
--     types = { id = "ID!", after = "String" },
--     items = { { id = "R3JvdXA6MQ==", after = "YXJyYXljb25uZWN0aW9uOjk5" }, ... },
--     prefix = "b",
--   }
--   --> query GroupUsersPage($first: Int, $id0: ID!, $after0: String, ...) {
--         b0: group(id: $id0) { users(first: $first, after: $after0) { ... } } b1: ... }
--
-- Per-item variables (named in `types`) are numbered with the item's index from 0;
-- shared variables keep their names. An item may carry its own `template` and
-- `types` (for batches of different mutations); its values go in `item.values`
-- or directly in the item. A nil value is simply not sent.
-- @param spec table
-- @return doc string, variables table, aliases array (alias of item i at index i)
function M.batch(spec)
  local op = spec.type or "query"
  local shared = spec.shared or {}
  local prefix = spec.prefix or "b"
  local decls, vars, body, aliases = {}, {}, {}, {}
  for _, k in ipairs(sorted_keys(shared)) do
    decls[#decls + 1] = "$" .. k .. ": " .. shared[k]
    if spec.shared_values then vars[k] = spec.shared_values[k] end
  end
  for idx, item in ipairs(spec.items or {}) do
    local n = idx - 1
    local template = item.template or spec.template
    local types = item.types or spec.types or {}
    local values = item.values or item
    if not template then errors.raise("invalid_argument", "graphql.batch: no template", nil, 2) end
    for _, k in ipairs(sorted_keys(types)) do
      decls[#decls + 1] = "$" .. k .. n .. ": " .. types[k]
      vars[k .. n] = values[k]
    end
    local field = M.rename_variables(template, function(name)
      if types[name] then return name .. n end
      if shared[name] then return nil end
      errors.raise("invalid_argument", "graphql.batch: undeclared variable $" .. name, nil, 4)
    end)
    local alias = prefix .. n
    aliases[idx] = alias
    body[#body + 1] = "  " .. alias .. ": " .. field
  end
  local head = op .. (spec.name and (" " .. spec.name) or "")
  if #decls > 0 then head = head .. "(" .. table.concat(decls, ", ") .. ")" end
  return head .. " {\n" .. table.concat(body, "\n") .. "\n}", vars, aliases
end

--- The GraphQL type `t` without its outer non-null marker.
function M.nullable(t)
  return (t:gsub("!$", ""))
end

--- True if the GraphQL type `t` is a list type (`[ID]`, `[ID!]!`, ...).
function M.is_list(t)
  return t:sub(1, 1) == "["
end

--- The value of a list argument as a JSON array (a copy marked with
-- `json.array`, so that an empty list is sent as `[]`). A list must be a
-- proper sequence: keys exactly 1..n (a `json.array` table is one too); a
-- set-style table (`{ [id] = true }`) or a list with holes would silently
-- lose items, so it is refused.
-- @param v table
-- @param name the argument's name, for the message
-- @return json.array table
-- @raise invalid_argument naming the argument when `v` is not a sequence
function M.list_value(v, name)
  local function refuse(why)
    errors.raise("invalid_argument", "'" .. tostring(name) .. "' must be a list (a sequence with keys 1..n), "
      .. why, nil, 0)
  end
  if type(v) ~= "table" then refuse("got a " .. type(v)) end
  local n, count = #v, 0
  for k in pairs(v) do
    if math.type(k) ~= "integer" or k < 1 or k > n then
      refuse("got a table with the key " .. (type(k) == "string" and string.format("%q", k) or tostring(k))
        .. (type(k) == "string" and " (a set? pass the ids as a list)" or " (a list with holes?)"))
    end
    count = count + 1
  end
  if count ~= n then refuse("got a list with holes") end
  local a = {}
  for i = 1, n do a[i] = v[i] end
  return json.array(a)
end

return M
