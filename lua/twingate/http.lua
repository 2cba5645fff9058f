--- One API round trip: pacing, retries, and HTTP status -> error mapping.
--
--   local api = require("twingate.http").new{
--     transport = t, endpoint = url, api_token = tok,
--     timeout = 35, max_retries = 10,
--     reads_per_minute = 60, writes_per_minute = 20,  -- nil = no pacing
--   }
--   local data = api:post(document, variables, { write = false, operation = "Groups" })
--
-- Policy (API-NOTES.md):
-- * transport failure: reads retry with exponential backoff and full jitter;
--   writes retry only when no byte was sent (`sent == false`);
-- * 429: wait `Retry-After` seconds (default 60), retry reads and writes
--   (a throttled request was not processed);
-- * 5xx: reads retry with backoff; writes do not (the server may have applied
--   them): `http` error with `maybe_applied = true`;
-- * 401/403 -> `auth`; 404 or a non-JSON body -> `http` with a hint about the
--   network name / endpoint; 400 or 200 with `errors` -> `graphql`.
-- The token is registered with `errors.add_secret` and never logged.
local errors = require "twingate.errors"
local json = require "twingate.json"
local log = require "twingate.log"
local ratelimit = require "twingate.ratelimit"

local M = {}

local Api = {}
Api.__index = Api

M.BACKOFF_BASE = 0.5
M.BACKOFF_CAP = 30
M.DEFAULT_RETRY_AFTER = 60

local function default_random()
  return math.random()
end

-- The host of an URL, for messages (never the path or query).
local function host_of(url)
  return (tostring(url):match("^%a[%w+.-]*://([^/?#]+)") or tostring(url)):gsub("^.*@", "")
end
M.host_of = host_of

--- Create an API endpoint object.
-- @param opts table: `transport` (required; object with `:request(req)`),
-- `endpoint`, `api_token` (required), `timeout` (35), `max_retries` (10),
-- `reads_per_minute`, `writes_per_minute` (nil = no pacing), `now`,
-- `sleep`, `random` (injectable clock, sleep and [0,1) random source),
-- `user_agent`, `log` (a logger with debug/info/warn/error, default twingate.log),
-- `limiter` (a shared ratelimit object instead of a new one)
-- @return api object with `:post` and `.stats`
-- @raise `config` when endpoint or token are missing; `invalid_argument` on a bad option
function M.new(opts)
  if type(opts) ~= "table" then
    errors.raise("invalid_argument", "http.new expects an options table", nil, 2)
  end
  local t = opts.transport
  if (type(t) ~= "table" and type(t) ~= "userdata") or not t.request then
    errors.raise("invalid_argument", "http.new: transport must be an object with a request method",
      nil, 2)
  end
  if type(opts.endpoint) ~= "string" or opts.endpoint == "" then
    errors.raise("config", "no API endpoint: set TWINGATE_NETWORK (or --network), "
      .. "or TWINGATE_ENDPOINT (or --endpoint)", nil, 2)
  end
  if type(opts.api_token) ~= "string" or opts.api_token == "" then
    errors.raise("config", "no API token: set TWINGATE_API_TOKEN or TWINGATE_API_TOKEN_FILE "
      .. "(or --api-token-file)", nil, 2)
  end
  errors.add_secret(opts.api_token)

  local now, sleep = opts.now, opts.sleep
  if not now or not sleep then
    local dnow, dsleep = ratelimit.default_clock()
    now, sleep = now or dnow, sleep or dsleep
  end
  local max_retries = opts.max_retries == nil and 10 or opts.max_retries
  if math.type(max_retries) ~= "integer" or max_retries < 0 then
    errors.raise("invalid_argument", "max_retries must be an integer >= 0", nil, 2)
  end
  local timeout = opts.timeout == nil and 35 or opts.timeout
  if type(timeout) ~= "number" or timeout <= 0 then
    errors.raise("invalid_argument", "timeout must be a positive number of seconds", nil, 2)
  end

  local self = {
    transport = t,
    endpoint = opts.endpoint,
    host = host_of(opts.endpoint),
    timeout = timeout,
    max_retries = max_retries,
    now = now,
    sleep = sleep,
    random = opts.random or default_random,
    log = opts.log or log,
    user_agent = opts.user_agent,
    limiter = opts.limiter or ratelimit.new{
      reads_per_minute = opts.reads_per_minute,
      writes_per_minute = opts.writes_per_minute,
      window = opts.rate_window,
      now = now, sleep = sleep,
    },
    stats = { requests = 0, reads = 0, writes = 0, retries = 0, throttled = 0, waited = 0 },
  }
  -- The token lives in a closure, not in a field a script could print.
  local token = opts.api_token
  self.headers = function()
    local h = {
      ["Content-Type"] = "application/json",
      ["Accept"] = "application/json",
      ["X-API-KEY"] = token,
    }
    if self.user_agent then h["User-Agent"] = self.user_agent end
    return h
  end
  return setmetatable(self, Api)
end

-- Header names lower-cased (the C transport already does; fakes may not).
local function lower_keys(h)
  local out = {}
  if type(h) == "table" then
    for k, v in pairs(h) do out[tostring(k):lower()] = v end
  end
  return out
end

-- Parse Retry-After: seconds (integer or fractional); anything else -> nil.
local function retry_after(headers)
  local v = headers and headers["retry-after"]
  if type(v) ~= "string" then return nil end
  v = v:match("^%s*(.-)%s*$")
  if v:match("^%d+$") or v:match("^%d*%.%d+$") or v:match("^%d+%.%d*$") then
    return tonumber(v)
  end
  return nil
end
M.retry_after = retry_after

-- Does the document define an operation with this name?
local function defines_operation(document, name)
  if type(name) ~= "string" or not name:match("^[_%a][_%w]*$") then return false end
  for _, kw in ipairs({ "query", "mutation", "subscription" }) do
    if document:find("%f[%w_]" .. kw .. "%s+" .. name .. "%f[^%w_]") then return true end
  end
  return false
end

-- A GraphQL error message from the `errors` array.
local function graphql_message(errs)
  local msgs = {}
  for i, e in ipairs(errs) do
    if i > 3 then
      msgs[#msgs + 1] = string.format("(and %d more)", #errs - 3)
      break
    end
    local m = type(e) == "table" and e.message or e
    msgs[#msgs + 1] = tostring(m)
  end
  if #msgs == 0 then return "the API returned an error" end
  return table.concat(msgs, "; ")
end
M.graphql_message = graphql_message

-- Exponential backoff with full jitter for retry number `n` (1-based).
function Api:backoff(n)
  local ceiling = math.min(M.BACKOFF_CAP, M.BACKOFF_BASE * 2 ^ (n - 1))
  return self.random() * ceiling
end

function Api:wait(seconds)
  if seconds > 0 then
    self.sleep(seconds)
    self.stats.waited = self.stats.waited + seconds
  end
end

local function is_html(res)
  local ct = res.headers and res.headers["content-type"] or ""
  if ct:lower():find("html", 1, true) then return true end
  local body = res.body or ""
  return body:match("^%s*<") ~= nil
end

--- Send one GraphQL request and return its `data`.
-- @param document GraphQL document text
-- @param variables table of variables (or nil)
-- @param opts table: `write` (true for mutations: never retried unless
-- provably not processed), `operation` (name for logs and errors; sent as
-- operationName when the document defines an operation of that name)
-- @return the response's `data` table
-- @raise `transport`, `http`, `auth`, `rate_limited` or `graphql` errors,
-- each with `operation`, `status` (when there was one) and `request_id`
-- (when the response had an `x-request-id` header)
function Api:post(document, variables, opts)
  opts = opts or {}
  if type(document) ~= "string" or document == "" then
    errors.raise("invalid_argument", "post expects a GraphQL document string", nil, 2)
  end
  if variables ~= nil and type(variables) ~= "table" then
    errors.raise("invalid_argument", "GraphQL variables must be a table", nil, 2)
  end
  local write = opts.write and true or false
  local class = write and "write" or "read"
  local operation = opts.operation
  local payload = { query = document }
  if variables ~= nil and next(variables) ~= nil then payload.variables = variables end
  if defines_operation(document, operation) then payload.operationName = operation end
  local body = json.encode(payload)
  local req = {
    url = self.endpoint,
    method = "POST",
    headers = self.headers(),
    body = body,
    timeout = self.timeout,
    -- a write on a fresh connection: libcurl never silently resends it (transport.c)
    fresh_connect = write,
  }
  local stats = self.stats
  local lg = self.log
  local function fail(kind, msg, fields)
    local f = { operation = operation }
    for k, v in pairs(fields or {}) do f[k] = v end
    errors.raise(kind, msg, f, 0)
  end

  local attempt, throttled = 0, false
  while true do
    attempt = attempt + 1
    local paced = self.limiter:acquire(class)
    if paced > 0 then
      stats.waited = stats.waited + paced
      local f = { operation = operation, class = class, seconds = paced }
      if throttled then lg.debug("waited after a 429", f)
      elseif paced >= 5 then lg.info("paced to stay under the rate limit", f)
      else lg.debug("paced to stay under the rate limit", f) end
    end
    throttled = false
    local t0 = self.now()
    local res, code, msg, sent = self.transport:request(req)
    local ms = math.floor((self.now() - t0) * 1000 + 0.5)
    self.limiter:finish(class)
    stats.requests = stats.requests + 1
    if write then stats.writes = stats.writes + 1 else stats.reads = stats.reads + 1 end

    if res == nil then
      local can_retry = (not write) or sent == false
      lg.debug("request failed", { operation = operation, class = class, attempt = attempt,
        ms = ms, code = code, error = msg, sent = sent })
      if can_retry and attempt <= self.max_retries then
        local d = self:backoff(attempt)
        stats.retries = stats.retries + 1
        lg.warn("could not reach the API, retrying", { operation = operation, class = class,
          error = msg, attempt = attempt, wait = d })
        self:wait(d)
      else
        local text = string.format("could not reach the API at %s: %s", self.host,
          tostring(msg or "unknown error"))
        if attempt > 1 then text = text .. string.format(" (after %d attempts)", attempt) end
        local f = { code = code, attempts = attempt }
        if write then
          f.maybe_applied = sent ~= false
          if f.maybe_applied then
            f.hint = "the change may or may not have been applied; check before retrying"
          end
        end
        fail("transport", text, f)
      end
    else
      local status = res.status
      local headers = lower_keys(res.headers)
      local request_id = headers["x-request-id"]
      local rbody = res.body or ""
      lg.debug("request", { operation = operation, class = class, status = status, ms = ms,
        bytes = #rbody, attempt = attempt })
      local common = { status = status, request_id = request_id }
      local function with(f)
        for k, v in pairs(common) do if f[k] == nil then f[k] = v end end
        return f
      end

      if status == 429 then
        stats.throttled = stats.throttled + 1
        local after = retry_after(headers) or M.DEFAULT_RETRY_AFTER
        -- Hold every request back, also when giving up: a script that
        -- catches the error and goes on must not hammer the API.
        self.limiter:penalize(after)
        if attempt <= self.max_retries then
          stats.retries = stats.retries + 1
          lg.warn("rate limited by the API (429), waiting", { operation = operation,
            class = class, seconds = after, attempt = attempt })
          throttled = true
        else
          fail("rate_limited", string.format("the API kept answering 429 Too Many Requests "
            .. "(%d attempts)", attempt), with{ retry_after = after, attempts = attempt,
            maybe_applied = write and false or nil,
            hint = "lower the request rate (reads/writes per minute) or run the job later" })
        end
      elseif status == 401 or status == 403 then
        fail("auth", string.format("the API refused the token (HTTP %d) at %s", status, self.host),
          with{ hint = "check TWINGATE_API_TOKEN (or --api-token-file) and that the API key "
            .. "has the permissions this job needs" })
      elseif status == 404 then
        fail("http", string.format("the endpoint %s answered 404 Not Found", self.host),
          with{ hint = "the network name or endpoint is probably wrong" })
      elseif status >= 500 then
        if not write and attempt <= self.max_retries then
          local d = self:backoff(attempt)
          stats.retries = stats.retries + 1
          lg.warn("server error, retrying", { operation = operation, class = class,
            status = status, attempt = attempt, wait = d })
          self:wait(d)
        else
          local text = string.format("the API answered HTTP %d", status)
          local f = { attempts = attempt }
          if write then
            f.maybe_applied = true
            f.hint = "the change may or may not have been applied; check before retrying"
          elseif attempt > 1 then
            text = text .. string.format(" (after %d attempts)", attempt)
          end
          fail("http", text, with(f))
        end
      else
        -- A JSON answer is expected from here on.
        if is_html(res) then
          fail("http", string.format("the endpoint %s answered HTTP %d with an HTML page, "
            .. "not JSON", self.host, status),
            with{ hint = "the network name or endpoint is probably wrong" })
        end
        local ok, decoded = pcall(json.decode, rbody)
        if not ok or type(decoded) ~= "table" then
          fail("http", string.format("the endpoint %s answered HTTP %d with a body that is not "
            .. "JSON (%d bytes, starting %q)", self.host, status, #rbody, json.excerpt(rbody)),
            with{ hint = "the network name or endpoint is probably wrong" })
        end
        local errs = decoded.errors
        if type(errs) == "table" and next(errs) ~= nil then
          fail("graphql", graphql_message(errs), with{ errors = errs, data = decoded.data })
        end
        if status ~= 200 and (status < 200 or status >= 300) then
          fail("http", string.format("the API answered HTTP %d", status), with{})
        end
        if type(decoded.data) ~= "table" then
          fail("http", string.format("the API answered HTTP %d without data", status), with{})
        end
        if attempt > 1 then
          lg.info("request succeeded after retrying", { operation = operation, class = class,
            attempts = attempt })
        end
        return decoded.data
      end
    end
  end
end

--- Close the transport (idempotent when the transport's close is).
function Api:close()
  if self.transport.close then self.transport:close() end
end

return M
