--- Cursor loops over Relay connections, and nested connections completed in batches.
--
-- Both functions take a `query` function `query(doc, vars) -> data` (the
-- client's `tg:query`), so they stay free of transport and retry concerns.
--
-- `each` follows `pageInfo.endCursor` of the one connection in a document.
-- `complete` turns nested connections of a page of nodes (a group's `users`)
-- into plain arrays holding every item, fetching the missing pages of many
-- nodes at once with aliased fields: about one request per `batch_size`
-- unfinished connections per round, never one request per node.
local errors = require "twingate.errors"
local graphql = require "twingate.graphql"
local json = require "twingate.json"

local M = {}

M.DEFAULT_PAGE_SIZE = 100
M.DEFAULT_BATCH_SIZE = 25

local function is_connection(t)
  return type(t) == "table" and type(t.pageInfo) == "table"
    and (type(t.edges) == "table" or type(t.nodes) == "table")
end

--- Find the shallowest connection (a table with `pageInfo` and `edges`/`nodes`)
-- in a response, breadth first.
-- @param data table
-- @return the connection table or nil
function M.find_connection(data)
  local queue, head = { data }, 1
  while queue[head] do
    local t = queue[head]
    head = head + 1
    if is_connection(t) then return t end
    for _, v in pairs(t) do
      if type(v) == "table" then queue[#queue + 1] = v end
    end
  end
  return nil
end

--- The nodes of a connection page as a plain array, skipping null edges and nodes.
-- @param conn table: `{ edges = { { node = ... }, ... } }` or `{ nodes = {...} }`
-- @return array
function M.nodes(conn)
  local out = {}
  if type(conn.edges) == "table" then
    for _, e in ipairs(conn.edges) do
      if type(e) == "table" and type(e.node) == "table" then out[#out + 1] = e.node end
    end
  elseif type(conn.nodes) == "table" then
    for _, n in ipairs(conn.nodes) do
      if type(n) == "table" then out[#out + 1] = n end
    end
  end
  return out
end

-- The cursor to continue from, or nil when this was the last page.
local function next_cursor(conn, previous)
  local pi = conn.pageInfo
  if pi.hasNextPage ~= true then return nil end
  local c = pi.endCursor
  if type(c) ~= "string" then
    errors.raise("graphql", "the server said hasNextPage but gave no endCursor", nil, 0)
  end
  if c == previous then
    errors.raise("graphql", "the server returned the same endCursor twice (" .. c .. "); stopping", nil, 0)
  end
  return c
end

local function copy(t)
  local c = {}
  for k, v in pairs(t or {}) do c[k] = v end
  return c
end

--- Iterate over every node of the connection in `doc`, page after page.
-- The document must declare `$after: String` and pass it to the connection;
-- when it declares `$first` and `vars.first` is nil, `first` is the page size.
-- @param query function(doc, vars) -> data
-- @param doc string
-- @param vars table or nil
-- @param opts `{ page_size = 100, on_page = function(nodes) end }`; `on_page`
--   sees each page's nodes before they are yielded (to complete nested lists)
-- @return iterator yielding node tables
function M.each(query, doc, vars, opts)
  opts = opts or {}
  local info = graphql.inspect(doc)
  if info.type ~= "query" then
    errors.raise("invalid_argument", "each() needs a query document, got a " .. info.type, nil, 2)
  end
  if not info.variables.after then
    errors.raise("invalid_argument",
      "each() needs a document that declares `$after: String` and passes it to the connection", nil, 2)
  end
  local size = opts.page_size
  if size ~= nil and (math.type(size) ~= "integer" or size < 1) then
    errors.raise("invalid_argument", "each(): page_size must be a positive integer, got " .. tostring(size), nil, 2)
  end
  vars = copy(vars)
  if info.variables.first and vars.first == nil then
    vars.first = opts.page_size or M.DEFAULT_PAGE_SIZE
  end
  local buf, i, done = {}, 1, false
  return function()
    while i > #buf do
      if done then return nil end
      local data = query(doc, copy(vars))
      local conn = type(data) == "table" and M.find_connection(data)
      if not conn then
        -- e.g. group(id:) returned null: nothing to iterate
        done = true
        return nil
      end
      buf, i = M.nodes(conn), 1
      local c = next_cursor(conn, vars.after)
      if c then vars.after = c else done = true end
      if opts.on_page and #buf > 0 then opts.on_page(buf) end
    end
    local node = buf[i]
    buf[i] = nil
    i = i + 1
    return node
  end
end

--- Complete nested connections of `nodes`, in place, with batched follow-up queries.
--
-- Each spec names one nested connection:
--   { key = "users",              -- response key of the connection in each node
--     field = "users",            -- its field name (default: key)
--     get_field = "group",        -- root field fetching one node by id
--     id_type = "ID!",            -- type of that field's `id` argument
--     selection = "edges { node { id email } } pageInfo { hasNextPage endCursor }" }
-- After the call `node[key]` is a plain array (json.array) of every item
-- (null items skipped). Nodes whose connection was not in the response are left alone.
-- @param query function(doc, vars) -> data
-- @param nodes array of node tables (each with `id`)
-- @param specs array of specs
-- @param opts `{ page_size = 100, batch_size = 25, name = "CompleteConnections" }`
-- @return nodes
function M.complete(query, nodes, specs, opts)
  opts = opts or {}
  local page_size = opts.page_size or M.DEFAULT_PAGE_SIZE
  local batch_size = opts.batch_size or M.DEFAULT_BATCH_SIZE
  local pending = {}
  for _, node in ipairs(nodes) do
    for _, spec in ipairs(specs) do
      local conn = node[spec.key]
      if is_connection(conn) then
        node[spec.key] = json.array(M.nodes(conn))
        local c = next_cursor(conn, nil)
        if c then
          if node.id == nil then
            errors.raise("invalid_argument", "cannot complete `" .. spec.key .. "`: the node has no id selected", nil, 0)
          end
          pending[#pending + 1] = { node = node, spec = spec, after = c }
        end
      end
    end
  end
  while #pending > 0 do
    local later = {}
    for from = 1, #pending, batch_size do
      local items = {}
      for k = from, math.min(from + batch_size - 1, #pending) do
        local p = pending[k]
        local s = p.spec
        items[#items + 1] = {
          template = s.get_field .. "(id: $id) { " .. (s.field or s.key)
            .. "(first: $first, after: $after) { " .. s.selection .. " } }",
          types = { id = s.id_type or "ID!", after = "String" },
          values = { id = p.node.id, after = p.after },
          pending = p,
        }
      end
      local doc, vars, aliases = graphql.batch{
        type = "query", name = opts.name or "CompleteConnections", prefix = "n",
        shared = { first = "Int" }, shared_values = { first = page_size }, items = items,
      }
      local data = query(doc, vars)
      for idx, item in ipairs(items) do
        local p = item.pending
        local obj = type(data) == "table" and data[aliases[idx]]
        local conn = type(obj) == "table" and obj[p.spec.field or p.spec.key]
        -- a node deleted meanwhile comes back null: keep what was read
        if is_connection(conn) then
          local list = p.node[p.spec.key]
          for _, n in ipairs(M.nodes(conn)) do list[#list + 1] = n end
          local c = next_cursor(conn, p.after)
          if c then
            p.after = c
            later[#later + 1] = p
          end
        end
      end
    end
    pending = later
  end
  return nodes
end

return M
