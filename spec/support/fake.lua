--- A recording fake transport for unit specs: the client talks to it exactly as to
-- `twingate.transport`, nothing touches the network.
--
--   local fake = require "spec.support.fake"
--   local tg, t = fake.connect(function(body, n, info)
--     return { data = { group = { id = "G1" } } }
--   end)
--   tg.groups:get("G1")
--   t.requests[1].variables       -- { id = "G1" }
--   t.requests[1].info.fields[1]  -- graphql.inspect of the document sent
--
-- A responder is either a function `(body, n, info) -> response`, or a script: a
-- table of responses by request number, with `default` for any other request (its
-- entries may be functions too). A response is `{ data = ..., errors = ... }`
-- (encoded as the JSON body), `{ status = 502, body = "" }` (sent as is), or
-- `{ fail = true, sent = bool, code = n, message = "..." }` (a transport failure).
local graphql = require "twingate.graphql"
local json = require "twingate.json"

local M = {}

--- The endpoint fake clients are connected to (nothing listens there).
M.ENDPOINT = "http://127.0.0.1:9/api/graphql/"

--- The API token fake clients use by default.
M.TOKEN = "tok-xyz-123"

local function pick(respond, body, n, info)
  if type(respond) == "function" then return respond(body, n, info) end
  local r = respond[n]
  if r == nil then r = respond.default end
  if type(r) == "function" then r = r(body, n, info) end
  assert(r, "no scripted response for request " .. n)
  return r
end

--- A fake transport recording every request.
-- @param respond a function `(body, n, info) -> response` or a script table (see above)
-- @return the transport; `t.requests[n]` = `{ raw, query, variables, operation,
--   headers, url, info }` (`variables` is `{}` when none were sent, `info` is
--   `graphql.inspect(query)`)
function M.transport(respond)
  local t = { requests = {} }
  function t:request(req)
    local body = json.decode(req.body)
    local n = #self.requests + 1
    local info = graphql.inspect(body.query)
    self.requests[n] = { raw = req.body, query = body.query, variables = body.variables or {},
      operation = body.operationName, headers = req.headers, url = req.url, info = info }
    local r = pick(respond, body, n, info)
    if r.fail then return nil, r.code or 7, r.message or "Failed to connect", r.sent end
    return { status = r.status or 200, headers = { ["content-type"] = "application/json" },
      body = r.body or json.encode({ data = r.data, errors = r.errors }) }
  end
  return t
end

--- A client connected to a fake transport: no sleeping, no jitter.
-- @param respond a function or a script, as for `transport`
-- @param opts table: options for `twingate.connect`, overriding the defaults
--   (`endpoint`, `api_token`, `transport`, `sleep`, `random`)
-- @return the client and the transport
function M.connect(respond, opts)
  local t = M.transport(respond)
  local o = { endpoint = M.ENDPOINT, api_token = M.TOKEN, transport = t,
    sleep = function() end, random = function() return 0 end }
  for k, v in pairs(opts or {}) do o[k] = v end
  return require("twingate").connect(o), t
end

--- A connection page: nodes get cursors "c1", "c2", ...
-- @param nodes array of nodes
-- @param has_next boolean (default false)
-- @param cursor the page's endCursor (default nil)
-- @return `{ edges = ..., pageInfo = ... }`
function M.conn(nodes, has_next, cursor)
  local edges = {}
  for i, n in ipairs(nodes) do edges[i] = { cursor = "c" .. i, node = n } end
  return { edges = edges, pageInfo = { hasNextPage = has_next or false, endCursor = cursor } }
end

--- A responder answering the first root field of every request with `p`.
-- @param p the payload
-- @return a function for `connect`/`transport`
function M.payload(p)
  return function(_, _, info) return { data = { [info.fields[1].name] = p } } end
end

--- A stream that collects what is written to it (for log.configure{ stream = ... } and
-- main's stderr): `write(...)` (values tostring'd), `flush()`, `text()`, `lines()` (each
-- newline-terminated line, without its newline).
-- @return the buffer
function M.buffer()
  local b = { chunks = {} }
  function b:write(...)
    for _, s in ipairs({ ... }) do self.chunks[#self.chunks + 1] = tostring(s) end
    return self
  end
  function b:flush() return self end
  function b:text() return table.concat(self.chunks) end
  function b:lines()
    local out = {}
    for l in self:text():gmatch("([^\n]*)\n") do out[#out + 1] = l end
    return out
  end
  return b
end

--- A fake environment: a getenv over the table `t`.
-- @param t table name -> value
-- @return function(name) -> value or nil
function M.env(t)
  return function(name) return t[name] end
end

return M
