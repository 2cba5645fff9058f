-- connector-health.lua: report the connectors that are not alive (for cron and
-- monitoring systems). Read-only: it changes nothing.
--
-- Usage:
--   twingate-lua scripts/connector-health.lua [options]
--
-- Lists every connector whose state is not ALIVE (DEAD_NO_HEARTBEAT,
-- DEAD_HEARTBEAT_TOO_OLD, DEAD_NO_RELAYS), with its remote network, its last
-- heartbeat and how long ago that was. With --stale-after SECONDS an ALIVE
-- connector whose last heartbeat is older than that (or missing) counts as
-- unhealthy too (STALE in text; `"stale": true` in JSON). No CSV input.
--
-- Text output (the default), one line per unhealthy connector:
--
--   2 of 5 connectors are not healthy:
--     "edge-2"  network "AWS Prod"  DEAD_NO_HEARTBEAT  last heartbeat 2024-05-01T10:00:00Z (3h 12m ago)
--     "edge-4"  network "Office"    DEAD_NO_RELAYS     last heartbeat never
--
-- or "All 5 connectors are alive." (nothing at all with --silent-ok, so that
-- cron mails only problems). JSON output (--format json) is one object:
--
--   {"status":"unhealthy","checkedAt":"2024-05-01T13:12:00Z","network":null,
--    "staleAfter":null,"total":5,"healthy":3,"unhealthy":2,"connectors":[
--    {"id":"...","name":"edge-2","state":"DEAD_NO_HEARTBEAT","stale":false,
--     "remoteNetwork":{"id":"...","name":"AWS Prod"},
--     "lastHeartbeatAt":"2024-05-01T10:00:00Z","secondsSinceHeartbeat":11520,
--     "hostname":"...","version":"..."}]}
--
-- `status` is "ok" or "unhealthy"; `connectors` lists only the unhealthy ones;
-- `lastHeartbeatAt` and `secondsSinceHeartbeat` are null when there was none.
-- Results go to stdout, logs to stderr.
--
-- Options:
--   --format F            text or json (default: text)
--   --network NAME        only the connectors of the remote network(s) with this
--                         exact name (an unknown name is a usage error)
--   --stale-after SECONDS also count ALIVE connectors whose last heartbeat is
--                         older than SECONDS (or missing) as unhealthy
--   --silent-ok           text format: print nothing when every connector is healthy
--   -h, --help            print this text
-- (Give the script's --network after the script name; twingate-lua's own
-- --network, before it, names the Twingate tenant.)
--
-- Exit codes:
--   0  every connector is healthy (also when there are none)
--   1  the check failed
--   2  bad usage (bad option value, unknown --network name)
--   3  some connectors are not healthy
--   4  the API token was refused
--   5  the API could not be reached
local twingate = require "twingate"
local args = require "twingate.args"
local collections = require "twingate.collections"
local errors = require "twingate.errors"
local json = require "twingate.json"
local planning = require "twingate.plan"

local opts = args.parse(arg, {
  positional = {},
  options = {
    { "format", value = "F", default = "text" },
    { "network", value = "NAME" },
    { "stale-after", value = "SECONDS" },
    { "silent-ok" },
  },
})

local format = opts.format
if format ~= "text" and format ~= "json" then
  errors.raise("invalid_argument", "--format must be text or json (got " .. planning.quote(format) .. ")")
end
local stale_after
if opts["stale-after"] ~= nil then
  stale_after = math.tointeger(tonumber(opts["stale-after"]))
  if not stale_after or stale_after < 1 then
    errors.raise("invalid_argument", "--stale-after must be a whole number of seconds, at least 1 (got "
      .. planning.quote(opts["stale-after"]) .. ")")
  end
end

local tg = twingate.connect()

-- The networks to check (nil: all).
local network_ids
if opts.network then
  if opts.network == "" then errors.raise("invalid_argument", "--network needs a name") end
  network_ids = {}
  local found = false
  for rn in tg.remote_networks:each({ name = { eq = opts.network } }, { fields = "id name" }) do
    if rn.name == opts.network then
      network_ids[rn.id] = true
      found = true
    end
  end
  if not found then
    errors.raise("invalid_argument", "--network: no remote network is named " .. planning.quote(opts.network))
  end
end

local now = os.time()

local function iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", t)
end

local function ago(seconds)
  if seconds < 0 then return "in the future" end
  if seconds < 60 then return seconds .. "s ago" end
  local d, h, m = seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60
  if d > 0 then return string.format("%dd %dh ago", d, h) end
  if h > 0 then return string.format("%dh %dm ago", h, m) end
  return string.format("%dm ago", m)
end

local total, bad = 0, {}
for c in tg.connectors:each(nil, {
  fields = "id name state lastHeartbeatAt hostname version remoteNetwork { id name }" }) do
  local rn = type(c.remoteNetwork) == "table" and c.remoteNetwork or nil
  if not network_ids or (rn and network_ids[rn.id]) then
    total = total + 1
    local hb = collections.parse_time(c.lastHeartbeatAt)
    local since = hb and math.tointeger(now - hb) or nil
    local stale = false
    if c.state == "ALIVE" and stale_after then
      stale = since == nil or since > stale_after
    end
    if c.state ~= "ALIVE" or stale then
      bad[#bad + 1] = { connector = c, network = rn, since = since, stale = stale }
    end
  end
end

-- One JSON object with its keys in the given order (the json module sorts
-- keys; the header documents this order). Values are encoded by json.encode.
local function ordered(keys, t)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = json.encode(k) .. ":" .. json.encode(t[k]) end
  return "{" .. table.concat(parts, ",") .. "}"
end

local CONNECTOR_KEYS = { "id", "name", "state", "stale", "remoteNetwork", "lastHeartbeatAt",
  "secondsSinceHeartbeat", "hostname", "version" }
local TOP_KEYS = { "status", "checkedAt", "network", "staleAfter", "total", "healthy", "unhealthy" }

-- Display width of a one-line string (UTF-8 characters; bytes if invalid).
local function width(str)
  return utf8.len(str) or #str
end

local function pad(str, w)
  return str .. string.rep(" ", w - width(str))
end

if format == "json" then
  local list = {}
  for i, b in ipairs(bad) do
    local c = b.connector
    list[i] = ordered(CONNECTOR_KEYS, {
      id = c.id, name = c.name or json.null, state = c.state, stale = b.stale,
      remoteNetwork = b.network and { id = b.network.id, name = b.network.name or json.null } or json.null,
      lastHeartbeatAt = c.lastHeartbeatAt or json.null,
      secondsSinceHeartbeat = b.since or json.null,
      hostname = c.hostname or json.null, version = c.version or json.null,
    })
  end
  local top = ordered(TOP_KEYS, {
    status = #bad == 0 and "ok" or "unhealthy", checkedAt = iso(now),
    network = opts.network or json.null, staleAfter = stale_after or json.null,
    total = total, healthy = total - #bad, unhealthy = #bad,
  })
  io.stdout:write(top:sub(1, -2), ',"connectors":[', table.concat(list, ","), "]}\n")
else
  local out = {}
  if #bad == 0 then
    if not opts["silent-ok"] then
      out[1] = total == 0 and "No connectors." or
        string.format("All %d connector%s %s alive.", total, total == 1 and "" or "s", total == 1 and "is" or "are")
    end
  else
    out[1] = string.format("%d of %d connector%s %s not healthy:", #bad, total, total == 1 and "" or "s",
      #bad == 1 and "is" or "are")
    -- columns padded to the widest cell, as in the header's example
    local cells, widths = {}, { 0, 0, 0 }
    for i, b in ipairs(bad) do
      local c = b.connector
      local last = "never"
      if c.lastHeartbeatAt then
        last = tostring(c.lastHeartbeatAt) .. (b.since and (" (" .. ago(b.since) .. ")") or "")
      end
      cells[i] = { planning.quote(c.name or c.id),
        "network " .. (b.network and planning.quote(b.network.name) or "(none)"),
        b.stale and "STALE" or tostring(c.state), "last heartbeat " .. last }
      for j = 1, 3 do
        if width(cells[i][j]) > widths[j] then widths[j] = width(cells[i][j]) end
      end
    end
    for _, row in ipairs(cells) do
      out[#out + 1] = "  " .. pad(row[1], widths[1]) .. "  " .. pad(row[2], widths[2]) .. "  "
        .. pad(row[3], widths[3]) .. "  " .. row[4]
    end
  end
  if #out > 0 then io.stdout:write(table.concat(out, "\n"), "\n") end
end

return #bad == 0 and twingate.exit.ok or twingate.exit.partial
