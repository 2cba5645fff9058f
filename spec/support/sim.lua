--- Start and drive the local Twingate simulator (spec/sim/server.mjs) from
-- busted specs. Pure Lua 5.4 + cjson; shells out to `node` and `curl`.
--
--   local sim = require "spec.support.sim"
--   local s = sim.start{ token = "t", seed = { users = { ... } }, rate_limit = "off" }
--   local status, body = s:graphql("{ users { totalCount } }")
--   s:requests()  s:reset()  s:fault{ status = 503 }  s:clear_faults()
--   local writes, aliases, fields = s:count("mutation")
--   sim.suite{ seed = seed_fn, started = function(x) s = x end }   -- in a describe block
--   s:load(s:state())          -- lossless: empty lists stay lists
--   s:load(s:state_text())     -- byte for byte
--   s:stop()
local cjson = require "cjson"
local json = require "twingate.json"

local M = {}

local Sim = {}
Sim.__index = Sim

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

--- The repository root (where spec/ lives), from this file's own path.
-- @return string
function M.root()
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  local root = src:match("^(.*)/spec/support/sim%.lua$")
  if root then return root end
  if src == "spec/support/sim.lua" then return "." end
  return "."
end

--- Start a simulator on a free port.
-- @param opts table: `token` (default "test-token"), `seed` (a file path, or a
--   Lua table written to a temporary JSON file), `rate_limit` ("R:W", "off"
--   or false for off; default the server's 60:20), `latency_ms`, `page_max`,
--   `state` (file path), `time_scale`.
-- @return the simulator object (`.url`, `.base`, `.token`, `.pid`)
-- @raise a string error when the server does not start
function M.start(opts)
  opts = opts or {}
  local self = setmetatable({ token = opts.token or "test-token", tmp = {} }, Sim)
  local seed = opts.seed
  if type(seed) == "table" then
    seed = os.tmpname()
    self.tmp[#self.tmp + 1] = seed
    write_file(seed, cjson.encode(opts.seed))
  end
  local args = { "node", q(M.root() .. "/spec/sim/server.mjs"), "--port", "0", "--token", q(self.token) }
  local function add(flag, v)
    if v ~= nil then
      args[#args + 1] = flag
      args[#args + 1] = q(v)
    end
  end
  add("--seed", seed)
  if opts.rate_limit == false then add("--rate-limit", "off") else add("--rate-limit", opts.rate_limit) end
  add("--latency-ms", opts.latency_ms)
  add("--page-max", opts.page_max)
  add("--state", opts.state)
  add("--time-scale", opts.time_scale)
  self.stderr = os.tmpname()
  self.tmp[#self.tmp + 1] = self.stderr
  local cmd = "echo $$; exec " .. table.concat(args, " ") .. " 2>" .. q(self.stderr)
  self.proc = assert(io.popen("sh -c " .. q(cmd), "r"))
  self.pid = tonumber(self.proc:read("l"))
  local url = self.proc:read("l")
  if not (self.pid and url and url:match("^http://127%.0%.0%.1:%d+/api/graphql/$")) then
    local err = read_file(self.stderr) or ""
    self:stop()
    error("simulator did not start: " .. (url or "") .. " " .. err, 2)
  end
  self.url = url
  self.base = url:match("^(http://[^/]+)")
  return self
end

--- One HTTP request to the simulator with curl.
-- @param req table: `path` (default the GraphQL path), `method` (default
--   POST when `body` is given, else GET), `body` (string), `headers` (table),
--   `timeout` (seconds, default 30)
-- @return table `{ status = n|nil, headers = {lower-case names}, body = s,
--   curl_exit = n }`; status is nil when no response came (dropped socket)
function Sim:request(req)
  local bodyfile, headfile, reqfile = os.tmpname(), os.tmpname(), os.tmpname()
  local cmd = { "curl", "-s", "-o", q(bodyfile), "-D", q(headfile), "-w", "'%{http_code}'",
                "--max-time", tostring(req.timeout or 30) }
  local method = req.method or (req.body and "POST" or "GET")
  cmd[#cmd + 1] = "-X " .. method
  for k, v in pairs(req.headers or {}) do cmd[#cmd + 1] = "-H " .. q(k .. ": " .. v) end
  if req.body then
    write_file(reqfile, req.body)
    cmd[#cmd + 1] = "--data-binary @" .. q(reqfile)
  end
  cmd[#cmd + 1] = q(self.base .. (req.path or "/api/graphql/"))
  local p = io.popen(table.concat(cmd, " ") .. "; echo \" $?\"", "r")
  local out = p:read("a")
  p:close()
  local code, exit = out:match("^(%d+) (%d+)")
  local res = { status = tonumber(code), curl_exit = tonumber(exit), headers = {}, body = read_file(bodyfile) or "" }
  if res.status == 0 then res.status = nil end
  for line in (read_file(headfile) or ""):gmatch("[^\r\n]+") do
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k then res.headers[k:lower()] = v end
  end
  os.remove(bodyfile); os.remove(headfile); os.remove(reqfile)
  return res
end

--- Send a GraphQL document with the simulator's token (or `opts.token`).
-- @param query string
-- @param variables table or nil
-- @param opts table or nil: `token`, `operation_name`, `headers`
-- @return status (nil if dropped), decoded body (or the raw text when not
--   JSON), the full response table
function Sim:graphql(query, variables, opts)
  opts = opts or {}
  local headers = { ["Content-Type"] = "application/json" }
  if opts.token ~= false then headers["X-API-KEY"] = opts.token or self.token end
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  local payload = { query = query, variables = variables, operationName = opts.operation_name }
  local res = self:request{ body = cjson.encode(payload), headers = headers }
  local ok, decoded = pcall(cjson.decode, res.body)
  return res.status, ok and decoded or res.body, res
end

local function control(self, method, path, body)
  local res = self:request{ method = method, path = path, body = body and cjson.encode(body) or nil }
  if res.status ~= 200 then
    error(("simulator %s %s: %s %s"):format(method, path, tostring(res.status), res.body), 3)
  end
  return cjson.decode(res.body)
end

--- The request log: array of `{ seq, operation, type, status, fields,
-- aliases, variables, time, fault }` (cjson.null for JSON nulls).
function Sim:requests() return control(self, "GET", "/_sim/requests") end

--- Clear the request log (and the rate-limit windows).
function Sim:reset() return control(self, "POST", "/_sim/reset") end

--- Queue a fault rule (see spec/sim/README.md), e.g. `{ status = 503, count = 2 }`.
function Sim:fault(rule) return control(self, "POST", "/_sim/fault", rule) end

--- Remove every queued fault rule.
function Sim:clear_faults() return control(self, "DELETE", "/_sim/fault") end

-- cjson 2.1.0 decodes `[]` and `{}` alike (an empty table that encodes as
-- `{}`). To read a state back losslessly, empty arrays outside strings are
-- replaced by a one-item array holding this marker before decoding, and the
-- marked tables become empty tables with json.array_mt afterwards.
local EMPTY = "\0twingate-sim:empty-array\0"
local EMPTY_JSON = '["\\u0000twingate-sim:empty-array\\u0000"]'

local function mark_empty_arrays(text)
  local out, last, i = {}, 1, 1
  while true do
    local p = text:find('["%[]', i)
    if not p then break end
    if text:byte(p) == 34 then -- '"': skip the string and its escapes
      local j = p + 1
      while true do
        local e = text:find('["\\]', j)
        if not e then return text end -- unterminated: let cjson report it
        if text:byte(e) == 92 then j = e + 2 else i = e + 1; break end
      end
    else
      local after = text:match("^%[%s*%]()", p)
      if after then
        out[#out + 1] = text:sub(last, p - 1)
        out[#out + 1] = EMPTY_JSON
        last, i = after, after
      else
        i = p + 1
      end
    end
  end
  out[#out + 1] = text:sub(last)
  return table.concat(out)
end

local function unmark(v)
  if type(v) ~= "table" then return v end
  if v[1] == EMPTY and v[2] == nil then return json.array() end
  for k, x in pairs(v) do
    if type(x) == "table" then v[k] = unmark(x) end
  end
  return v
end

--- Decode JSON text keeping the difference between `[]` (an empty table
-- marked with `json.array`, so it encodes back as `[]`) and `{}`; nulls are
-- `cjson.null` (kept as keys), numbers as cjson gives them.
-- @param text JSON text
-- @return value
function M.decode_lossless(text)
  return unmark(cjson.decode(mark_empty_arrays(text)))
end

--- The whole simulator state as a table (`{ version, next, tables = { users =
-- {...}, ... } }`); empty JSON arrays are `json.array` tables, so
-- `s:load(s:state())` gives the same state back.
function Sim:state() return M.decode_lossless(self:state_text()) end

--- The whole simulator state as the simulator's JSON text (for byte-exact
-- saving and `s:load(text)`).
-- @raise a string error when the simulator does not answer 200
function Sim:state_text()
  local res = self:request{ method = "GET", path = "/_sim/state" }
  if res.status ~= 200 then
    error(("simulator GET /_sim/state: %s %s"):format(tostring(res.status), res.body), 2)
  end
  return res.body
end

--- Replace the state with a seed or a state dump: a table (encoded with
-- twingate.json, so `json.array` tables, as `state()` returns them, stay
-- `[]`) or JSON text (sent as it is, e.g. from `state_text()`).
-- @return `{ ok = true }`
-- @raise a string error with the simulator's status and message (400 for a
--   malformed document or unknown references)
function Sim:load(seed_or_state)
  local body = seed_or_state
  if type(body) ~= "string" then body = json.encode(body == nil and {} or body) end
  local res = self:request{ method = "POST", path = "/_sim/state", body = body }
  if res.status ~= 200 then
    error(("simulator POST /_sim/state: %s %s"):format(tostring(res.status), res.body), 2)
  end
  return cjson.decode(res.body)
end

--- Count the logged requests of one type.
-- @param kind "query" or "mutation"
-- @return requests of that type, their root fields in all (the log's `aliases`:
--   a batch of N aliased mutations counts N), and root field name -> times sent
function Sim:count(kind)
  local n, aliases, fields = 0, 0, {}
  for _, r in ipairs(self:requests()) do
    if r.type == kind then
      n = n + 1
      aliases = aliases + (r.aliases or 0)
      for _, f in ipairs(r.fields or {}) do fields[f] = (fields[f] or 0) + 1 end
    end
  end
  return n, aliases, fields
end

--- Run the current `describe` block against one simulator, with busted hooks:
-- `setup` starts it, `teardown` stops it (then runs `opts.teardown`), and
-- `before_each` clears its faults, loads `opts.seed()` (when given), runs
-- `opts.prepare(s)` (when given) and clears its request log.
--
--   local s
--   describe("scripts/x.lua #integration", function()
--     sim.suite{ seed = seed, teardown = cli.cleanup, started = function(x) s = x end }
--
-- @param opts table, all optional: `start` (options for `start`; default
--   `{ rate_limit = "off", page_max = 100 }`), `seed` (function returning the seed
--   loaded before each test; without it the tenant carries over from test to test),
--   `prepare` (function(s) before each test, after the seed), `started`
--   (function(s), called once the simulator runs: the spec keeps it), `teardown`
--   (function run after the simulator stops, e.g. `cli.cleanup`)
-- @return function returning the running simulator (nil before setup)
function M.suite(opts)
  opts = opts or {}
  local busted = require "busted"
  local s
  busted.setup(function()
    s = M.start(opts.start or { rate_limit = "off", page_max = 100 })
    if opts.started then opts.started(s) end
  end)
  busted.teardown(function()
    if s then s:stop() end
    if opts.teardown then opts.teardown() end
  end)
  busted.before_each(function()
    s:clear_faults()
    if opts.seed then s:load(opts.seed()) end
    if opts.prepare then opts.prepare(s) end
    s:reset()
  end)
  return function() return s end
end

--- Stop the server (SIGTERM, then wait for it). Safe to call more than once.
function Sim:stop()
  if self.proc then
    if self.pid then os.execute("kill " .. self.pid .. " 2>/dev/null") end
    self.proc:close()
    self.proc = nil
  end
  for _, p in ipairs(self.tmp) do os.remove(p) end
  self.tmp = {}
end

Sim.__gc = Sim.stop
Sim.__close = Sim.stop

return M
