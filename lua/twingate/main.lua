--- The process in Lua: settings, logging, running the script, the exit code.
--
-- src/main.c parses argv and calls
--
--   require("twingate.main").run(flags, kind, script, args, interp)
--
-- and exits with the integer it returns (see HACKING.md "Exit codes").
local errors = require "twingate.errors"
local config = require "twingate.config"

local M = {}

M.PROGNAME = "twingate-lua"

--- The settings of the running process (set by `run`; nil before).
M.settings = nil

-- Write one line on the error stream, with every registered secret redacted;
-- line breaks in the message are escaped so it stays one line.
local function say(stream, s)
  s = errors.redact(tostring(s)):gsub("\r", "\\r"):gsub("\n", "\\n")
  stream:write(M.PROGNAME, ": ", s, "\n")
  stream:flush()
end

-- tostring for any error value, as lua.c's msghandler does.
local function error_text(e)
  if type(e) == "string" then return e end
  local mt = getmetatable(e)
  if type(mt) == "table" and mt.__tostring then return tostring(e) end
  if type(e) == "number" or type(e) == "boolean" or e == nil then return tostring(e) end
  return "(error object is a " .. type(e) .. " value)"
end

-- Report a fatal error: one `twingate-lua: ...` line in text format, one JSON
-- object (time, level "error", msg, kind, exit_code, ...) in json format.
local function fatal(stream, e, code, format, traceback)
  if format ~= "json" then
    say(stream, type(e) == "string" and e or error_text(e))
    if traceback then
      stream:write(errors.redact(traceback), "\n")
      stream:flush()
    end
    return
  end
  local log = require "twingate.log"
  local saved = log.settings()
  log.configure{ format = "json", stream = stream, level = "debug" }
  local fields = { exit_code = code }
  local msg
  if errors.is(e) then
    msg = e.message
    fields.kind = e.kind
    for _, k in ipairs({ "hint", "status", "operation", "request_id", "field" }) do
      if type(e[k]) == "string" or type(e[k]) == "number" then fields[k] = e[k] end
    end
  else
    msg = error_text(e)
    fields.kind = "error"
  end
  fields.traceback = traceback
  log.error(msg, fields)
  log.configure{ format = saved.format, stream = saved.stream, level = saved.level }
end

-- The log format asked for, even when the settings could not be resolved.
local function wanted_format(flags, getenv)
  local f = (flags or {}).log_format
  if f == nil then f = (getenv or os.getenv)("TWINGATE_LOG_FORMAT") end
  return f == "json" and "json" or "text"
end

-- Load the script as a text chunk. Returns chunk, or nil, message, exit code.
local function load_script(kind, script)
  if kind == "code" then
    local chunk, err = load(script, "=(command line)", "t")
    if not chunk then return nil, err, 1 end
    return chunk
  elseif kind == "stdin" then
    local chunk, err = loadfile(nil, "t")
    if not chunk then return nil, err, 1 end
    return chunk
  elseif kind == "file" then
    local f, oerr = io.open(script, "rb")
    if not f then
      return nil, "cannot open script " .. tostring(oerr), 2
    end
    -- A directory opens but does not read.
    local ok, rerr = f:read(0)
    f:close()
    if ok == nil and rerr then
      return nil, "cannot read script " .. script .. ": " .. tostring(rerr), 2
    end
    local chunk, err = loadfile(script, "t")
    if not chunk then return nil, err, 1 end
    return chunk
  end
  return nil, "unknown script kind " .. tostring(kind), 2
end

-- The global `arg` as lua.c builds it: arg[0] the script ("-" for stdin,
-- "-e" for code), arg[1..] its arguments, arg[-n..-1] the interpreter and
-- options before it.
local function make_arg(kind, script, args, interp)
  local t = {}
  for i, v in ipairs(interp or {}) do t[i - #interp - 1] = v end
  t[0] = (kind == "code" and "-e") or (kind == "stdin" and "-") or script
  for i, v in ipairs(args or {}) do t[i] = v end
  return t
end

-- The exit code for what the main chunk returned.
local function result_code(r)
  if r == nil or r == true then return 0 end
  if r == false then return 1 end
  if math.type(r) == "integer" then
    if r < 0 or r > 255 then return 1 end
    return r
  end
  return 0
end

-- The signal that interrupted the script, or nil: the error object raised
-- for it ({ interrupted = true, signal = N }), or the pending signal of
-- twingate.interrupt (the C side; absent on plain lua5.4).
local function interrupted_signal(results, iface)
  local e = not results[1] and type(results[2]) == "table" and results[2].err or nil
  if type(e) == "table" and e.interrupted == true and math.type(e.signal) == "integer" then return e.signal end
  iface = iface or package.loaded["twingate.interrupt"]
  local sig = iface and iface.pending and iface.pending()
  if math.type(sig) == "integer" then return sig end
  return nil
end

--- Run a script as the process does and return the exit code.
-- @param flags table of command-line flags (see twingate.config.resolve)
-- @param kind "file", "code" (-e) or "stdin"
-- @param script the path, the code, or "-"
-- @param args array of the script's arguments (become `arg[1..]` and `...`)
-- @param interp optional array: argv before the script (become `arg[-n..-1]`)
-- @param opts optional: `getenv` (default os.getenv), `stderr` (default
--   io.stderr), `exit` (the real os.exit; tests pass a fake), `interrupt`
--   (default package.loaded["twingate.interrupt"], set up by src/main.c:
--   `pending()` -> signal number). Sets io.stdout to line buffering.
--   An interrupted script (SIGINT/SIGTERM) exits 128 + the signal number
--   (130, 143) with "interrupted (SIGINT)" on stderr, unless twingate.plan
--   already said what was applied.
-- @return integer exit code (0 done, 1 script failed, 2 usage/config, ... see
--   errors.kinds)
function M.run(flags, kind, script, args, interp, opts)
  opts = opts or {}
  local stderr = opts.stderr or io.stderr
  local log = require "twingate.log"

  local warnings = {}
  local ok, settings = pcall(config.resolve, flags or {}, opts.getenv or os.getenv, {
    warn = function(msg, fields) warnings[#warnings + 1] = { msg, fields } end,
  })
  if not ok then
    local code = errors.exit_code(settings) == 1 and 1 or 2
    fatal(stderr, settings, code, wanted_format(flags, opts.getenv))
    return code
  end

  M.settings = settings
  -- stdout line by line even when redirected: in a cron log (stdout and
  -- stderr to one file) the plan comes before the log lines of its results
  io.stdout:setvbuf("line")
  log.configure{ level = settings.log_level, format = settings.log_format, stream = opts.stderr }
  for _, w in ipairs(warnings) do log.warn(w[1], w[2]) end
  log.debug("settings", {
    endpoint = config.display_endpoint(settings.endpoint), token = settings.api_token_source,
    dry_run = settings.dry_run, timeout = settings.timeout,
  })

  local cok, cerr = pcall(function() require("twingate").configure(settings) end)
  if not cok then
    fatal(stderr, cerr, errors.exit_code(cerr), settings.log_format)
    return errors.exit_code(cerr)
  end

  local chunk, lerr, lcode = load_script(kind, script)
  if not chunk then
    fatal(stderr, lerr, lcode, settings.log_format)
    return lcode
  end

  -- os.exit from a script closes the Lua state first (so every __gc and
  -- close runs, and leak checkers see nothing), after flushing stdout.
  local saved_exit, saved_arg = os.exit, rawget(_G, "arg")
  local real_exit = opts.exit or os.exit
  os.exit = function(code, _)
    io.stdout:flush()
    return real_exit(code, true)
  end
  _G.arg = make_arg(kind, script, args, interp)

  local verbose = settings.verbose > 0
  local function handler(e)
    if not verbose then return { err = e } end
    -- Only the script's frames: cut at the xpcall that runs it.
    local tb = debug.traceback(nil, 2)
    tb = tb:match("^(.-)\n%s*%[C%]: in function 'xpcall'") or tb
    return { err = e, traceback = tb }
  end
  local results = table.pack(xpcall(chunk, handler, table.unpack(args or {}, 1, #(args or {}))))
  os.exit, _G.arg = saved_exit, saved_arg
  io.stdout:flush()

  -- SIGINT/SIGTERM (src/main.c): exit 128 + N, whatever the script made of
  -- the error (a library pcall may have caught it); say so unless twingate.plan
  -- already reported what was applied
  local sig = interrupted_signal(results, opts.interrupt)
  if sig then
    local e = not results[1] and results[2].err or nil
    if not (type(e) == "table" and e.interrupted and e.reported) then
      local iface = opts.interrupt or package.loaded["twingate.interrupt"]
      local name = iface and iface.signal_name and iface.signal_name(sig) or ("signal " .. sig)
      say(stderr, "interrupted (" .. name .. ")")
    end
    return 128 + sig
  end

  if results[1] then return result_code(results[2]) end
  local failure = results[2]
  local code = errors.exit_code(failure.err)
  fatal(stderr, failure.err, code, settings.log_format, failure.traceback)
  return code
end

return M
