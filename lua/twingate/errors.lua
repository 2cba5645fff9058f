--- Structured errors raised by the twingate module.
--
-- Every public function raises one of these tables instead of returning
-- `nil, err`. Scripts that want to recover use `pcall` and branch on
-- `err.kind`, never on the message text.
--
--   { kind = "auth", message = "...", status = 401, code = nil,
--     request_id = nil, errors = { ... GraphQL errors ... }, hint = "..." }
--
-- `tostring(err)` gives `twingate: <kind>: <message>` (plus the hint).
-- The API token must never be put in a message; `errors.redact` is applied
-- to every message as a last line of defence.
local M = {}

--- The kinds of error, and the exit code the command line uses for each.
M.kinds = {
  transport        = 5, -- could not talk to the API at all (DNS, connect, TLS, timeout)
  http             = 5, -- the API answered with an unexpected HTTP status / non-JSON body
  auth             = 4, -- 401/403: the token was refused
  graphql          = 1, -- the API rejected the document or failed executing it
  not_found        = 1, -- an object that should exist does not
  rate_limited     = 5, -- still throttled after every retry
  mutation         = 1, -- ok = false in a mutation payload
  invalid_argument = 2, -- bad input to a function or a script (CSV, options)
  config           = 2, -- missing or bad settings (network, token, flags)
}

local Error = {}
Error.__index = Error
M.Error = Error

-- Secrets registered here are replaced by "[REDACTED]" in every message.
local secrets = {}

--- Register a secret (the API token, generated tokens) to be redacted from
-- every error message and log line.
-- @param s string
function M.add_secret(s)
  if type(s) == "string" and #s >= 4 then secrets[s] = true end
end

--- Replace every registered secret in `s` by "[REDACTED]".
-- @param s string
-- @return string
function M.redact(s)
  if type(s) ~= "string" then return s end
  for secret in pairs(secrets) do
    local i = 1
    while true do
      local a, b = s:find(secret, i, true)
      if not a then break end
      s = s:sub(1, a - 1) .. "[REDACTED]" .. s:sub(b + 1)
      i = a + #"[REDACTED]"
    end
  end
  return s
end

function Error.__tostring(e)
  local s = "twingate: " .. tostring(e.kind) .. ": " .. tostring(e.message)
  if e.hint then s = s .. " (" .. e.hint .. ")" end
  return M.redact(s)
end

--- Build an error object (does not raise it).
-- @param kind one of the keys of `errors.kinds`
-- @param message human-readable text
-- @param fields optional table: status, code, request_id, errors, hint, ...
-- @return error table
function M.new(kind, message, fields)
  assert(M.kinds[kind], "unknown error kind: " .. tostring(kind))
  local e = {}
  if fields then for k, v in pairs(fields) do e[k] = v end end
  e.kind = kind
  e.message = M.redact(tostring(message))
  if e.hint then e.hint = M.redact(e.hint) end
  return setmetatable(e, Error)
end

--- Raise an error object.
-- @param kind error kind
-- @param message text
-- @param fields optional extra fields
-- @param level optional error level (default 2: the caller's caller)
function M.raise(kind, message, fields, level)
  error(M.new(kind, message, fields), level or 2)
end

--- True if `v` is one of our error objects.
function M.is(v)
  return getmetatable(v) == Error
end

--- The exit code for any error value: ours map by kind, anything else is 1.
function M.exit_code(v)
  if M.is(v) then return M.kinds[v.kind] or 1 end
  return 1
end

return M
