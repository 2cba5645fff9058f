--- Settings of the process: command-line flags + environment (flags win).
--
--   local settings = config.resolve(flags, os.getenv)
--
-- `flags` is the table built by src/main.c (values as strings, as typed);
-- `getenv` is `os.getenv` or a fake for tests. Every bad value raises a
-- `config` error naming the flag or variable and what it expects; the token
-- is registered with `errors.add_secret` and never appears in a message.
local errors = require "twingate.errors"

local M = {}

--- Defaults of every setting that has one.
M.defaults = {
  url = "twingate.com",
  timeout = 35,
  max_retries = 10,
  log_format = "text",
  reads_per_minute = 60,
  writes_per_minute = 20,
  page_size = 100,
  max_page_size = 1000,
}

-- One setting: its flag key, flag spelling and environment variable.
local function source(flags, getenv, key, flag, env)
  local v = flags[key]
  if v ~= nil then return v, flag end
  v = getenv(env)
  if v ~= nil and v ~= "" then return v, env end
  return nil
end

local function bad(where, expected, value)
  errors.raise("config", string.format("%s must be %s, got %q", where, expected,
    tostring(value)), nil, 3)
end

local function number_setting(flags, getenv, key, flag, env, opts)
  local raw, where = source(flags, getenv, key, flag, env)
  if raw == nil then return opts.default end
  local n = math.tointeger(raw) or tonumber(raw)
  if type(raw) == "string" and not raw:match("^%s*[%d%.eE+-]+%s*$") then n = nil end
  if n == nil or n ~= n or n == math.huge or n == -math.huge then
    bad(where, opts.expected, raw)
  end
  if opts.integer then
    n = math.tointeger(n)
    if not n then bad(where, opts.expected, raw) end
  end
  if (opts.min and n < opts.min) or (opts.above and n <= opts.above)
    or (opts.max and n > opts.max) then
    bad(where, opts.expected, raw)
  end
  return n
end

local truthy = { ["1"] = true, ["true"] = true, yes = true, on = true }
local falsy = { ["0"] = false, ["false"] = false, no = false, off = false, [""] = false }

local function bool_setting(flags, getenv, key, flag, env)
  if flags[key] ~= nil then return flags[key] and true or false end
  local raw = getenv(env)
  if raw == nil then return false end
  local v = raw:lower()
  if truthy[v] then return true end
  if falsy[v] == false then return false end
  bad(env, "one of 1/0, true/false, yes/no, on/off", raw)
end

-- "60:20" -> 60, 20, 60; "60:20/3" -> 60, 20, 3 (a 3-second window, for a simulator
-- whose time runs faster); "off" -> nil, nil, nil.
local function rate_limit(flags, getenv)
  local raw, where = source(flags, getenv, "rate_limit", "--rate-limit", "TWINGATE_RATE_LIMIT")
  if raw == nil then return M.defaults.reads_per_minute, M.defaults.writes_per_minute, 60 end
  if raw:lower() == "off" then return nil, nil, nil end
  local r, w, win = raw:match("^%s*(%d+%.?%d*)%s*:%s*(%d+%.?%d*)%s*/?%s*(%d*%.?%d*)%s*$")
  r, w = tonumber(r), tonumber(w)
  win = (win == nil or win == "") and 60 or tonumber(win)
  if not r or not w or not win or r <= 0 or w <= 0 or win <= 0 then
    bad(where, "READS:WRITES per minute (positive numbers, e.g. 60:20), optionally /SECONDS for another window, or off", raw)
  end
  return r, w, win
end

local function endpoint_for(network, url, where)
  if not network:match("^[%w][%w%-%.]*$") or network:find("..", 1, true) then
    bad(where, "a network name (letters, digits, '-', or a full host name)", network)
  end
  if not url:match("^[%w][%w%-%.]*[%w]$") then
    bad("--url/TWINGATE_URL", "a domain such as twingate.com", url)
  end
  local host = network:find(".", 1, true) and network or (network .. "." .. url)
  return "https://" .. host .. "/api/graphql/"
end

-- The user:password@ part of an URL's authority, or nil.
local function userinfo_of(url)
  local authority = tostring(url):match("^%a[%w+.-]*://([^/?#]*)")
  return authority and authority:match("^(.*)@")
end

--- The endpoint as it may be shown or logged: without user:password@.
-- @param url string (or nil)
-- @return string (or nil)
function M.display_endpoint(url)
  if type(url) ~= "string" then return url end
  local scheme, authority, rest = url:match("^(%a[%w+.-]*://)([^/?#]*)(.*)$")
  if not scheme then return url end
  return scheme .. authority:gsub("^.*@", "") .. rest
end

local function check_endpoint(endpoint, where)
  -- A password in the endpoint (proxy or basic auth) is a secret like the token.
  local userinfo = userinfo_of(endpoint)
  if userinfo then
    errors.add_secret(userinfo)
    local password = userinfo:match("^[^:]*:(.*)$")
    if password and password ~= "" then
      errors.add_secret(password)
      errors.add_secret((password:gsub("%%(%x%x)", function(h)
        return string.char(tonumber(h, 16))
      end)))
    end
  end
  if not endpoint:match("^https?://[^/%s]+") or endpoint:find("%s") then
    bad(where, "an http:// or https:// URL", endpoint)
  end
  return endpoint
end

-- The endpoint: a flag (endpoint, then network) beats any variable.
local function resolve_endpoint(flags, getenv, url)
  if flags.endpoint then return check_endpoint(flags.endpoint, "--endpoint"), nil end
  if flags.network then return endpoint_for(flags.network, url, "--network"), flags.network end
  local e = getenv("TWINGATE_ENDPOINT")
  if e and e ~= "" then return check_endpoint(e, "TWINGATE_ENDPOINT"), nil end
  local n = getenv("TWINGATE_NETWORK")
  if n and n ~= "" then return endpoint_for(n, url, "TWINGATE_NETWORK"), n end
  return nil, nil
end

local function read_token_file(path, opts)
  local f, err = io.open(path, "rb")
  if not f then
    errors.raise("config", "cannot read the API token file " .. path .. ": "
      .. tostring(err):gsub("^" .. path:gsub("%p", "%%%0") .. ": ", ""), nil, 4)
  end
  local content, rerr = f:read("a")
  f:close()
  if not content then
    errors.raise("config", "cannot read the API token file " .. path .. ": " .. tostring(rerr),
      nil, 4)
  end
  local token = content:match("^%s*(.-)%s*$")
  if token == "" then
    errors.raise("config", "the API token file " .. path .. " is empty", nil, 4)
  end
  if token:find("[%c%s]") then
    -- Never quote the content: it is a secret, even when malformed.
    errors.raise("config", "the API token file " .. path
      .. " must hold only the token, on one line", nil, 4)
  end
  local mode = opts.file_mode(path)
  if mode and mode & 63 ~= 0 then -- 0077: group or others have some access
    opts.warn(string.format("the API token file %s is readable by others (mode %04o); "
      .. "run chmod 600 %s", path, mode, path), { path = path })
  end
  return token
end

local function default_file_mode(path)
  local ok, sys = pcall(require, "twingate.sys")
  if ok and type(sys) == "table" and sys.file_mode then return sys.file_mode(path) end
  return nil
end

local function default_warn(msg, fields)
  require("twingate.log").warn(msg, fields)
end

-- flag file > TWINGATE_API_TOKEN > TWINGATE_API_TOKEN_FILE
local function resolve_token(flags, getenv, opts)
  if flags.api_token_file then
    return read_token_file(flags.api_token_file, opts),
      "--api-token-file " .. flags.api_token_file
  end
  local t = getenv("TWINGATE_API_TOKEN")
  if t and t ~= "" then
    t = t:match("^%s*(.-)%s*$")
    if t:find("[%c%s]") then
      errors.raise("config", "TWINGATE_API_TOKEN must hold only the token, on one line", nil, 3)
    end
    return t, "TWINGATE_API_TOKEN"
  end
  local path = getenv("TWINGATE_API_TOKEN_FILE")
  if path and path ~= "" then
    return read_token_file(path, opts), "TWINGATE_API_TOKEN_FILE " .. path
  end
  return nil, nil
end

--- Resolve the settings from flags and the environment.
-- @param flags table from main.c: network, url, endpoint, api_token_file, dry_run,
--   timeout, max_retries, verbose, quiet, log_format, rate_limit, page_size
--   (only those given; values as strings, verbose an integer count)
-- @param getenv function(name) -> string or nil (default `os.getenv`)
-- @param opts optional table: `warn(msg, fields)` for warnings (default
--   `twingate.log.warn`), `file_mode(path)` (default `twingate.sys.file_mode`)
-- @return settings table: endpoint, network, url, api_token, api_token_source,
--   dry_run, timeout, max_retries, verbose, quiet, log_format, log_level,
--   reads_per_minute, writes_per_minute, page_size
-- @raise `config` error naming the flag or variable that is wrong
function M.resolve(flags, getenv, opts)
  flags = flags or {}
  getenv = getenv or os.getenv
  opts = opts or {}
  opts = {
    warn = opts.warn or default_warn,
    file_mode = opts.file_mode or default_file_mode,
  }
  local s = {}

  s.url = source(flags, getenv, "url", "--url", "TWINGATE_URL") or M.defaults.url
  s.endpoint, s.network = resolve_endpoint(flags, getenv, s.url)

  s.api_token, s.api_token_source = resolve_token(flags, getenv, opts)
  if s.api_token then errors.add_secret(s.api_token) end

  s.dry_run = bool_setting(flags, getenv, "dry_run", "--dry-run", "TWINGATE_DRY_RUN")
  s.timeout = number_setting(flags, getenv, "timeout", "--timeout", "TWINGATE_HTTP_TIMEOUT", {
    default = M.defaults.timeout, above = 0, max = 86400,
    expected = "a number of seconds greater than 0",
  })
  s.max_retries = number_setting(flags, getenv, "max_retries", "--max-retries",
    "TWINGATE_HTTP_MAX_RETRY", {
      default = M.defaults.max_retries, integer = true, min = 0, max = 1000,
      expected = "a whole number from 0 to 1000",
    })
  s.page_size = number_setting(flags, getenv, "page_size", "--page-size", "TWINGATE_PAGE_SIZE", {
    default = M.defaults.page_size, integer = true, min = 1, max = M.defaults.max_page_size,
    expected = "a whole number from 1 to " .. M.defaults.max_page_size,
  })
  s.reads_per_minute, s.writes_per_minute, s.rate_window = rate_limit(flags, getenv)

  local verbose = flags.verbose or 0
  if math.type(verbose) ~= "integer" or verbose < 0 then
    bad("--verbose", "a count", verbose)
  end
  s.verbose = math.min(verbose, 2)
  s.quiet = flags.quiet and true or false
  if s.quiet and s.verbose > 0 then
    errors.raise("config", "--quiet and --verbose cannot be used together", nil, 2)
  end

  local fmt, where = source(flags, getenv, "log_format", "--log-format", "TWINGATE_LOG_FORMAT")
  if fmt ~= nil and fmt ~= "text" and fmt ~= "json" then
    bad(where, "text or json", fmt)
  end
  s.log_format = fmt or M.defaults.log_format
  s.log_level = s.quiet and "warn" or (s.verbose > 0 and "debug" or "info")
  return s
end

return M
