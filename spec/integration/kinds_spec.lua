-- Every kind of object of issue 3 against the simulator, through the built
-- binary: create, read back, update, delete, special operations, nested lists
-- spanning several pages (page-max 2), get_many, find collisions. #integration
local sim = require "spec.support.sim"
local cli = require "spec.support.cli"
local cjson = require "cjson"

local TOKEN = "kinds-spec-token"

-- Run `code` as a script with the binary against simulator `s`; returns exit code, stdout, stderr.
local run = cli.script_runner{ token = TOKEN, prelude = true }

local count = cli.count

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(s)
  return ((s:gsub(".", function(c)
    local b, r = c:byte(), ""
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return B64:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

local function seed()
  local users = {}
  for i = 1, 7 do users[i] = { email = "member" .. i .. "@example.com", firstName = "M" .. i } end
  local members = {}
  for i = 1, 5 do members[i] = users[i].email end
  local connectors, resources = {}, {}
  for i = 1, 5 do connectors[i] = { name = "lab-c" .. i, state = "ALIVE" } end
  for i = 1, 5 do resources[i] = { name = "svc" .. i, address = "svc" .. i .. ".lab", groups = { "Five" } } end
  return {
    users = users,
    groups = { { name = "Five", members = members }, { name = "Twin", members = {} }, { name = "Twin", members = {} } },
    remoteNetworks = { { name = "Lab", location = "AWS", connectors = connectors, resources = resources } },
    devices = {
      { user = "member1@example.com", name = "mac-1", serialNumber = "SN-1" },
      { user = "member1@example.com", name = "mac-2", serialNumber = "SN-2" },
      { user = "member1@example.com", name = "mac-3", serialNumber = "SN-1" },
    },
    serialNumbers = { "SN-1" },
  }
end

describe("#integration twingate kinds against the simulator", function()
  local s

  sim.suite{
    start = { token = TOKEN, seed = seed(), rate_limit = false, page_max = 2 },
    started = function(x) s = x end,
  }

  it("connectors: create, read back, update, generate tokens (never logged), delete", function()
    local rc, out, err = run(s, [[
      local rn = tg.remote_networks:find("Lab")
      local c = tg.connectors:create{ remoteNetworkId = rn.id, name = "edge-1" }
      print("created", c.name, c.remoteNetwork.name)
      print("get", tg.connectors:get(c.id).name, tg.connectors:find("edge-1").id == c.id)
      print("updated", tg.connectors:update(c.id, { name = "edge-2", hasStatusNotificationsEnabled = false }).name,
        tg.connectors:get(c.id).hasStatusNotificationsEnabled)
      local t = tg.connectors:generate_tokens(c.id)
      io.stderr:write("TOKENS " .. t.accessToken .. " " .. t.refreshToken .. "\n")
      local ok, e = pcall(error, twingate.errors.new("mutation", "leak " .. t.refreshToken))
      print("redacted", tostring(e):find(t.refreshToken, 1, true) == nil, #t.accessToken > 10)
      print("tokens", t.accessToken)
      print("deleted", tg.connectors:delete(c.id), tg.connectors:get(c.id))
      local ok2, e2 = pcall(tg.connectors.generate_tokens, tg.connectors, c.id)
      print("gone", ok2, e2.kind)
    ]], "-vv")
    assert.equals(0, rc, err)
    assert.matches("created\tedge-1\tLab\n", out, 1, true)
    assert.matches("get\tedge-1\ttrue\n", out, 1, true)
    assert.matches("updated\tedge-2\tfalse\n", out, 1, true)
    assert.matches("redacted\ttrue\ttrue\n", out, 1, true)
    assert.matches("deleted\ttrue\tnil\ngone\tfalse\tnot_found\n", out, 1, true)
    -- the script printed the token on purpose; the module never logged it
    local token = out:match("tokens\t(%S+)")
    local logged = err:gsub("TOKENS [^\n]*\n", "")
    assert.is_nil(logged:find(token, 1, true))
    assert.matches("ConnectorGenerateTokens", logged)
  end)

  it("remote networks: connectors, resources and gateways complete over several pages", function()
    local rc, out, err = run(s, [[
      local list = tg.remote_networks:list(nil, { include = { "connectors", "resources", "gateways" } })
      local rn = list[1]
      print(#list, rn.name, #rn.connectors, #rn.resources, #rn.gateways, rn.connectors[5].name)
    ]])
    assert.equals(0, rc, err)
    assert.equals("1\tLab\t5\t5\t0\tlab-c5\n", out)
    local log = s:requests()
    -- 1 list page + rounds of batched completions (connectors and resources together)
    assert.equals(1, count(log, function(r) return r.operation == "ListRemoteNetworks" end))
    assert.equals(2, count(log, function(r) return r.operation == "CompleteRemoteNetworks" end))
    assert.equals(3, #log)
  end)

  it("users: create without invite, update, role, state, reset MFA, nested groups and devices, delete", function()
    local rc, out, err = run(s, [[
      local u = tg.users:create{ email = "new.person@example.com", firstName = "New", shouldSendInvite = false }
      print("created", u.email, u.state)
      print("updated", tg.users:update(u.id, { lastName = "Person" }).lastName)
      print("role", tg.users:set_role(u.id, "DEVOPS").role, tg.users:get(u.id).role)
      print("state", tg.users:set_state(u.id, "DISABLED").state)
      print("mfa", tg.users:reset_mfa(u.id).id == u.id)
      local m1 = tg.users:get(tg.users:find("member1@example.com").id, { include = { "groups", "devices" } })
      print("m1", #m1.groups, m1.groups[1].name, #m1.devices)
      print("deleted", tg.users:delete(u.id), tg.users:get(u.id))
      local ok, e = pcall(tg.users.set_role, tg.users, u.id, "ADMIN")
      print("gone", ok, e.kind)
    ]])
    assert.equals(0, rc, err)
    assert.matches("created\tnew.person@example.com\tPENDING\n", out, 1, true)
    assert.matches("updated\tPerson\n", out, 1, true)
    assert.matches("role\tDEVOPS\tDEVOPS\n", out, 1, true)
    assert.matches("state\tDISABLED\n", out, 1, true)
    assert.matches("mfa\ttrue\n", out, 1, true)
    assert.matches("m1\t1\tFive\t3\n", out, 1, true)
    assert.matches("deleted\ttrue\tnil\ngone\tfalse\tnot_found\n", out, 1, true)
  end)

  it("devices: every page, trust, untrust, block, unblock, archive, unarchive", function()
    local rc, out, err = run(s, [[
      local list = tg.devices:list()
      print("devices", #list)
      local d = list[1]
      print("trust", tg.devices:trust(d.id).isTrusted, tg.devices:get(d.id).isTrusted)
      print("untrust", tg.devices:untrust(d.id).isTrusted)
      print("block", tg.devices:block(d.id).activeState)
      print("unblock", tg.devices:unblock(d.id).activeState)
      print("archive", tg.devices:archive(d.id).activeState)
      print("unarchive", tg.devices:unarchive(d.id).activeState)
      print("trusted", #tg.devices:list{ isTrusted = { eq = true } })
      local ok, e = pcall(tg.devices.block, tg.devices, "RGV2aWNlOjk5OQ==")
      print("missing", ok, e.kind)
    ]])
    assert.equals(0, rc, err)
    assert.matches("devices\t3\n", out, 1, true)
    assert.matches("trust\ttrue\ttrue\nuntrust\tfalse\n", out, 1, true)
    assert.matches("block\tBLOCKED\nunblock\tACTIVE\narchive\tARCHIVED\nunarchive\tACTIVE\n", out, 1, true)
    assert.matches("trusted\t0\nmissing\tfalse\tnot_found\n", out, 1, true)
    -- 3 devices, page-max 2: two pages for the list, one for the filtered list
    assert.equals(3, count(s:requests(), function(r) return r.operation == "ListDevices" end))
  end)

  it("serial numbers: create, find with matched devices as a plain list, delete", function()
    local rc, out, err = run(s, [[
      local created = tg.serial_numbers:create{ "SN-2", "SN-9" }
      print("created", #created, created[1].serialNumber, #created[1].matchedDevices)
      local sn1 = tg.serial_numbers:find("SN-1")
      print("sn1", #sn1.matchedDevices, sn1.matchedDevices[1].name)
      print("all", #tg.serial_numbers:list(), #tg.serial_numbers:list{ hasMatchedDevices = { eq = true } })
      print("deleted", tg.serial_numbers:delete{ "SN-9" }, tg.serial_numbers:find("SN-9"))
      print("get", pcall(tg.serial_numbers.get, tg.serial_numbers, sn1.id))
    ]])
    assert.equals(0, rc, err)
    assert.matches("created\t2\tSN-2\t1\n", out, 1, true)
    assert.matches("sn1\t2\tmac-1\n", out, 1, true)
    assert.matches("all\t3\t2\n", out, 1, true)
    assert.matches("deleted\ttrue\tnil\n", out, 1, true)
    assert.matches("get\tfalse\t", out, 1, true)
  end)

  it("access requests: list, get, approve, reject", function()
    -- the simulator has no seed key for access requests: splice them into its state
    -- dump (text edit, so empty JSON arrays elsewhere stay arrays)
    local raw = s:request{ method = "GET", path = "/_sim/state" }.body
    local t = cjson.decode(raw).tables
    local user, res = t.users[1], t.resources[1]
    local reqs = {
      { id = base64("AccessRequest:1"), userId = user.id, resourceId = res.id, reason = "on call",
        requestedAt = "2026-01-01T00:00:00.000Z", status = "PENDING" },
      { id = base64("AccessRequest:2"), userId = user.id, resourceId = res.id, reason = "audit",
        requestedAt = "2026-01-02T00:00:00.000Z", status = "PENDING" },
      { id = base64("AccessRequest:3"), userId = t.users[2].id, resourceId = res.id, reason = "x",
        requestedAt = "2026-01-03T00:00:00.000Z", status = "PENDING" },
    }
    local edited, n = raw:gsub('"accessRequests":%[%]', function() return '"accessRequests":' .. cjson.encode(reqs) end)
    assert.equals(1, n)
    edited = edited:gsub('"accessRequests":1,', '"accessRequests":4,', 1)
    local res_load = s:request{ method = "POST", path = "/_sim/state", body = edited }
    assert.equals(200, res_load.status, res_load.body)
    local rc, out, err = run(s, [[
      local list = tg.access_requests:list()
      print("list", #list, list[1].reason, list[1].user.email, list[1].resource.name)
      print("filtered", #tg.access_requests:list{ userId = { ["in"] = { list[3].user.id } } })
      print("approve", tg.access_requests:approve(list[1].id), tg.access_requests:get(list[1].id).status)
      print("reject", tg.access_requests:reject(list[2].id), tg.access_requests:get(list[2].id).status)
      print("find", pcall(tg.access_requests.find, tg.access_requests, "x"))
    ]])
    assert.equals(0, rc, err)
    assert.matches("list\t3\ton call\tmember1@example.com\tsvc1\n", out, 1, true)
    assert.matches("filtered\t1\n", out, 1, true)
    assert.matches("approve\ttrue\tAPPROVED\nreject\ttrue\tREJECTED\n", out, 1, true)
    assert.matches("find\tfalse\t", out, 1, true)
  end)

  it("DNS filtering profiles: plain list, create, update, groups over pages, delete", function()
    local rc, out, err = run(s, [[
      local p = tg.dns_filtering_profiles:create{ name = "Strict" }
      local five = tg.groups:find("Five")
      local ids = {}
      for _, g in ipairs(tg.groups:list()) do ids[#ids + 1] = g.id end
      p = tg.dns_filtering_profiles:update(p.id, { deniedDomains = { "bad.example" }, groups = ids,
        fallbackMethod = "STRICT", privacyCategoryConfig = { blockAdsAndTrackers = true } })
      print("updated", p.deniedDomains[1], p.fallbackMethod, p.privacyCategoryConfig.blockAdsAndTrackers)
      local list = tg.dns_filtering_profiles:list()
      print("list", #list, list[1].name, list[1].fallbackMethod)
      local full = tg.dns_filtering_profiles:list(nil, { include = { "groups" } })
      print("full", full[1].fallbackMethod, #full[1].groups)
      print("find", tg.dns_filtering_profiles:find("Strict").id == p.id)
      print("deleted", tg.dns_filtering_profiles:delete(p.id), #tg.dns_filtering_profiles:list())
    ]])
    assert.equals(0, rc, err)
    assert.matches("updated\tbad.example\tSTRICT\ttrue\n", out, 1, true)
    assert.matches("list\t1\tStrict\tnil\n", out, 1, true)
    assert.matches("full\tSTRICT\t3\n", out, 1, true)
    assert.matches("find\ttrue\ndeleted\ttrue\t0\n", out, 1, true)
  end)

  it("certificate authorities and gateways: create, read back, update, delete", function()
    local rc, out, err = run(s, [[
      local x = tg.certificate_authorities:create_x509{ name = "int-ca", certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----" }
      local ssh = tg.certificate_authorities:create_ssh{ name = "ssh-ca", publicKey = "ssh-ed25519 AAAAC3Nza test" }
      print("cas", x.__typename, ssh.__typename, #tg.certificate_authorities:list())
      print("find", tg.certificate_authorities:find("ssh-ca").__typename, tg.certificate_authorities:get(x.id).name)
      local rn = tg.remote_networks:find("Lab")
      local gw = tg.gateways:create{ address = "gw.lab:8443", remoteNetworkId = rn.id, x509CAId = x.id }
      print("gw", gw.address, gw.x509CA.name, gw.sshCA)
      gw = tg.gateways:update(gw.id, { sshCAId = ssh.id })
      print("gw2", gw.sshCA.name, tg.gateways:find("gw.lab:8443").id == gw.id)
      local nets = tg.remote_networks:list(nil, { include = { "gateways" } })
      print("nested", #nets[1].gateways)
      print("gw deleted", tg.gateways:delete(gw.id), tg.gateways:get(gw.id))
      print("ca deleted", tg.certificate_authorities:delete(x.id), tg.certificate_authorities:delete(ssh.id),
        #tg.certificate_authorities:list())
    ]])
    assert.equals(0, rc, err)
    assert.matches("cas\tX509CertificateAuthority\tSSHCertificateAuthority\t2\n", out, 1, true)
    assert.matches("find\tSSHCertificateAuthority\tint-ca\n", out, 1, true)
    assert.matches("gw\tgw.lab:8443\tint-ca\tnil\n", out, 1, true)
    assert.matches("gw2\tssh-ca\ttrue\nnested\t1\n", out, 1, true)
    assert.matches("gw deleted\ttrue\tnil\nca deleted\ttrue\ttrue\t0\n", out, 1, true)
  end)

  it("webhooks, DLP policies and the OIDC provider URL", function()
    local rc, out, err = run(s, [[
      local w = tg.webhooks:create{ name = "audit", url = "https://hooks.example.com/a" }
      print("created", w.name, w.url)
      print("updated", tg.webhooks:update(w.id, { url = "https://hooks.example.com/b" }).url,
        tg.webhooks:find("audit").url)
      print("deleted", tg.webhooks:delete(w.id), #tg.webhooks:list())
      print("dlp", #tg.dlp_policies:list(), pcall(tg.dlp_policies.create, tg.dlp_policies, { name = "x" }))
      print("oidc", tg:events_sync_oidc_provider_url())
    ]])
    assert.equals(0, rc, err)
    assert.matches("created\taudit\thttps://hooks.example.com/a\n", out, 1, true)
    assert.matches("updated\thttps://hooks.example.com/b\thttps://hooks.example.com/b\n", out, 1, true)
    assert.matches("deleted\ttrue\t0\n", out, 1, true)
    assert.matches("dlp\t0\tfalse\t", out, 1, true)
    assert.matches("oidc\thttps?://%S+\n", out)
  end)

  it("get_many: batched, order kept, nil for missing ids, nested lists completed", function()
    local rc, out, err = run(s, [[
      local ids = {}
      for u in tg.users:each() do ids[#ids + 1] = u.id end
      table.insert(ids, 3, "VXNlcjo5OTk5")
      local got = tg.users:get_many(ids, { batch_size = 3 })
      local line = {}
      for i = 1, got.n do line[i] = got[i] and got[i].email:match("^%a+%d") or "nil" end
      print(got.n, table.concat(line, ","))
      local gs = tg.groups:get_many({ tg.groups:find("Five").id }, { include = { "users", "resources" } })
      print("five", #gs[1].users, #gs[1].resources)
    ]])
    assert.equals(0, rc, err)
    assert.matches("^8\tmember1,member2,nil,member3,member4,member5,member6,member7\n", out)
    assert.matches("five\t5\t5\n", out, 1, true)
    local log = s:requests()
    assert.equals(3, count(log, function(r) return r.operation == "GetManyUsers" end))
  end)

  it("find raises invalid_argument listing the candidates when names collide", function()
    local rc, out, err = run(s, [[
      local ok, e = pcall(tg.groups.find, tg.groups, "Twin")
      print(ok, e.kind, #e.ids)
      print(tg.groups:find("No such group"))
    ]])
    assert.equals(0, rc, err)
    assert.equals("false\tinvalid_argument\t2\nnil\n", out)
  end)
end)
