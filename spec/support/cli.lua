--- Run the built binary from integration specs (usually against a simulator from
-- spec.support.sim) and the small file and shell helpers that go with it.
--
--   local cli = require "spec.support.cli"
--   local code, out, err = cli.run({ "scripts/export.lua", "users" }, cli.against(s))
--   local code, out, err = cli.run({ "-e", "print(1)" }, { env = { X = "1" }, stdin = "" })
--   local run = cli.script_runner{ token = TOKEN, prelude = true }
--   local code, out, err = run(s, "print(#tg.groups:list())", "--dry-run")
--   cli.count(s:requests(), function(r) return r.type == "mutation" end)
--   local sending = cli.kill_when_sending(cli.command(args, opts), journal, 2)
--
-- The binary is TWINGATE_LUA_BIN (default build/twingate-lua), made absolute against
-- the current directory, so a spec may run it from another directory (`cwd`).
local M = {}

--- Quote a value for sh (single quotes).
-- @param s any value (tostring'd)
-- @return string
function M.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- The whole content of a file, or "" when it cannot be opened.
-- @param path string
-- @return string
function M.slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

--- Write `content` to `path` (binary), replacing it.
-- @param path string
-- @param content string
-- @return path
function M.write_file(path, content)
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
  return path
end

--- A new temporary file holding `content` (not removed by `cleanup()`).
-- @param content string
-- @return its path
function M.tmpfile(content)
  return M.write_file(os.tmpname(), content)
end

local temps = {}

--- A temporary file name, removed by `cleanup()`.
-- @return string
function M.tmpname()
  local p = os.tmpname()
  temps[#temps + 1] = p
  return p
end

--- A fresh temporary path that does not exist yet, ending in `suffix` (e.g. ".csv",
-- ".jsonl": for a file the binary must create), removed by `cleanup()`.
-- @param suffix optional string
-- @return string
function M.tmppath(suffix)
  local p = os.tmpname()
  os.remove(p)
  p = p .. (suffix or "")
  temps[#temps + 1] = p
  return p
end

--- Remove every file `tmpname()` handed out so far (missing ones are ignored).
function M.cleanup()
  for i = #temps, 1, -1 do
    os.remove(temps[i])
    temps[i] = nil
  end
end

--- The current directory.
-- @return string
function M.cwd()
  local p = assert(io.popen("pwd"))
  local dir = p:read("l")
  p:close()
  return dir
end

--- The binary under test: TWINGATE_LUA_BIN or build/twingate-lua, as an absolute path.
-- @return string
function M.bin()
  local bin = os.getenv("TWINGATE_LUA_BIN") or "build/twingate-lua"
  if bin:sub(1, 1) ~= "/" then bin = M.cwd() .. "/" .. bin end
  return bin
end

--- The environment variables the binary reads its settings from (`clean = true` unsets them).
M.SETTINGS_ENV = {
  "TWINGATE_NETWORK", "TWINGATE_URL", "TWINGATE_ENDPOINT", "TWINGATE_API_TOKEN",
  "TWINGATE_API_TOKEN_FILE", "TWINGATE_HTTP_TIMEOUT", "TWINGATE_HTTP_MAX_RETRY",
  "TWINGATE_DRY_RUN", "TWINGATE_LOG_FORMAT", "TWINGATE_RATE_LIMIT", "TWINGATE_PAGE_SIZE",
  "TWINGATE_LUA_DIR",
}

--- Run the binary with `args` and wait for it.
-- @param args array of arguments (each quoted)
-- @param opts table, all optional:
--   `clean` (true: unset every SETTINGS_ENV variable first), `unset` (more names to unset),
--   `sim` (a simulator: sets TWINGATE_ENDPOINT to its url and TWINGATE_API_TOKEN to
--   `token` or its token), `token`, `env` (name -> value, applied last),
--   `stdin` (string fed to stdin; default empty), `cwd` (run there),
--   `merge_stderr` (true: stderr goes into stdout, in order; the third result is "")
-- @return exit code, stdout, stderr
function M.run(args, opts)
  opts = opts or {}
  local errfile, infile = os.tmpname(), os.tmpname()
  M.write_file(infile, opts.stdin or "")
  local cmd = M.command(args, opts) .. " <" .. M.quote(infile)
    .. (opts.merge_stderr and " 2>&1" or " 2>" .. M.quote(errfile))
  if opts.cwd then cmd = "cd " .. M.quote(opts.cwd) .. " && " .. cmd end
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  local _, _, code = p:close()
  local err = M.slurp(errfile)
  os.remove(errfile)
  os.remove(infile)
  return code, out, err
end

--- The shell command `run` runs (environment and binary, each argument quoted), without
-- redirections or `cwd`: for a spec that runs it itself (in the background, under a
-- pseudo-terminal).
-- @param args array of arguments
-- @param opts as for `run` (`clean`, `unset`, `sim`, `token`, `env`)
-- @return string
function M.command(args, opts)
  opts = opts or {}
  local parts = { "env" }
  if opts.clean then
    for _, name in ipairs(M.SETTINGS_ENV) do parts[#parts + 1] = "-u " .. name end
  end
  for _, name in ipairs(opts.unset or {}) do parts[#parts + 1] = "-u " .. name end
  if opts.sim then
    parts[#parts + 1] = "TWINGATE_ENDPOINT=" .. M.quote(opts.sim.url)
    parts[#parts + 1] = "TWINGATE_API_TOKEN=" .. M.quote(opts.token or opts.sim.token)
  end
  local names = {}
  for k in pairs(opts.env or {}) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do parts[#parts + 1] = k .. "=" .. M.quote(opts.env[k]) end
  parts[#parts + 1] = M.quote(M.bin())
  for _, a in ipairs(args) do parts[#parts + 1] = M.quote(a) end
  return table.concat(parts, " ")
end

--- Options for `run`/`command` running a script against simulator `s` as the script
-- specs do: every settings variable unset (`clean`), the simulator's endpoint and
-- token, the rate limit off, and the working tree's modules (TWINGATE_LUA_DIR=<cwd>/lua).
-- @param s a simulator (or any table with `url` and `token`)
-- @param opts optional: `embedded` (true: the binary's own modules, no
--   TWINGATE_LUA_DIR), `env` (more variables, applied last), and any other option of
--   `run` (`token`, `stdin`, `merge_stderr`, ...), kept as given
-- @return table of options
function M.against(s, opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.clean, o.sim, o.embedded = true, s, nil
  local env = { TWINGATE_RATE_LIMIT = "off" }
  if not (opts and opts.embedded) then env.TWINGATE_LUA_DIR = M.cwd() .. "/lua" end
  for k, v in pairs(o.env or {}) do env[k] = v end
  o.env = env
  return o
end

--- A runner for Lua code as a script file, against a simulator, with the rate limit off
-- and TWINGATE_LUA_DIR=./lua.
-- @param cfg table: `token` (the API token; default the simulator's), `prelude` (true:
--   the script starts with `local twingate = require 'twingate'` and
--   `local tg = twingate.connect()`), `env` (more variables)
-- @return function(s, code, flags) -> exit code, stdout, stderr; `flags` is a string
--   of space-separated options put before the script
function M.script_runner(cfg)
  cfg = cfg or {}
  return function(s, code, flags)
    local script = os.tmpname()
    local prelude = cfg.prelude and "local twingate = require 'twingate'\nlocal tg = twingate.connect()\n" or ""
    M.write_file(script, prelude .. code)
    local env = { TWINGATE_LUA_DIR = "./lua" }
    for k, v in pairs(cfg.env or {}) do env[k] = v end
    local args = { "--rate-limit", "off" }
    for w in (flags or ""):gmatch("%S+") do args[#args + 1] = w end
    args[#args + 1] = script
    local rc, out, err = M.run(args, { sim = s, token = cfg.token, env = env })
    os.remove(script)
    return rc, out, err
  end
end

--- Start `command` (from `command()`) in the background, wait until `journal`
-- records `n` changes being sent (`"state":"sending"` lines; 5 s at the most),
-- then kill it with SIGKILL: a run killed with requests in flight, for the
-- resume specs.
-- @param command shell command (without redirections)
-- @param journal the run's --journal FILE
-- @param n how many sending changes to wait for
-- @return how many the journal recorded when the run was killed
function M.kill_when_sending(command, journal, n)
  local pidfile = M.tmppath()
  os.execute(command .. " </dev/null >/dev/null 2>&1 & echo $! > " .. M.quote(pidfile))
  local pid = tonumber((M.slurp(pidfile):match("%d+")))
  local sending = 0
  for _ = 1, 100 do
    sending = select(2, M.slurp(journal):gsub('"state":"sending"', ""))
    if sending >= n then break end
    os.execute("sleep 0.05")
  end
  if pid then os.execute("kill -9 " .. pid .. " 2>/dev/null") end
  return sending
end

--- How many entries of a simulator request log satisfy `pred`.
-- @param log array (s:requests())
-- @param pred function(entry) -> boolean
-- @return integer
function M.count(log, pred)
  local n = 0
  for _, r in ipairs(log) do if pred(r) then n = n + 1 end end
  return n
end

return M
