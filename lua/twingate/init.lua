--- The `twingate` module: connect to the Admin API and talk to it.
--
--   local twingate = require "twingate"
--   local tg = twingate.connect()               -- settings from the command line / environment
--   local data = tg:query(doc, vars)            -- GraphQL variables only
--   local data = tg:mutate(doc, vars, opts)     -- honours --dry-run, never resent blindly
--   for node in tg:each(doc, vars) do ... end   -- every page of the connection in doc
--   tg.groups, tg.users, tg.remote_networks     -- collections (see collections.lua)
--   tg.stats                                    -- request counters of the http layer
--
-- Collections are created on first use from `twingate.kinds` (name -> module);
-- a new kind of object is one more entry there and one small definition module.
local errors = require "twingate.errors"
local graphql = require "twingate.graphql"
local json = require "twingate.json"
local log = require "twingate.log"
local paginate = require "twingate.paginate"

local M = {}

--- Version of the module (and of the twingate-lua program).
M.version = "0.1.0"

--- Send this in an input or variables to send an explicit JSON null.
M.null = json.null

--- The error module (kinds, `errors.is`, exit codes).
M.errors = errors

--- Exit codes of the command line (HACKING.md): `none` (6) is "nothing done":
-- every change a bulk job attempted failed (as `plan.exit.none`).
M.exit = { ok = 0, failed = 1, usage = 2, partial = 3, auth = 4, unavailable = 5, none = 6 }

--- Collections by client field name -> module name. Each module returns a
-- table with `new(client)`. Add entries here to grow the API (issue 3).
M.kinds = {
  access_requests = "twingate.access_requests",
  certificate_authorities = "twingate.certificate_authorities",
  connectors = "twingate.connectors",
  devices = "twingate.devices",
  dlp_policies = "twingate.dlp_policies",
  dns_filtering_profiles = "twingate.dns_filtering_profiles",
  gateways = "twingate.gateways",
  groups = "twingate.groups",
  remote_networks = "twingate.remote_networks",
  resources = "twingate.resources",
  security_policies = "twingate.security_policies",
  serial_numbers = "twingate.serial_numbers",
  service_account_keys = "twingate.service_account_keys",
  service_accounts = "twingate.service_accounts",
  users = "twingate.users",
  webhooks = "twingate.webhooks",
}

-- Lazily loaded sibling modules: twingate.csv, .plan, .protocols, .text.
local lazy = { csv = "twingate.csv", plan = "twingate.plan", protocols = "twingate.protocols",
  text = "twingate.text" }
setmetatable(M, {
  __index = function(t, k)
    local name = lazy[k]
    if name then
      local mod = require(name)
      rawset(t, k, mod)
      return mod
    end
    return nil
  end,
})

local configured -- settings given by main.lua through configure()

--- Store the resolved settings (called by main.lua); `connect` starts from them.
-- @param settings table from `config.resolve`
function M.configure(settings)
  if settings ~= nil and type(settings) ~= "table" then
    errors.raise("invalid_argument", "twingate.configure expects a settings table", nil, 2)
  end
  configured = settings
end

--- The settings `connect` starts from (configured, else from the environment).
function M.settings()
  if configured then return configured end
  local ok, config = pcall(require, "twingate.config")
  if ok and type(config) == "table" and config.resolve then
    return config.resolve({}, os.getenv)
  end
  -- Without config.lua (should not happen in the program): the plain variables.
  local s = {
    api_token = os.getenv("TWINGATE_API_TOKEN"),
    endpoint = os.getenv("TWINGATE_ENDPOINT"),
    dry_run = false,
  }
  local network = os.getenv("TWINGATE_NETWORK")
  if not s.endpoint and network and network ~= "" then
    s.endpoint = M.endpoint_for(network, os.getenv("TWINGATE_URL"))
  end
  return s
end

--- The GraphQL endpoint of a network (`acme` -> https://acme.twingate.com/api/graphql/).
-- A network name containing a dot is taken as the full host.
-- @param network string
-- @param url base domain (default "twingate.com")
function M.endpoint_for(network, url)
  local host = network:find(".", 1, true) and network or (network .. "." .. (url or "twingate.com"))
  return "https://" .. host .. "/api/graphql/"
end

local Client = {}
M.Client = Client

Client.__index = function(self, k)
  local v = Client[k]
  if v ~= nil then return v end
  local mod = M.kinds[k]
  if mod then
    local c = require(mod).new(self)
    rawset(self, k, c)
    return c
  end
  return nil
end

local function default_transport(timeout)
  local ok, transport = pcall(require, "twingate.transport")
  if not ok or type(transport) ~= "table" or not transport.new then
    errors.raise("config", "the HTTP transport (C module twingate.transport) is not available",
      { hint = "run scripts with the twingate-lua program, not plain lua5.4, or pass connect{ transport = ... }" }, 0)
  end
  return transport.new{ user_agent = "twingate-lua/" .. M.version, connect_timeout = 10, timeout = timeout }
end

--- Connect to the Admin API.
-- @param opts optional table overriding the settings: `network`, `url`, `endpoint`,
--   `api_token`, `timeout`, `max_retries`, `reads_per_minute`, `writes_per_minute`,
--   `dry_run` (may switch dry run on, never off when the settings have it on),
--   `page_size` (100), `batch_size` (25, aliased fields per batched read),
--   `verify_grace` (seconds to keep checking a create that may have been
--   applied before resending it; default TWINGATE_VERIFY_GRACE, else
--   max(timeout, 10)), and for tests `transport`, `now`, `sleep`, `random`
-- @return client
-- @raise `config` when no endpoint or token is set, or there is no transport
function M.connect(opts)
  if opts ~= nil and type(opts) ~= "table" then
    errors.raise("invalid_argument", "twingate.connect expects an options table", nil, 2)
  end
  opts = opts or {}
  local base = M.settings() or {}
  local s = {}
  for k, v in pairs(base) do s[k] = v end
  for k, v in pairs(opts) do s[k] = v end
  -- --dry-run / TWINGATE_DRY_RUN cannot be switched off from a script
  s.dry_run = (base.dry_run or opts.dry_run) and true or false
  if opts.network and not opts.endpoint then
    s.endpoint = M.endpoint_for(opts.network, opts.url or base.url)
  end
  if type(s.endpoint) ~= "string" or s.endpoint == "" then
    errors.raise("config", "no Twingate network given: set TWINGATE_NETWORK (or --network NAME), "
      .. "or TWINGATE_ENDPOINT (or --endpoint URL)", nil, 2)
  end
  if type(s.api_token) ~= "string" or s.api_token == "" then
    errors.raise("config", "no API token given: set TWINGATE_API_TOKEN, or TWINGATE_API_TOKEN_FILE "
      .. "(or --api-token-file PATH)", nil, 2)
  end
  errors.add_secret(s.api_token)
  local timeout = s.timeout or 35
  local transport = opts.transport or default_transport(timeout)
  local api = require("twingate.http").new{
    transport = transport, endpoint = s.endpoint, api_token = s.api_token,
    timeout = timeout, max_retries = s.max_retries == nil and 10 or s.max_retries,
    reads_per_minute = s.reads_per_minute, writes_per_minute = s.writes_per_minute,
    rate_window = s.rate_window, now = s.now, sleep = s.sleep, random = s.random,
    user_agent = "twingate-lua/" .. M.version, dry_run = s.dry_run,
  }
  local page_size = s.page_size or paginate.DEFAULT_PAGE_SIZE
  local batch_size = s.batch_size or paginate.DEFAULT_BATCH_SIZE
  if math.type(page_size) ~= "integer" or page_size < 1 then
    errors.raise("invalid_argument", "page_size must be a positive integer", nil, 2)
  end
  if math.type(batch_size) ~= "integer" or batch_size < 1 then
    errors.raise("invalid_argument", "batch_size must be a positive integer", nil, 2)
  end
  local verify_grace = s.verify_grace
  if verify_grace == nil then verify_grace = tonumber(os.getenv("TWINGATE_VERIFY_GRACE") or "") end
  if verify_grace ~= nil and (type(verify_grace) ~= "number" or verify_grace < 0) then
    errors.raise("invalid_argument", "verify_grace must be a number of seconds >= 0", nil, 2)
  end
  local now, sleep = s.now, s.sleep
  if not now or not sleep then
    local dnow, dsleep = require("twingate.ratelimit").default_clock()
    now, sleep = now or dnow, sleep or dsleep
  end
  local self = {
    api = api,
    timeout = timeout,
    verify_grace = verify_grace,
    now = now,
    sleep = sleep,
    stats = api.stats,
    endpoint = s.endpoint,
    dry_run = s.dry_run and true or false,
    page_size = page_size,
    batch_size = batch_size,
    dry_run_count = 0,
  }
  return setmetatable(self, Client)
end

local function operation_of(info)
  return info.name or (info.fields[1] and info.fields[1].name) or "anonymous"
end

--- Run a query.
-- @param doc GraphQL query document
-- @param vars variables table (values only ever travel here)
-- @return the response's data table
-- @raise `invalid_argument` for a mutation document; the http layer's errors
function Client:query(doc, vars)
  local info = graphql.inspect(doc)
  if info.type ~= "query" then
    errors.raise("invalid_argument", "tg:query got a " .. info.type .. " document"
      .. (info.type == "mutation" and "; use tg:mutate for changes" or ""), nil, 2)
  end
  return self.api:post(doc, vars, { write = false, operation = operation_of(info) })
end

--- Iterate over every node of the (single) connection in a query document.
-- The document declares `$after: String` (and usually `$first: Int`, set to the
-- page size unless given).
-- @param doc string
-- @param vars table or nil
-- @param opts `{ page_size = n, on_page = fn(nodes) }`
-- @return iterator of nodes
function Client:each(doc, vars, opts)
  opts = opts or {}
  return paginate.each(function(d, v) return self:query(d, v) end, doc, vars,
    { page_size = opts.page_size or self.page_size, on_page = opts.on_page })
end

local function synthetic(info)
  local data = {}
  for _, f in ipairs(info.fields) do data[f.key] = { ok = true, dry_run = true } end
  return data
end

local function does_not_exist(text)
  return type(text) == "string" and text:lower():find("does not exist", 1, true) ~= nil
end
M.does_not_exist = does_not_exist

--- Run a mutation.
-- With --dry-run (settings.dry_run) nothing is sent: the mutation is logged as
-- planned and a synthetic result is returned, each root field being
-- `{ ok = true, dry_run = true }`.
-- When the request fails in a way that may have applied it (`err.maybe_applied`):
-- `opts.verify()` is asked first (it returns a data table when the change is
-- already there, nil when not), now and then again with backoff 0.5, 1, 2,
-- 4 s over a grace window (`verify_grace`: connect option or
-- TWINGATE_VERIFY_GRACE, default max(timeout, 10 s); the server may still be
-- processing the request), and only when still absent after it the mutation
-- is sent once more (logged at warn);
-- `opts.idempotent` resends it (safe for set edits and plain field updates);
-- otherwise the error propagates: a mutation is never resent blindly.
-- @param doc GraphQL mutation document
-- @param vars variables
-- @param opts `{ idempotent = bool, verify = fn, delete = bool (a "does not exist"
--   payload after a resend counts as done), raise = false (return failed payloads
--   instead of raising), operation = name }`
-- @return data table
-- @raise `mutation` (with `field`, `payload_error`, `data`) when a payload has ok == false
function Client:mutate(doc, vars, opts)
  opts = opts or {}
  local info = graphql.inspect(doc)
  if info.type ~= "mutation" then
    errors.raise("invalid_argument", "tg:mutate got a " .. info.type .. " document; use tg:query to read",
      nil, 2)
  end
  local op = opts.operation or operation_of(info)
  if self.dry_run then
    local ok, text = pcall(json.encode, vars or {})
    log.info("dry-run: " .. op .. " not sent", { operation = op,
      variables = errors.redact(ok and text or "(unencodable)") })
    return synthetic(info)
  end
  local api = self.api
  local max_attempts = opts.verify and 2 or (opts.idempotent and 3 or 1)
  local attempt, resent, data = 0, false, nil
  while true do
    attempt = attempt + 1
    local ok, res = pcall(api.post, api, doc, vars, { write = true, operation = op })
    if ok then
      data = res
      break
    end
    if not (errors.is(res) and res.maybe_applied) then error(res, 0) end
    if opts.verify then
      -- The server may still be processing the request we gave up on: check
      -- over a grace window before sending it again.
      local batch = require "twingate.batch"
      local grace = batch.verify_grace(self)
      local found
      local function check()
        local okv, v = pcall(opts.verify)
        if not okv then
          log.warn("checking whether a failed mutation was applied failed", { operation = op, error = tostring(v) })
          error(res, 0)
        end
        found = v
        return v ~= nil
      end
      if batch.poll(check, grace, self.now, self.sleep) then
        log.info("the change was applied although the request failed", { operation = op })
        return found
      end
      if attempt >= max_attempts then error(res, 0) end
      log.warn(string.format("resending %s: the request may have been applied but the change was still "
        .. "not there after checking for %g s", op, grace), { operation = op, error = res.message,
        attempt = attempt + 1 })
    else
      if attempt >= max_attempts then error(res, 0) end
      log.warn("resending a mutation that did not go through", { operation = op,
        error = res.message, attempt = attempt + 1 })
    end
    resent = true
  end
  if opts.raise ~= false then
    for _, f in ipairs(info.fields) do
      local p = data[f.key]
      if type(p) == "table" and p.ok == false then
        if resent and opts.delete and does_not_exist(p.error) then
          p.ok, p.already_done = true, true
        else
          errors.raise("mutation", op .. ": " .. f.key .. " failed: " .. tostring(p.error or "no reason given"),
            { field = f.key, payload_error = p.error, data = data, operation = op }, 0)
        end
      end
    end
  end
  return data
end

--- The OIDC provider URL for the audit-log sync (root field eventsSyncOidcProviderUrl).
-- @return string
function Client:events_sync_oidc_provider_url()
  local data = self:query("query EventsSyncOidcProviderUrl { eventsSyncOidcProviderUrl }", {})
  return data.eventsSyncOidcProviderUrl
end

--- Close the connection (the transport's handle).
function Client:close()
  self.api:close()
end

return M
