--- Request pacing: stay under N requests per window (60 s), per class.
--
-- A sliding window over the times requests were made: the (N+1)th request
-- waits until the oldest of the last N is `window` seconds old. Short jobs
-- therefore burst at full speed, and long jobs settle at exactly the limit
-- without ever tripping a server that counts the same way.
--
--   local rl = ratelimit.new{ reads_per_minute = 60, writes_per_minute = 20 }
--   rl:acquire("write")   -- sleeps if needed, returns the seconds waited
--   ...send...
--   rl:finish("write")    -- optional: count the request from when it ended
--   rl:penalize(30)       -- after a 429: nothing at all for 30 s
--
-- `finish` moves the recorded time of the last request of a class to "now".
-- The server received the request at or before that moment, so spacing
-- from it can never be shorter than the server's own spacing, whatever the
-- latency.
local errors = require "twingate.errors"

local M = {}

local Limiter = {}
Limiter.__index = Limiter

local CLASSES = { read = true, write = true }

local function default_clock()
  local ok, sys = pcall(require, "twingate.sys")
  if ok and type(sys) == "table" and sys.now and sys.sleep then
    return sys.now, sys.sleep
  end
  -- Stock Lua: whole seconds and the shell's sleep; good enough off the binary.
  return os.time, function(s)
    if s > 0 then os.execute(string.format("sleep %.3f", s)) end
  end
end
M.default_clock = default_clock

local function check_limit(name, v)
  if v == nil then return nil end
  if type(v) ~= "number" or v <= 0 or v ~= v then
    errors.raise("invalid_argument", name .. " must be a positive number or nil (unlimited), got "
      .. tostring(v), nil, 3)
  end
  return math.max(1, math.floor(v))
end

--- Create a limiter.
-- @param opts table: `reads_per_minute`, `writes_per_minute` (nil =
-- unlimited), `window` (seconds, default 60), `now` (function returning
-- monotonic seconds), `sleep` (function(seconds))
-- @return limiter
function M.new(opts)
  opts = opts or {}
  local now, sleep = opts.now, opts.sleep
  if not now or not sleep then
    local dnow, dsleep = default_clock()
    now, sleep = now or dnow, sleep or dsleep
  end
  local window = opts.window or 60
  if type(window) ~= "number" or window <= 0 then
    errors.raise("invalid_argument", "window must be a positive number of seconds", nil, 2)
  end
  local self = setmetatable({
    limits = {
      read = check_limit("reads_per_minute", opts.reads_per_minute),
      write = check_limit("writes_per_minute", opts.writes_per_minute),
    },
    window = window,
    now = now,
    sleep = sleep,
    -- per class: ring of send times, oldest at index `first`
    times = { read = { first = 1, last = 0 }, write = { first = 1, last = 0 } },
    blocked_until = nil,
  }, Limiter)
  return self
end

local function check_class(class)
  if not CLASSES[class] then
    errors.raise("invalid_argument", "request class must be \"read\" or \"write\", got "
      .. tostring(class), nil, 3)
  end
end

-- Drop times that have left the window ending at `t`.
local function prune(q, t, window)
  while q.first <= q.last and q[q.first] <= t - window do
    q[q.first] = nil
    q.first = q.first + 1
  end
end

--- How long a request of `class` would have to wait now (seconds, >= 0).
-- @param class "read" or "write"
function Limiter:delay(class)
  check_class(class)
  local t = self.now()
  local d = 0
  if self.blocked_until and self.blocked_until > t then d = self.blocked_until - t end
  local limit = self.limits[class]
  if limit then
    local q = self.times[class]
    prune(q, t, self.window)
    if q.last - q.first + 1 >= limit then
      -- the request that must leave the window before we may go
      local oldest = q[q.last - limit + 1]
      d = math.max(d, oldest + self.window - t)
    end
  end
  return d
end

--- Wait until a request of `class` may be sent, and record it as sent.
-- @param class "read" or "write"
-- @return seconds waited
function Limiter:acquire(class)
  check_class(class)
  local waited = 0
  while true do
    local d = self:delay(class)
    if d <= 0 then break end
    self.sleep(d)
    waited = waited + d
  end
  local q = self.times[class]
  q.last = q.last + 1
  q[q.last] = self.now()
  return waited
end

--- Re-stamp the last request of `class` with the current time (call when
-- its response arrived), so spacing is counted from when the server had
-- surely received it.
-- @param class "read" or "write"
function Limiter:finish(class)
  check_class(class)
  local q = self.times[class]
  if q.last >= q.first then q[q.last] = self.now() end
end

--- After a 429: no request of any class before now + `seconds`.
-- @param seconds number
function Limiter:penalize(seconds)
  if type(seconds) ~= "number" or seconds ~= seconds then
    errors.raise("invalid_argument", "penalize expects seconds, got " .. tostring(seconds), nil, 2)
  end
  local until_ = self.now() + math.max(0, seconds)
  if not self.blocked_until or until_ > self.blocked_until then self.blocked_until = until_ end
end

--- Requests of `class` recorded in the current window.
function Limiter:count(class)
  check_class(class)
  local q = self.times[class]
  prune(q, self.now(), self.window)
  return q.last - q.first + 1
end

return M
