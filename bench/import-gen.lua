-- import-gen.lua: deterministic inputs for bench/import-resources.sh.
--   lua5.4 bench/import-gen.lua OUTDIR [RESOURCES=2000] [NETWORKS=20] [GROUPS=50] [CHANGE_PERCENT=10]
-- Writes OUTDIR/tenant.json (networks, groups, a policy; no resources),
-- OUTDIR/resources.csv (the import) and OUTDIR/resources-changed.csv (the same
-- rows with CHANGE_PERCENT of them changed: address, groups, tags or protocols).
local out, n_res, n_net, n_grp, pct = arg[1], tonumber(arg[2] or 2000), tonumber(arg[3] or 20),
  tonumber(arg[4] or 50), tonumber(arg[5] or 10)
assert(out, "usage: import-gen.lua OUTDIR [RESOURCES] [NETWORKS] [GROUPS] [CHANGE_PERCENT]")

local seed = 12345
local function rnd(n)  -- deterministic LCG, 1..n
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % n + 1
end

local function q(s)
  if s:find('[",\r\n]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end
local function jstr(s) return '"' .. s:gsub('[\\"]', "\\%0") .. '"' end

local nets, groups = {}, {}
for i = 1, n_net do nets[i] = string.format("Net %02d, %s", i, ({ "AWS", "GCP", "Office", "Lab" })[i % 4 + 1]) end
for i = 1, n_grp do groups[i] = string.format("Team %02d%s", i, i % 7 == 0 and " (ops; on-call)" or "") end

local f = assert(io.open(out .. "/tenant.json", "wb"))
local parts = {}
for _, n in ipairs(nets) do parts[#parts + 1] = '{"name":' .. jstr(n) .. "}" end
local gparts = {}
for _, g in ipairs(groups) do gparts[#gparts + 1] = '{"name":' .. jstr(g) .. "}" end
f:write('{"remoteNetworks":[', table.concat(parts, ","), '],"groups":[', table.concat(gparts, ","),
  '],"securityPolicies":[{"name":"Strict","policyType":"RESOURCE"}]}\n')
f:close()

local PROTOS = { "", "tcp:443", "tcp:22,443;icmp", "tcp:5432", "tcp:8000-8100;udp:53" }
local rows = {}
for i = 1, n_res do
  local net = nets[(i - 1) % n_net + 1]
  local k = (i - 1) // n_net + 1
  local gs, seen = {}, {}
  for _ = 1, rnd(3) do
    local g = groups[rnd(n_grp)]
    if not seen[g] then seen[g] = true; gs[#gs + 1] = (g:gsub(";", "\\;")) end
  end
  table.sort(gs)
  rows[i] = { string.format("svc-%04d", k), string.format("10.%d.%d.%d", (i - 1) % n_net, k // 250, k % 250 + 1),
    net, PROTOS[rnd(#PROTOS)], table.concat(gs, ";"), rnd(4) == 1 and "Strict" or "",
    string.format("env=%s;owner=team%02d", ({ "prod", "dev", "test" })[rnd(3)], rnd(n_grp)) }
end

local function write(name, list)
  local w = assert(io.open(out .. "/" .. name, "wb"))
  w:write("name,address,network,protocols,groups,security_policy,tags\n")
  for _, r in ipairs(list) do
    local cells = {}
    for j, c in ipairs(r) do cells[j] = q(c) end
    w:write(table.concat(cells, ","), "\n")
  end
  w:close()
end
write("resources.csv", rows)

local step = math.floor(100 / pct)
for i = 1, n_res, step do
  local r = rows[i]
  local what = (i // step) % 4
  if what == 0 then r[2] = "changed-" .. i .. ".internal"
  elseif what == 1 then r[5] = groups[rnd(n_grp)]:gsub(";", "\\;")
  elseif what == 2 then r[7] = "env=changed"
  else r[4] = r[4] == "tcp:443" and "tcp:8443" or "tcp:443" end
end
write("resources-changed.csv", rows)
