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
-- * 301/302/303/307/308 with a Location: followed here (the C transport never
--   follows), at most 5 in a row, as the same method with the same body (a
--   POST stays a POST: regional shards answer acme.twingate.com with a
--   redirect to acme.us1.twingate.com); never from https to http; only to the
--   configured host or a host under its parent domain (`*.twingate.com` for
--   `acme.twingate.com`; the same host and port for an IP address or
--   localhost), because the API key goes along. The final endpoint is kept
--   for the client's later requests.
-- * Retry-After above `max_retry_after` (900 s): `rate_limited` at once.
-- * a response body above `max_body` bytes: `http` error, no retry.
-- * with `dry_run`, a write raises `invalid_argument` and nothing is sent.
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
M.MAX_RETRY_AFTER = 900
M.MAX_REDIRECTS = 5

local REDIRECT = { [301] = true, [302] = true, [303] = true, [307] = true, [308] = true }

local function default_random()
  return math.random()
end

-- The host of an URL, for messages (never the path or query).
local function host_of(url)
  return (tostring(url):match("^%a[%w+.-]*://([^/?#]+)") or tostring(url)):gsub("^.*@", "")
end
M.host_of = host_of

-- The URL without user:password@ (for logs).
local function without_userinfo(url)
  local scheme, authority, rest = tostring(url):match("^(%a[%w+.-]*://)([^/?#]*)(.*)$")
  if not scheme then return tostring(url) end
  return scheme .. authority:gsub("^.*@", "") .. rest
end
M.without_userinfo = without_userinfo

-- Split an absolute http(s) URL: scheme, host (lower-cased, no userinfo),
-- port (number, the scheme's default when absent), and the raw authority and rest.
local function parse_url(url)
  local scheme, authority, rest = tostring(url):match("^(%a[%w+.-]*)://([^/?#]*)(.*)$")
  if not scheme then return nil end
  scheme = scheme:lower()
  local hostport = authority:gsub("^.*@", "")
  local host, port
  if hostport:sub(1, 1) == "[" then
    host, port = hostport:match("^(%[[^%]]*%])(.*)$")
  else
    host, port = hostport:match("^([^:]*)(.*)$")
  end
  if not host or host == "" then return nil end
  if port ~= "" then
    port = port:match("^:(%d+)$")
    if not port then return nil end
    port = tonumber(port)
  else
    port = (scheme == "https" and 443) or (scheme == "http" and 80) or nil
  end
  return { scheme = scheme, host = host:lower(), port = port, authority = authority,
    rest = rest }
end
M.parse_url = parse_url

-- An absolute URL for a Location header value relative to `base` (RFC 3986 5.2, the
-- cases servers use: absolute, scheme-relative, absolute path, query, relative path).
local function resolve_location(base, location)
  if location:match("^%a[%w+.-]*:") then return location end
  local b = parse_url(base)
  if not b then return nil end
  local origin = b.scheme .. "://" .. b.authority
  if location:sub(1, 2) == "//" then return b.scheme .. ":" .. location end
  if location:sub(1, 1) == "/" then return origin .. location end
  local path = b.rest:match("^([^?#]*)")
  if location:sub(1, 1) == "?" then return origin .. path .. location end
  local dir = path:match("^(.*/)") or "/"
  return origin .. dir .. location
end
M.resolve_location = resolve_location

local function is_ip_or_local(host)
  return host == "localhost" or host:match("^%d+%.%d+%.%d+%.%d+$") ~= nil
    or host:sub(1, 1) == "["
end

--- Whether the API key may follow a redirect from the configured endpoint to `url`:
-- the same host, or a host under the configured host's parent domain (for an IP
-- address or localhost: the same host and port only).
-- @param configured the configured endpoint URL
-- @param url the redirect target (absolute)
-- @return boolean
function M.key_may_go_to(configured, url)
  local c, t = parse_url(configured), parse_url(url)
  if not c or not t then return false end
  if is_ip_or_local(c.host) or is_ip_or_local(t.host) then
    return c.host == t.host and c.port == t.port
  end
  if t.host == c.host then return true end
  -- The parent domain: drop the first label, but never go up to a bare TLD.
  local parent = c.host
  local _, dots = c.host:gsub("%.", "")
  if dots >= 2 then parent = c.host:match("^[^.]+%.(.+)$") end
  return t.host == parent or t.host:sub(-(#parent + 1)) == "." .. parent
end

--- Create an API endpoint object.
-- @param opts table: `transport` (required; object with `:request(req)`),
-- `endpoint`, `api_token` (required), `timeout` (35), `max_retries` (10),
-- `reads_per_minute`, `writes_per_minute` (nil = no pacing), `now`,
-- `sleep`, `random` (injectable clock, sleep and [0,1) random source),
-- `user_agent`, `log` (a logger with debug/info/warn/error, default twingate.log),
-- `limiter` (a shared ratelimit object instead of a new one),
-- `dry_run` (refuse every write; when nil, the process's --dry-run setting from
-- twingate.main), `max_retry_after` (900: a longer Retry-After raises at once),
-- `max_body` (largest response body in bytes; nil = the transport's default, 256 MiB)
-- @return api object with `:post`, `:close`, `.stats` and `.endpoint` (the current
-- endpoint, updated when the API redirects)
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
  local max_retry_after = opts.max_retry_after == nil and M.MAX_RETRY_AFTER
    or opts.max_retry_after
  if type(max_retry_after) ~= "number" or not (max_retry_after >= 0) then
    errors.raise("invalid_argument", "max_retry_after must be a number of seconds >= 0", nil, 2)
  end
  if opts.max_body ~= nil and (math.type(opts.max_body) ~= "integer" or opts.max_body < 1) then
    errors.raise("invalid_argument", "max_body must be a positive integer (bytes)", nil, 2)
  end
  local dry_run = opts.dry_run
  if dry_run == nil then
    local main = package.loaded["twingate.main"]
    local settings = type(main) == "table" and main.settings
    dry_run = type(settings) == "table" and settings.dry_run or false
  end

  local self = {
    transport = t,
    endpoint = opts.endpoint,
    configured_endpoint = opts.endpoint,
    host = host_of(opts.endpoint),
    timeout = timeout,
    max_retry_after = max_retry_after,
    max_body = opts.max_body,
    dry_run = dry_run and true or false,
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
-- Repeated headers arrive joined ("1, 2"): the largest number wins.
local function retry_after(headers)
  local v = headers and headers["retry-after"]
  if type(v) ~= "string" then return nil end
  local best
  for item in (v .. ","):gmatch("([^,]*),") do
    item = item:match("^%s*(.-)%s*$")
    if item:match("^%d+$") or item:match("^%d*%.%d+$") or item:match("^%d+%.%d*$") then
      local n = tonumber(item)
      if best == nil or n > best then best = n end
    end
  end
  return best
end
M.retry_after = retry_after

-- Is the document's first operation a mutation (comments and blanks skipped)?
local function is_mutation(document)
  local d = document
  repeat
    local before = d
    d = d:gsub("^%s+", ""):gsub("^#[^\n]*", "")
  until d == before
  return d:match("^mutation[%s{(]") ~= nil or d == "mutation"
end

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
  if self.closed then
    errors.raise("config", "the client was closed: connect again to send requests",
      { operation = operation }, 2)
  end
  if self.dry_run and (write or is_mutation(document)) then
    errors.raise("invalid_argument", "dry run: refusing to send mutation "
      .. tostring(operation or document:match("mutation%s+([_%a][_%w]*)") or "(unnamed)"),
      { operation = operation }, 2)
  end
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
    max_body = self.max_body,
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

  local attempt, throttled, redirects = 0, false, 0
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
    local rok, res, code, msg, sent = pcall(self.transport.request, self.transport, req)
    if not rok then
      self.limiter:finish(class)
      if type(res) == "string" and res:find("closed transport", 1, true) then
        self.closed = true
        fail("config", "the client was closed: connect again to send requests")
      end
      error(res, 0)
    end
    local ms = math.floor((self.now() - t0) * 1000 + 0.5)
    self.limiter:finish(class)
    stats.requests = stats.requests + 1
    if write then stats.writes = stats.writes + 1 else stats.reads = stats.reads + 1 end

    local limit = res == nil and type(msg) == "string"
      and msg:match("^response larger than (%d+) bytes")
    if limit then
      local f = { code = code, attempts = attempt }
      if write then
        f.maybe_applied = true
        f.hint = "the change may or may not have been applied; check before retrying"
      end
      fail("http", string.format("the API at %s sent a response larger than %s bytes; "
        .. "refusing to read it", self.host, limit), f)
    elseif res == nil then
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

      local redirect = REDIRECT[status] and type(headers.location) == "string"
      if not redirect then self:remember_endpoint(req.url) end
      if redirect then
        redirects = redirects + 1
        attempt = attempt - 1   -- a redirect is not a retry
        local target = self:redirect_target(req.url, headers.location, redirects, operation, with)
        local nreq = {}
        for k, v in pairs(req) do nreq[k] = v end
        nreq.url = target
        req = nreq
      elseif status == 429 then
        stats.throttled = stats.throttled + 1
        local after = retry_after(headers) or M.DEFAULT_RETRY_AFTER
        if after > self.max_retry_after then
          fail("rate_limited", string.format("the API asked to wait %s seconds before retrying "
            .. "(Retry-After), more than the %s s this client waits", after,
            self.max_retry_after), with{ retry_after = after, attempts = attempt,
            maybe_applied = write and false or nil,
            hint = "run the job later" })
        end
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

-- Check a redirect against the policy and return the absolute URL to follow.
function Api:redirect_target(from, location, count, operation, with)
  local function refuse(msg, hint)
    errors.raise("http", msg, with{ operation = operation, redirects = count,
      hint = hint }, 0)
  end
  local target = resolve_location(from, location)
  local t = target and parse_url(target)
  if not t or (t.scheme ~= "http" and t.scheme ~= "https") then
    refuse(string.format("refused to follow a redirect from %s to a location that is not an "
      .. "http(s) URL", host_of(from)))
  end
  local host = host_of(target)
  if count > M.MAX_REDIRECTS then
    refuse(string.format("too many redirects (more than %d) from %s, the last to %s",
      M.MAX_REDIRECTS, self.host, host), "check TWINGATE_ENDPOINT / TWINGATE_NETWORK")
  end
  local f = parse_url(from)
  if f and f.scheme == "https" and t.scheme ~= "https" then
    refuse(string.format("refused to follow the redirect from https to http (%s): the API key "
      .. "would be sent unencrypted", host))
  end
  if not M.key_may_go_to(self.configured_endpoint, target) then
    refuse(string.format("refused to follow the redirect to %s because the API key would go to "
      .. "another host (the endpoint is %s)", host, host_of(self.configured_endpoint)),
      "set TWINGATE_ENDPOINT (or --endpoint) to the API's real address if you trust it")
  end
  self.log.debug("following a redirect", { operation = operation, to = without_userinfo(target),
    redirects = count })
  return target
end

-- After redirects, keep the final URL as the endpoint of later requests.
function Api:remember_endpoint(url)
  if url ~= self.endpoint then
    self.endpoint = url
    self.host = host_of(url)
    self.log.info("the API redirected; using this endpoint from now on",
      { endpoint = without_userinfo(url) })
  end
end

--- Close the transport (idempotent when the transport's close is); later
-- requests raise a `config` error ("the client was closed").
function Api:close()
  self.closed = true
  if self.transport.close then self.transport:close() end
end

return M
