--- twingate.protocols: a resource's protocol rules as a compact string and back.
--
--   local protocols = require "twingate.protocols"
--   protocols.parse("tcp:22,443,8000-8100;udp:53;icmp")
--   --> { allowIcmp = true,
--   --     tcp = { policy = "RESTRICTED", ports = { {start=22,["end"]=22}, {start=443,["end"]=443},
--   --                                              {start=8000,["end"]=8100} } },
--   --     udp = { policy = "RESTRICTED", ports = { {start=53,["end"]=53} } } }
--   protocols.format(resource.protocols)  --> "tcp:22,443,8000-8100;udp:53;icmp"
--
-- The string form (case-insensitive; spaces allowed only around ";", ":", ","
-- and "-"), parts separated by ";" (no empty parts):
--   "all" or ""      every TCP and UDP port and ICMP (ALLOW_ALL, allowIcmp)
--   "none"           nothing at all (both RESTRICTED without ports, no ICMP)
--   "tcp:all"        every TCP port (ALLOW_ALL)
--   "tcp:none"       no TCP port (RESTRICTED with an empty list: blocks every port)
--   "tcp:22,80-90"   these ports and ranges (RESTRICTED), 1-65535, start <= end
--   "udp:..."        the same for UDP
--   "icmp"           allow ICMP
-- Once any part is given, a protocol that is not named is blocked and ICMP is off:
-- "tcp:443" allows TCP 443 and nothing else.
--
-- `format` gives the canonical form: ports sorted, overlapping and adjacent ranges
-- merged, parts in the order tcp, udp, icmp, blocked protocols left out, and "all" /
-- "none" for the two extremes. `parse(format(p))` equals the normalized `p`, and
-- `format(parse(s))` is the canonical `s`, so exports and imports round-trip.
local errors = require "twingate.errors"
local json = require "twingate.json"

local M = {}

local function bad(fn, msg)
  errors.raise("invalid_argument", "protocols." .. fn .. "(): " .. msg, nil, 0)
end

local function allow_all()
  return { policy = "ALLOW_ALL", ports = json.array() }
end

local function blocked()
  return { policy = "RESTRICTED", ports = json.array() }
end

--- Sort ranges and merge overlapping or adjacent ones.
-- @param ranges array of `{ start = n, ["end"] = m }` (not modified)
-- @return a new json.array of merged ranges
function M.merge(ranges)
  local rs = {}
  for _, r in ipairs(ranges or {}) do rs[#rs + 1] = { start = r.start, ["end"] = r["end"] } end
  table.sort(rs, function(a, b)
    if a.start ~= b.start then return a.start < b.start end
    return a["end"] < b["end"]
  end)
  local out = json.array()
  for _, r in ipairs(rs) do
    local last = out[#out]
    if last and r.start <= last["end"] + 1 then
      if r["end"] > last["end"] then last["end"] = r["end"] end
    else
      out[#out + 1] = r
    end
  end
  return out
end

local function port(fn, proto, s)
  if not s:match("^%d+$") then bad(fn, string.format("%s: '%s' is not a port number", proto, s)) end
  local n = tonumber(s)
  if n < 1 or n > 65535 then
    bad(fn, string.format("%s: port %s is out of range (ports are 1-65535)", proto, s))
  end
  return math.tointeger(n)
end

local function trim(x)
  return (x:match("^%s*(.-)%s*$"))
end

-- A list item, "22" or "80-90" (spaces allowed around the dash only).
local function parse_range(fn, proto, item, spec)
  if item == "" then bad(fn, proto .. ": empty item in port list '" .. spec .. "'") end
  local a, b = item:match("^([^-]*)%-(.*)$")
  if a then
    a, b = trim(a), trim(b)
    local r = { start = port(fn, proto, a), ["end"] = port(fn, proto, b) }
    if r.start > r["end"] then
      bad(fn, string.format("%s: range %s has start > end", proto, item))
    end
    return r
  end
  local n = port(fn, proto, item)
  return { start = n, ["end"] = n }
end

local function parse_ports(fn, proto, spec)
  if spec == "all" or spec == "*" then return allow_all() end
  if spec == "none" then return blocked() end
  if spec == "" then bad(fn, proto .. ": no ports given (use " .. proto .. ":all or " .. proto .. ":none)") end
  local ranges = {}
  for item in (spec .. ","):gmatch("([^,]*),") do
    ranges[#ranges + 1] = parse_range(fn, proto, trim(item), spec)
  end
  return { policy = "RESTRICTED", ports = M.merge(ranges) }
end

--- Parse the compact form into a ProtocolsInput table.
-- Spaces are allowed only around the separators (`;`, `:`, `,`, `-`) and at
-- the ends: "tcp:22 80" is an error, never port 2280.
-- @param s string (see the module comment); nil counts as "all"
-- @return `{ allowIcmp = bool, tcp = { policy, ports }, udp = { policy, ports } }`
-- @raise `invalid_argument` naming the bad part (unknown protocol, bad port, range,
--   empty part such as in ";" or "tcp:22;;udp:53", a value after "icmp:")
function M.parse(s)
  if s == nil then s = "" end
  if type(s) ~= "string" then bad("parse", "expects a string, got " .. type(s)) end
  local text = trim(s:lower())
  if text == "" or text == "all" then
    return { allowIcmp = true, tcp = allow_all(), udp = allow_all() }
  end
  if text == "none" then
    return { allowIcmp = false, tcp = blocked(), udp = blocked() }
  end
  local out = { allowIcmp = false }
  local seen = {}
  for raw in (text .. ";"):gmatch("([^;]*);") do
    local part = trim(raw)
    if part == "" then bad("parse", "empty part in '" .. s .. "' (parts are separated by a single ';')") end
    local proto, spec = part:match("^([^:]*):(.*)$")
    proto = trim(proto or part)
    spec = spec and trim(spec)
    if seen[proto] then bad("parse", "'" .. proto .. "' is given twice in '" .. s .. "'") end
    seen[proto] = true
    if proto == "icmp" then
      if spec ~= nil and spec ~= "all" and spec ~= "on" then
        bad("parse", "icmp takes no ports ('" .. part .. "'; write just 'icmp')")
      end
      out.allowIcmp = true
    elseif proto == "tcp" or proto == "udp" then
      if spec == nil then bad("parse", proto .. " needs ports: " .. proto .. ":22,80-90, " .. proto .. ":all or "
        .. proto .. ":none") end
      out[proto] = parse_ports("parse", proto, spec)
    else
      bad("parse", "unknown protocol '" .. proto .. "' (valid: tcp, udp, icmp, all, none)")
    end
  end
  out.tcp = out.tcp or blocked()
  out.udp = out.udp or blocked()
  return out
end

local function check_rule(fn, proto, r)
  if type(r) ~= "table" then bad(fn, proto .. " must be a table { policy =, ports = }") end
  if r.policy ~= "ALLOW_ALL" and r.policy ~= "RESTRICTED" then
    bad(fn, proto .. ".policy must be ALLOW_ALL or RESTRICTED, got " .. tostring(r.policy))
  end
  local ports = r.ports
  if ports == nil or ports == json.null then ports = {} end
  if type(ports) ~= "table" then bad(fn, proto .. ".ports must be a list") end
  for i, p in ipairs(ports) do
    if type(p) ~= "table" or math.type(p.start) ~= "integer" or math.type(p["end"]) ~= "integer" then
      bad(fn, string.format("%s port range #%d needs integer start and end", proto, i))
    end
    if p.start < 1 or p["end"] > 65535 then
      bad(fn, string.format("%s port range #%d (%d-%d) is out of range (ports are 1-65535)", proto, i, p.start, p["end"]))
    end
    if p.start > p["end"] then
      bad(fn, string.format("%s port range #%d (%d-%d) has start > end", proto, i, p.start, p["end"]))
    end
  end
  return ports
end

--- Validate and normalize a protocols table (ProtocolsInput, or the
-- `protocols` of a resource as read): ranges merged and sorted, no ports under
-- ALLOW_ALL, only the input's fields.
-- @param p table
-- @return a new ProtocolsInput table
-- @raise `invalid_argument`
function M.normalize(p)
  if type(p) ~= "table" then bad("normalize", "expects a protocols table, got " .. type(p)) end
  local out = { allowIcmp = p.allowIcmp == true }
  for _, proto in ipairs{ "tcp", "udp" } do
    local r = p[proto]
    if r == nil or r == json.null then bad("normalize", proto .. " is required") end
    local ports = check_rule("normalize", proto, r)
    if r.policy == "ALLOW_ALL" then
      out[proto] = allow_all()
    else
      out[proto] = { policy = "RESTRICTED", ports = M.merge(ports) }
    end
  end
  return out
end

local function format_rule(r)
  if r.policy == "ALLOW_ALL" then return "all" end
  if #r.ports == 0 then return nil end
  local items = {}
  for _, x in ipairs(r.ports) do
    items[#items + 1] = x.start == x["end"] and tostring(x.start) or (x.start .. "-" .. x["end"])
  end
  return table.concat(items, ",")
end

--- The canonical compact string of a protocols table.
-- @param p ProtocolsInput or a resource's `protocols` (nil counts as the API default, "all")
-- @return string such as "tcp:22,443;udp:53;icmp", "all" or "none"
-- @raise `invalid_argument` for a malformed table
function M.format(p)
  if p == nil or p == json.null then return "all" end
  local n = M.normalize(p)
  if n.allowIcmp and n.tcp.policy == "ALLOW_ALL" and n.udp.policy == "ALLOW_ALL" then return "all" end
  local parts = {}
  for _, proto in ipairs{ "tcp", "udp" } do
    local f = format_rule(n[proto])
    if f then parts[#parts + 1] = proto .. ":" .. f end
  end
  if n.allowIcmp then parts[#parts + 1] = "icmp" end
  if #parts == 0 then return "none" end
  return table.concat(parts, ";")
end

--- A ProtocolsInput from a string (parsed) or a table (normalized).
-- @param v string or table
-- @return ProtocolsInput
function M.input(v)
  if type(v) == "string" then return M.parse(v) end
  return M.normalize(v)
end

return M
