--- Leveled logging to stderr, as text or JSON lines, with secrets redacted.
--
--   log.configure{ level = "debug", format = "json" }
--   log.warn("retrying", { operation = "GroupUpdate", attempt = 2 })
--
-- Text:  `twingate-lua: warn: retrying attempt=2 operation=GroupUpdate`
-- JSON:  `{"time":"2024-05-01T12:00:00.123Z","level":"warn","msg":"retrying","attempt":2,...}`
--
-- Every line passes through `errors.redact`, so a secret registered with
-- `errors.add_secret` (the API token) never reaches the stream.
local errors = require "twingate.errors"
local json = require "twingate.json"

local M = {}

--- Level names in increasing severity; `quiet` logs nothing.
M.levels = { debug = 10, info = 20, warn = 30, error = 40, quiet = 100 }

-- Wall clock: twingate.sys.time (sub-second) inside the program, os.time
-- on stock Lua. Looked up once, on the first line written.
local clock
local function default_time()
  if not clock then
    local ok, sys = pcall(require, "twingate.sys")
    clock = (ok and type(sys) == "table" and sys.time) or os.time
  end
  return clock()
end

local state = {
  level = M.levels.info,
  level_name = "info",
  format = "text",
  stream = nil, -- nil: io.stderr at write time (tests may swap io.stderr)
  time = default_time,
}

--- Configure logging. Omitted options keep their current value.
-- @param opts table: `level` ("debug"|"info"|"warn"|"error"|"quiet"),
-- `format` ("text"|"json"), `stream` (anything with `:write`, default
-- io.stderr), `time` (function returning wall-clock seconds, for tests)
-- @raise `invalid_argument` on an unknown level or format
function M.configure(opts)
  opts = opts or {}
  if opts.level ~= nil then
    local n = M.levels[opts.level]
    if not n then
      errors.raise("invalid_argument", "unknown log level " .. tostring(opts.level)
        .. " (use debug, info, warn, error or quiet)", nil, 2)
    end
    state.level, state.level_name = n, opts.level
  end
  if opts.format ~= nil then
    if opts.format ~= "text" and opts.format ~= "json" then
      errors.raise("invalid_argument", "unknown log format " .. tostring(opts.format)
        .. " (use text or json)", nil, 2)
    end
    state.format = opts.format
  end
  if opts.stream ~= nil then state.stream = opts.stream end
  if opts.time ~= nil then state.time = opts.time end
end

--- The current settings: `{ level = name, format = ..., stream = ..., time = fn }`.
function M.settings()
  return { level = state.level_name, format = state.format, stream = state.stream or io.stderr,
    time = state.time }
end

--- True if a message at `level` would be written.
-- @param level level name
function M.enabled(level)
  local n = M.levels[level]
  return n ~= nil and n < M.levels.quiet and n >= state.level
end

local function iso_time(t)
  local secs = math.floor(t)
  local ms = math.floor((t - secs) * 1000 + 0.5)
  if ms >= 1000 then secs, ms = secs + 1, 0 end
  return os.date("!%Y-%m-%dT%H:%M:%S", secs) .. string.format(".%03dZ", ms)
end

-- Field values for text lines: bare when simple, quoted and escaped otherwise.
local function text_value(v)
  local s
  local tv = type(v)
  if tv == "number" then
    if math.type(v) == "float" then s = string.format("%.6g", v) else s = tostring(v) end
    return s
  elseif tv == "boolean" or tv == "nil" then
    return tostring(v)
  elseif tv == "table" and not errors.is(v) then
    local ok, enc = pcall(json.encode, v)
    s = ok and enc or tostring(v)
  elseif v == json.null then
    return "null"
  else
    s = tostring(v)
  end
  s = errors.redact(s)
  if s ~= "" and not s:find("[%s\"=\\%c]") then return s end
  s = s:gsub("[\\\"]", "\\%0"):gsub("\n", "\\n"):gsub("\r", "\\r"):gsub("\t", "\\t")
    :gsub("%c", function(c) return string.format("\\x%02x", c:byte()) end)
  return '"' .. s .. '"'
end

local function sorted_keys(fields)
  local keys = {}
  for k in pairs(fields) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  return keys
end

local function field(fields, k)
  local v = fields[k]
  if v == nil then v = fields[tonumber(k)] end
  return v
end

local function format_text(level, msg, fields)
  local parts = { "twingate-lua: " .. level .. ": " .. msg }
  if fields then
    for _, k in ipairs(sorted_keys(fields)) do
      parts[#parts + 1] = k .. "=" .. text_value(field(fields, k))
    end
  end
  return table.concat(parts, " ")
end

local reserved = { time = true, level = true, msg = true }

-- A value JSON can carry (errors and other odd values become strings).
local function json_value(v)
  local tv = type(v)
  if tv == "string" then
    if not utf8.len(v) then v = v:gsub("[\128-\255]", "?") end
    return errors.redact(v)
  elseif tv == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return tostring(v) end
    return v
  elseif tv == "boolean" or v == json.null then
    return v
  elseif tv == "table" and not errors.is(v) then
    return v
  end
  return errors.redact(tostring(v))
end

local function format_json(level, msg, fields)
  local parts = {
    '{"time":' .. json.encode(iso_time(state.time())),
    '"level":' .. json.encode(level),
    '"msg":' .. json.encode(msg),
  }
  if fields then
    for _, k in ipairs(sorted_keys(fields)) do
      local name = reserved[k] and ("_" .. k) or k
      local ok, enc = pcall(json.encode, json_value(field(fields, k)))
      if not ok then enc = json.encode(tostring(field(fields, k))) end
      parts[#parts + 1] = json.encode(name) .. ":" .. enc
    end
  end
  return table.concat(parts, ",") .. "}"
end

local function write(level, msg, fields)
  if M.levels[level] < state.level then return end
  msg = tostring(msg == nil and "" or msg)
  if not utf8.len(msg) then msg = msg:gsub("[\128-\255]", "?") end
  msg = errors.redact(msg)
  local line
  if state.format == "json" then
    local ok, l = pcall(format_json, level, msg, fields)
    line = ok and l or format_json(level, msg, { log_error = tostring(l) })
  else
    line = format_text(level, msg, fields)
  end
  local stream = state.stream or io.stderr
  stream:write(errors.redact(line), "\n")
  if stream.flush then stream:flush() end
end

--- Log at debug level. @param msg text @param fields optional table of key/values
function M.debug(msg, fields) write("debug", msg, fields) end
--- Log at info level. @param msg text @param fields optional table of key/values
function M.info(msg, fields) write("info", msg, fields) end
--- Log at warn level. @param msg text @param fields optional table of key/values
function M.warn(msg, fields) write("warn", msg, fields) end
--- Log at error level. @param msg text @param fields optional table of key/values
function M.error(msg, fields) write("error", msg, fields) end

return M
