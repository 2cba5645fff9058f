-- tg.security_policies through the built binary against the simulator: read,
-- find, groups over several pages (page_max 10), update with replace and set edits. #integration
local sim = require "spec.support.sim"
local cli = require "spec.support.cli"

local TOKEN = "policies-spec-token"

-- Run `code` with the binary against simulator `s`; returns exit code, stdout, stderr.
local run = cli.script_runner{ token = TOKEN, prelude = true }

local function seed()
  local groups = {}
  for i = 1, 24 do groups[i] = { name = string.format("G%02d", i), securityPolicy = i <= 21 and "Strict" or nil } end
  return { groups = groups, securityPolicies = { { name = "Strict", policyType = "RESOURCE" }, { name = "Lax", policyType = "RESOURCE" } } }
end

describe("#integration tg.security_policies against the simulator", function()
  local s

  sim.suite{
    start = { token = TOKEN, seed = seed(), rate_limit = false, page_max = 10 },
    started = function(x) s = x end,
  }

  it("lists, gets and finds policies with every group over several pages", function()
    local rc, out, err = run(s, [[
      local strict = tg.security_policies:find("Strict", { include = { "groups" } })
      print(strict.name, strict.policyType, #strict.groups)
      local n = 0
      for _ in tg.security_policies:groups(strict.id) do n = n + 1 end
      local all = tg.security_policies:list(nil, { include = { "groups" } })
      local names = {}
      for _, p in ipairs(all) do names[#names + 1] = p.name .. ":" .. #p.groups end
      table.sort(names)
      print(n, table.concat(names, " "))
      print(tg.security_policies:get(strict.id).name, tg.security_policies:find("nope"))
      print(tg.security_policies:get("U2VjdXJpdHlQb2xpY3k6OTk5"))
    ]])
    assert.equals(0, rc, err)
    assert.equals("Strict\tRESOURCE\t21\n21\tDefault Policy:3 Lax:0 Strict:21\nStrict\tnil\nnil\n", out)
  end)

  it("updates the groups of a policy: set edits, then replace; removed groups fall back to the default", function()
    local rc, out, err = run(s, [[
      local lax = tg.security_policies:find("Lax")
      local g = {}
      for _, x in ipairs(tg.groups:list{ name = { ["in"] = { "G01", "G02", "G22" } } }) do g[x.name] = x.id end
      local function names()
        local n = {}
        for x in tg.security_policies:groups(lax.id) do n[#n + 1] = x.name end
        table.sort(n)
        return table.concat(n, ",")
      end
      tg.security_policies:update(lax.id, { addedGroupIds = { g.G01, g.G22 } })
      print(names(), tg.groups:get(g.G01).securityPolicy.name)
      tg.security_policies:update(lax.id, { removedGroupIds = { g.G01 }, addedGroupIds = { g.G02 } })
      print(names(), tg.groups:get(g.G01).securityPolicy.name)
      tg.security_policies:update(lax.id, { groupIds = { g.G01 } })
      print(names())
      local ok, e = pcall(tg.security_policies.create, tg.security_policies, { name = "x" })
      print(ok, e.kind)
      ok, e = pcall(tg.security_policies.update, tg.security_policies, "U2VjdXJpdHlQb2xpY3k6OTk5", { groupIds = {} })
      print(ok, e.kind)
    ]])
    assert.equals(0, rc, err)
    assert.equals("G01,G22\tLax\nG02,G22\tDefault Policy\nG01\nfalse\tinvalid_argument\nfalse\tnot_found\n", out)
  end)
end)
