-- tg.service_accounts and tg.service_account_keys through the built binary against
-- the simulator: CRUD, resource set edits, keys (token shown once, never logged),
-- nested lists over several pages (page_max 10). #integration
local sim = require "spec.support.sim"
local cli = require "spec.support.cli"

local TOKEN = "sa-spec-token"
local TOKEN_FILE = os.tmpname() -- the key token travels back through this file

-- Run `code` with the binary against simulator `s`; returns exit code, stdout, stderr.
local run = cli.script_runner{ token = TOKEN, prelude = true, env = { TOKEN_FILE = TOKEN_FILE } }

local function seed()
  local resources = {}
  for i = 1, 23 do resources[i] = { name = string.format("r%02d", i), address = "10.0.0." .. i, serviceAccounts = { "wide" } } end
  return { serviceAccounts = { { name = "wide" }, { name = "twin" }, { name = "twin" } },
    remoteNetworks = { { name = "Lab", resources = resources } } }
end

describe("#integration tg.service_accounts against the simulator", function()
  local s

  sim.suite{
    start = { token = TOKEN, seed = seed(), rate_limit = false, page_max = 10 },
    started = function(x) s = x end,
  }

  it("creates, reads back, edits the resource set, renames and deletes", function()
    local rc, out, err = run(s, [[
      local rs = tg.resources:list{ name = { ["in"] = { "r01", "r02", "r03" } } }
      local sa = tg.service_accounts:create{ name = "ci", resourceIds = { rs[1].id, rs[2].id } }
      local function names()
        local n = {}
        for r in tg.service_accounts:resources(sa.id) do n[#n + 1] = r.name end
        table.sort(n)
        return table.concat(n, ",")
      end
      print(sa.name, names())
      local u = tg.service_accounts:update(sa.id, { addedResourceIds = { rs[3].id }, removedResourceIds = { rs[1].id } })
      print(u.name, names())
      u = tg.service_accounts:update(sa.id, { name = "ci-2" })  -- omitted resources keep
      print(tg.service_accounts:get(sa.id).name, names())
      tg.service_accounts:update(sa.id, { resourceIds = { rs[1].id } })  -- plain list replaces
      print(names())
      print(tg.service_accounts:delete(sa.id), tg.service_accounts:get(sa.id))
      local ok, e = pcall(tg.service_accounts.update, tg.service_accounts, sa.id, { name = "x" })
      print(ok, e.kind)
    ]])
    assert.equals(0, rc, err)
    assert.equals("ci\tr01,r02\nci\tr02,r03\nci-2\tr02,r03\nr01\ntrue\tnil\nfalse\tnot_found\n", out)
  end)

  it("reads nested resources and keys over several pages, and finds collisions", function()
    local rc, out, err = run(s, [[
      local wide = tg.service_accounts:find("wide", { include = { "resources", "keys" } })
      for i = 1, 12 do tg.service_account_keys:create{ serviceAccountId = wide.id, name = "k" .. i, expirationTime = 0 } end
      local n = 0
      for _ in tg.service_accounts:keys(wide.id) do n = n + 1 end
      local again = tg.service_accounts:list(nil, { include = { "resources", "keys" } })
      print(#wide.resources, n, #again[1].resources, #again[1].keys)
      print(tg.service_accounts:find("nobody"))
      local ok, e = pcall(tg.service_accounts.find, tg.service_accounts, "twin")
      print(ok, e.kind, #e.ids)
    ]])
    assert.equals(0, rc, err)
    assert.equals("23\t12\t23\t12\nnil\nfalse\tinvalid_argument\t2\n", out)
  end)

  it("creates a key whose token is returned once and never logged, renames, revokes and deletes it", function()
    local rc, out, err = run(s, [[
      local sa = tg.service_accounts:find("wide")
      local key = tg.service_account_keys:create{ serviceAccountId = sa.id, name = "deploy", expirationTime = 30 }
      io.stderr:write("token in an error: ", tostring(twingate.errors.new("mutation", "x " .. key.token)), "\n")
      local f = assert(io.open(os.getenv("TOKEN_FILE"), "w")); f:write(key.token); f:close()
      print(key.name, key.status, key.expiresAt ~= nil, #key.token > 20)
      print(tg.service_account_keys:get(key.id).token)       -- not readable again
      print(tg.service_account_keys:find("deploy", { serviceAccountId = sa.id }).id == key.id)
      print(tg.service_account_keys:update(key.id, { name = "deploy-2" }).name)
      local ok, e = pcall(tg.service_account_keys.delete, tg.service_account_keys, key.id)
      print(ok, e.kind)                                       -- active keys are revoked first
      print(tg.service_account_keys:revoke(key.id).status, tg.service_account_keys:revoke(key.id).status)
      print(tg.service_account_keys:delete(key.id), tg.service_account_keys:get(key.id))
      ok, e = pcall(tg.service_account_keys.create, tg.service_account_keys, { serviceAccountId = sa.id })
      print(ok, e.kind)
      ok, e = pcall(tg.service_account_keys.list, tg.service_account_keys)
      print(ok, e.kind)
    ]], "-v")
    assert.equals(0, rc, err)
    assert.equals("deploy\tACTIVE\ttrue\ttrue\nnil\ntrue\ndeploy-2\nfalse\tmutation\nREVOKED\tREVOKED\n"
      .. "true\tnil\nfalse\tinvalid_argument\nfalse\tinvalid_argument\n", out)
    local token = cli.slurp(TOKEN_FILE)
    os.remove(TOKEN_FILE)
    assert.is_true(#token > 20)
    assert.is_nil(err:find(token, 1, true))
    assert.matches("token in an error: twingate: mutation: x [REDACTED]", err, nil, true)
    assert.matches("ServiceAccountKeyCreate", err, nil, true) -- -v did log the request
  end)
end)
