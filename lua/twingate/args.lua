--- Command-line options for scripts.
--
-- Scripts get their own arguments in `arg` (after the script name). This module
-- parses GNU-style options (`--name value`, `--name=value`, `--flag`, `--` ends
-- options), checks positional arguments, and prints the script's header comment
-- for `--help`, so a script's documentation and its `--help` are the same text.
--
--   local opts = require("twingate.args").parse(arg, {
--     positional = { "members.csv" },
--     options = {
--       { "group-column", value = "NAME", default = "group" },
--       { "remove-missing" },
--     },
--   })
--   opts["group-column"], opts["remove-missing"], opts[1]
--
-- Bad usage raises an `invalid_argument` error (exit code 2).
local errors = require "twingate.errors"

local M = {}

--- The leading comment block of a script file, without the comment markers.
-- @param path the script's path (arg[0])
-- @return string (empty when the file has no header)
function M.header(path)
  local f = path and io.open(path, "r")
  if not f then return "" end
  local out = {}
  for line in f:lines() do
    if out[1] == nil and line:match("^#!") then
      -- shebang: skip
    elseif line:match("^%-%-") then
      out[#out + 1] = (line:gsub("^%-%-%-? ?", "", 1))
    elseif line:match("^%s*$") and out[1] == nil then
      -- blank lines before the header: skip
    else
      break
    end
  end
  f:close()
  return table.concat(out, "\n")
end

local function usage_error(msg)
  errors.raise("invalid_argument", msg .. " (try --help)", nil, 3)
end

--- Parse a script's arguments.
-- @param argv the `arg` table (arg[1..n] are parsed; arg[0] is the script)
-- @param spec { options = { { name, value = "META"|nil, default = v, multiple = bool } },
--               positional = { names... }, min_positional = n, max_positional = n|math.huge,
--               help = function() (optional; default prints the header and exits 0) }
-- @return table: options by name (flags are true/false), positionals at [1..n]
-- @raise invalid_argument on unknown options, missing values or wrong positional count
function M.parse(argv, spec)
  spec = spec or {}
  local defs = {}
  local result = {}
  for _, o in ipairs(spec.options or {}) do
    defs[o[1]] = o
    if o.value then
      if o.multiple then result[o[1]] = {} else result[o[1]] = o.default end
    else
      result[o[1]] = o.default or false
    end
  end
  local positional = {}
  local i, n = 1, #argv
  local only_positional = false
  while i <= n do
    local a = argv[i]
    if only_positional or a == "-" or not a:match("^%-") then
      positional[#positional + 1] = a
    elseif a == "--" then
      only_positional = true
    elseif a == "-h" or a == "--help" then
      if spec.help then
        spec.help()
      else
        io.stdout:write(M.header(argv[0]), "\n")
        os.exit(0)
      end
      return result
    else
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      if not name then name = a:match("^%-%-(.+)$") end
      local d = name and defs[name]
      if not d then usage_error("unknown option " .. a) end
      if d.value then
        if value == nil then
          i = i + 1
          value = argv[i]
          if value == nil then usage_error("option --" .. name .. " needs a value (" .. d.value .. ")") end
        end
        if d.multiple then
          table.insert(result[name], value)
        else
          result[name] = value
        end
      else
        if value ~= nil then usage_error("option --" .. name .. " takes no value") end
        result[name] = true
      end
    end
    i = i + 1
  end
  local names = spec.positional or {}
  local min = spec.min_positional or #names
  local max = spec.max_positional or #names
  if #positional < min then
    usage_error("missing argument " .. (names[#positional + 1] or "") )
  elseif #positional > max then
    usage_error("unexpected argument " .. positional[max + 1])
  end
  for k, v in ipairs(positional) do result[k] = v end
  return result
end

return M
