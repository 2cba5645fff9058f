-- tg.resources through the built binary against the simulator: every kind,
-- inputs (null clears, omitted keeps, protocols, tags), access edges, nested
-- lists spanning several pages (page_max 10), name collisions. #integration
local sim = require "spec.support.sim"
local cli = require "spec.support.cli"

local TOKEN = "resources-spec-token"

-- Run `code` with the binary against simulator `s`; returns exit code, stdout, stderr.
local run = cli.script_runner{ token = TOKEN, prelude = true }

local count = cli.count

local function seed()
  local groups, sas, all_groups, twelve = {}, {}, {}, {}
  for i = 1, 25 do
    groups[i] = { name = string.format("G%02d", i) }
    all_groups[i] = groups[i].name
    if i <= 12 then twelve[i] = groups[i].name end
  end
  for i = 1, 3 do sas[i] = { name = "sa" .. i } end
  local resources = {
    { name = "big", address = "10.0.0.1", groups = all_groups, serviceAccounts = { "sa1", "sa2", "sa3" } },
    { name = "dup", address = "10.0.0.2" },
    { name = "dup", address = "10.0.0.3" },
  }
  for i = 1, 12 do
    resources[#resources + 1] = { name = string.format("r%02d", i), address = "10.1.0." .. i, groups = twelve }
  end
  return { groups = groups, serviceAccounts = sas,
    securityPolicies = { { name = "Strict", policyType = "RESOURCE" } },
    remoteNetworks = { { name = "Lab", location = "AWS", resources = resources } } }
end

describe("#integration tg.resources against the simulator", function()
  local s

  sim.suite{
    start = { token = TOKEN, seed = seed(), rate_limit = false, page_max = 10 },
    started = function(x) s = x end,
  }

  it("creates a network resource and reads it back", function()
    local rc, out, err = run(s, [[
      local protocols = require "twingate.protocols"
      local rn = tg.remote_networks:find("Lab")
      local p = tg.security_policies:find("Strict")
      local r = tg.resources:create{ name = "web", address = "web.internal", remoteNetworkId = rn.id,
        alias = "web.corp", protocols = "tcp:443,8000-8100,80;udp:53;icmp", tags = { team = "ops", env = "prod" },
        isVisible = false, isBrowserShortcutEnabled = true, securityPolicyId = p.id, routingMode = "THROUGH_TWINGATE",
        approvalMode = "MANUAL", accessPolicy = { mode = "AUTO_LOCK", durationSeconds = 3600 } }
      local g = tg.resources:get(r.id)
      print(g.__typename, g.name, g.address.value, g.alias, g.isVisible, g.isBrowserShortcutEnabled)
      print(protocols.format(g.protocols), g.securityPolicy.name, g.routingMode, g.approvalMode,
        g.accessPolicy.mode, g.accessPolicy.durationSeconds)
      for _, t in ipairs(g.tags) do io.write(t.key, "=", t.value, " ") end
      print()
      print(tg.resources:get("UmVzb3VyY2U6OTk5OQ==") == nil)
    ]])
    assert.equals(0, rc, err)
    assert.equals("NetworkResource\tweb\tweb.internal\tweb.corp\tfalse\ttrue\n"
      .. "tcp:80,443,8000-8100;udp:53;icmp\tStrict\tTHROUGH_TWINGATE\tMANUAL\tAUTO_LOCK\t3600\n"
      .. "env=prod team=ops \ntrue\n", out)
  end)

  it("clears with twingate.null and keeps omitted fields", function()
    local rc, out, err = run(s, [[
      local protocols = require "twingate.protocols"
      local rn = tg.remote_networks:find("Lab")
      local p = tg.security_policies:find("Strict")
      local r = tg.resources:create{ name = "keep", address = "10.2.0.1", remoteNetworkId = rn.id, alias = "k.corp",
        protocols = "tcp:22", tags = { { key = "a", value = "1" } }, securityPolicyId = p.id }
      local u = tg.resources:update(r.id, { name = "kept" })
      print(u.name, u.alias, protocols.format(u.protocols), #u.tags, u.securityPolicy.name)
      u = tg.resources:update(r.id, { alias = twingate.null, tags = twingate.null, securityPolicyId = twingate.null })
      print(u.name, u.alias, protocols.format(u.protocols), #u.tags, u.securityPolicy == nil or u.securityPolicy.name ~= "Strict")
      u = tg.resources:update(r.id, { protocols = "tcp:none;udp:none" })
      print(protocols.format(u.protocols), u.protocols.tcp.policy, #u.protocols.tcp.ports)
    ]])
    assert.equals(0, rc, err)
    assert.equals("kept\tk.corp\ttcp:22\t1\tStrict\nkept\tnil\ttcp:22\t0\ttrue\nnone\tRESTRICTED\t0\n", out)
  end)

  it("refuses an empty alias and bad protocols before sending anything", function()
    local rc, out, err = run(s, [[
      local r = tg.resources:find("big")
      for _, input in ipairs{ { alias = "" }, { alias = "  " }, { protocols = "tcp:0" }, { protocols = "gre:1" } } do
        local ok, e = pcall(tg.resources.update, tg.resources, r.id, input)
        print(ok, e.kind, e.message)
      end
    ]])
    assert.equals(0, rc, err)
    assert.matches("false\tinvalid_argument\tresources:update%(%): alias must not be empty; to remove the alias pass twingate.null\n", out)
    assert.matches("protocols: tcp: port 0 is out of range", out, nil, true)
    assert.matches("unknown protocol 'gre'", out, nil, true)
    assert.equals(0, count(s:requests(), function(r) return r.type == "mutation" end))
  end)

  it("after a lost create response never takes another network's resource of that name and address", function()
    local run_grace = cli.script_runner{ token = TOKEN, prelude = true, env = { TWINGATE_VERIFY_GRACE = "1" } }
    s:clear_faults()
    s:fault{ match = "mutation", delayMs = 1 }      -- remoteNetworkCreate
    s:fault{ match = "mutation", delayMs = 1 }      -- the create in the other network
    s:fault{ match = "mutation", drop = "before" }  -- the create in Lab: never reaches the API
    local rc, out, err = run_grace(s, [[
      local lab = tg.remote_networks:find("Lab")
      local dr = tg.remote_networks:create{ name = "DR lost-create", location = "AWS" }
      local a = tg.resources:create{ name = "twin", address = "10.9.9.9", remoteNetworkId = dr.id }
      local b = tg.resources:create{ name = "twin", address = "10.9.9.9", remoteNetworkId = lab.id }
      print(a.id ~= b.id, a.remoteNetwork.name, b.remoteNetwork.name)
      local n = 0
      for r in tg.resources:each{ name = { eq = "twin" } } do n = n + 1 end
      print(n)
    ]])
    s:clear_faults()
    assert.equals(0, rc, err)
    assert.equals("true\tDR lost-create\tLab\n2\n", out)
    assert.not_matches("found the resource created by the failed request", err, nil, true)
  end)

  it("finds by name: nil when none, invalid_argument listing the ids when names collide", function()
    local rc, out, err = run(s, [[
      print(tg.resources:find("no such") == nil)
      local ok, e = pcall(tg.resources.find, tg.resources, "dup")
      print(ok, e.kind, #e.ids)
      print(e.message)
    ]])
    assert.equals(0, rc, err)
    assert.matches("^true\nfalse\tinvalid_argument\t2\nresources:find%(%): 2 resources have name \"dup\": [%w=]+, [%w=]+; use get%(id%)\n$", out)
  end)

  it("reads every access edge of a resource across pages", function()
    local rc, out, err = run(s, [[
      local r = tg.resources:find("big")
      local n, kinds = 0, {}
      for e in tg.resources:access(r.id) do
        n = n + 1
        kinds[e.principal.__typename] = (kinds[e.principal.__typename] or 0) + 1
        assert(e.principal.id and e.principal.name)
      end
      print(n, kinds.Group, kinds.ServiceAccount)
      local g = 0
      for _ in tg.resources:groups(r.id) do g = g + 1 end
      print(g)
    ]])
    assert.equals(0, rc, err)
    assert.equals("28\t25\t3\n25\n", out)
  end)

  it("includes access, groups and serviceAccounts of every resource with batched follow-ups", function()
    local rc, out, err = run(s, [[
      local list = tg.resources:list(nil, { include = { "access", "groups", "serviceAccounts" } })
      local by = {}
      for _, r in ipairs(list) do
        if r.name == "big" or r.name == "dup" or r.name:match("^r%d%d$") then
          by[#by + 1] = r.name .. ":" .. #r.access .. "/" .. #r.groups .. "/" .. #r.serviceAccounts
        end
      end
      print(#by, table.concat(by, " "))
      local big = list[1]
      print(big.access[28].principal.name, big.access[1].expiresAt)
      print(tg.stats.reads)
    ]])
    assert.equals(0, rc, err)
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.equals("15\tbig:28/25/3 dup:0/0/0 dup:0/0/0 r01:12/12/0 r02:12/12/0 r03:12/12/0 r04:12/12/0 "
      .. "r05:12/12/0 r06:12/12/0 r07:12/12/0 r08:12/12/0 r09:12/12/0 r10:12/12/0 r11:12/12/0 r12:12/12/0", lines[1])
    assert.equals("sa3\tnil", lines[2])
    -- 2 list pages; follow-ups batched: far fewer requests than one per resource and page
    local reads = tonumber(lines[3])
    assert.is_true(reads <= 8, "reads: " .. tostring(reads))
    local log = s:requests()
    assert.equals(reads, #log)
    assert.is_true(count(log, function(r) return (r.aliases or 0) > 1 end) >= 1)
  end)

  it("adds, updates, replaces and removes access edges with per-edge policy and expiry", function()
    local rc, out, err = run(s, [[
      local rn = tg.remote_networks:find("Lab")
      local p = tg.security_policies:find("Strict")
      local g1, g2 = tg.groups:find("G01"), tg.groups:find("G02")
      local sa = tg.service_accounts:find("sa1")
      local r = tg.resources:create{ name = "acc", address = "10.3.0.1", remoteNetworkId = rn.id }
      local function show()
        local out = {}
        for e in tg.resources:access(r.id) do
          out[#out + 1] = e.principal.name .. "|" .. (e.securityPolicy and e.securityPolicy.name or "-") .. "|"
            .. (e.expiresAt and e.expiresAt:sub(1, 4) or "-") .. "|" .. tostring(e.approvalMode or "-")
            .. "|" .. (e.accessPolicy and e.accessPolicy.mode or "-")
        end
        table.sort(out)
        print(table.concat(out, " "))
      end
      tg.resources:access_add(r.id, { { principalId = g1.id, securityPolicyId = p.id, expiresAt = "2031-01-01T00:00:00Z" },
        { principalId = sa.id, approvalMode = "MANUAL" } })
      show()
      -- omitted keeps, null clears, epoch seconds accepted
      tg.resources:access_add(r.id, { { principalId = g1.id, approvalMode = "AUTOMATIC", expiresAt = twingate.null },
        { principalId = g2.id, expiresAt = 1924992000, accessPolicy = { mode = "AUTO_LOCK", durationSeconds = 600 } } })
      show()
      -- resending the same add is harmless
      tg.resources:access_add(r.id, { g2.id })
      show()
      tg.resources:access_remove(r.id, { g1.id, sa.id })
      show()
      tg.resources:access_set(r.id, { { principalId = sa.id, securityPolicyId = p.id } })
      show()
      tg.resources:access_set(r.id, {})
      show()
      print(tg.resources:access_add(r.id, {}), tg.resources:access_remove(r.id, {}))
    ]])
    assert.equals(0, rc, err)
    assert.equals(
      "G01|Strict|2031|-|- sa1|-|-|MANUAL|-\n"
      .. "G01|Strict|-|AUTOMATIC|- G02|-|2031|-|AUTO_LOCK sa1|-|-|MANUAL|-\n"
      .. "G01|Strict|-|AUTOMATIC|- G02|-|2031|-|AUTO_LOCK sa1|-|-|MANUAL|-\n"
      .. "G02|-|2031|-|AUTO_LOCK\n"
      .. "sa1|Strict|-|-|-\n"
      .. "\n"
      .. "nil\tnil\n", out)
    local log = s:requests()
    assert.equals(6, count(log, function(r) return r.type == "mutation" and r.operation:match("^ResourceAccess") end))
  end)

  it("creates, updates and deletes Kubernetes, SSH and web app resources", function()
    local rc, out, err = run(s, [[
      local protocols = require "twingate.protocols"
      local rn = tg.remote_networks:find("Lab")
      local ca = tg:mutate("mutation($n: String!, $c: String!) { x509CertificateAuthorityCreate(name: $n, certificate: $c) { ok error entity { id } } }",
        { n = "ca", c = "PEM" }).x509CertificateAuthorityCreate.entity
      local gw = tg:mutate("mutation($a: String!, $r: ID!, $x: ID!) { gatewayCreate(address: $a, remoteNetworkId: $r, x509CAId: $x) { ok error entity { id } } }",
        { a = "gw:443", r = rn.id, x = ca.id }).gatewayCreate.entity
      local k = tg.resources:create_kubernetes{ name = "k8s", address = "k8s.local", remoteNetworkId = rn.id,
        gatewayId = gw.id, upstream = 6443, tags = { env = "dev" } }
      local h = tg.resources:create_ssh{ name = "bastion", address = "10.4.0.1", remoteNetworkId = rn.id,
        gatewayId = gw.id, protocols = "tcp:22", upstream = { port = 22 } }
      local w = tg.resources:create_web_app{ name = "wiki", address = "wiki.local", remoteNetworkId = rn.id,
        gatewayId = gw.id, requestHeaderRewrites = { ["X-Env"] = "prod" }, downstream = 443 }
      print(k.__typename, k.gateway.id == gw.id, k.upstream.port, k.tags[1].value)
      print(h.__typename, protocols.format(h.protocols), h.upstream.port)
      print(w.__typename, w.requestHeaderRewrites[1].key, w.downstream.port)
      k = tg.resources:update_kubernetes(k.id, { alias = "k.corp", tags = twingate.null })
      h = tg.resources:update_ssh(h.id, { upstream = 2222 })
      w = tg.resources:update_web_app(w.id, { requestHeaderRewrites = twingate.null })
      print(k.alias, #k.tags, h.upstream.port, #w.requestHeaderRewrites)
      -- read back through the interface: type-specific fields via fragments
      local got = tg.resources:get_many({ k.id, h.id, w.id, "UmVzb3VyY2U6OTk5OQ==" }, { include = { "access" } })
      print(got.n, got[1].clusterRef == nil, got[2].upstream.port, got[3].__typename, got[4], #got[1].access)
      -- an update of the wrong kind is "not found"
      local ok, e = pcall(tg.resources.update, tg.resources, h.id, { name = "x" })
      print(ok, e.kind)
      for _, id in ipairs{ k.id, h.id, w.id } do assert(tg.resources:delete(id) == true) end
      print(tg.resources:get(k.id))
      ok, e = pcall(tg.resources.delete, tg.resources, k.id)
      print(ok, e.kind)
    ]])
    assert.equals(0, rc, err)
    assert.equals("KubernetesResource\ttrue\t6443\tdev\n"
      .. "SSHResource\ttcp:22\t22\n"
      .. "WebAppResource\tX-Env\t443\n"
      .. "k.corp\t0\t2222\t0\n"
      .. "4\ttrue\t2222\tWebAppResource\tnil\t0\n"
      .. "false\tnot_found\n"
      .. "nil\n"
      .. "false\tnot_found\n", out)
  end)

  it("sends no mutation with --dry-run and returns placeholders", function()
    local rc, out, err = run(s, [[
      local rn = tg.remote_networks:find("Lab")
      local r = tg.resources:create{ name = "dry", address = "10.9.9.9", remoteNetworkId = rn.id }
      print(r.id, r.dry_run)
      local big = tg.resources:find("big")
      print(tg.resources:access_set(big.id, {}).dry_run)
    ]], "--dry-run")
    assert.equals(0, rc, err)
    assert.equals("dry-run:Resource:1\ttrue\ntrue\n", out)
    assert.equals(0, count(s:requests(), function(r) return r.type == "mutation" end))
  end)
end)
