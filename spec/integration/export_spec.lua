-- scripts/export.lua through the built binary against the simulator: the
-- round trip (export resources and memberships, import them into an empty
-- tenant with import-resources and sync-group-members, export again: the same
-- bytes), formats, formula neutralisation, flattening, ordering, bad usage.
local sim = require "spec.support.sim"
local cjson = require "cjson"

local cli = require "spec.support.cli"

local slurp, tmpname = cli.slurp, cli.tmppath

-- Run the binary against simulator `s`; returns exit code, stdout, stderr.
local function run(s, args)
  return cli.run(args, cli.against(s))
end

local G_SEMI = 'Ops; EU "night", {shift} $x \\ back'
local G_FORMULA = "=HYPERLINK(\"x\")"
local G_UNI = "Développeurs 開発 ✨"
local R_HOSTILE = '=cmd|calc "db", {x} $y\nsecond line'

-- cjson 2.1.0 writes {} for an empty table: mark empty arrays and fix the text
local EMPTY = "__EMPTY_ARRAY__"
local function load_seed(s, seed)
  local text = cjson.encode(seed):gsub('"' .. EMPTY .. '"', "[]")
  local res = s:request{ method = "POST", path = "/_sim/state", body = text }
  assert(res.status == 200, res.body)
end

local function users()
  local u = {}
  for i = 1, 12 do u[i] = { email = string.format("User%02d@Example.com", i) } end
  return u
end

-- Names, policies, networks: what the empty tenant of the round trip starts with.
local function base(with_data)
  local groups = {
    { name = "Eng" }, { name = G_SEMI }, { name = G_FORMULA }, { name = G_UNI }, { name = " padded " },
  }
  if with_data then
    groups[1].members = { "user01@example.com", "user02@example.com" }
    groups[2].members = { "user03@example.com", "User04@example.com" }
    groups[4].members = { "user05@example.com" }
  end
  local nets = { { name = "AWS, Prod" }, { name = "Office ü" }, { name = "-Lab" } }
  if with_data then
    nets[1].resources = {
      { name = "db", address = "10.0.0.5", alias = "db.corp", groups = { "Eng", G_SEMI },
        protocols = { allowIcmp = true, tcp = { policy = "RESTRICTED", ports = { { start = 5432, ["end"] = 5432 },
          { start = 22, ["end"] = 22 } } }, udp = { policy = "RESTRICTED", ports = EMPTY } },
        tags = { { key = "env", value = "prod" }, { key = "k=1;x", value = "@v" } }, securityPolicy = "Strict" },
      { name = R_HOSTILE, address = "weird.internal", groups = { G_FORMULA, " padded " }, isVisible = false,
        isBrowserShortcutEnabled = true },
      { name = "api", address = "10.0.0.0/24", groups = { G_UNI } },
    }
    nets[2].resources = { { name = "wiki", address = "wiki.office", tags = { { key = "+plus", value = "" } } } }
    nets[3].resources = { { name = "db", address = "10.9.9.9",
      protocols = { allowIcmp = false, tcp = { policy = "ALLOW_ALL", ports = EMPTY },
        udp = { policy = "RESTRICTED", ports = { { start = 53, ["end"] = 53 } } } } } }
  end
  return {
    users = users(), groups = groups, remoteNetworks = nets,
    securityPolicies = { { name = "Strict", policyType = "RESOURCE" } },
  }
end

describe("scripts/export.lua #integration", function()
  local s
  sim.suite{
    prepare = function(x) load_seed(x, base(true)) end,
    teardown = cli.cleanup,
    started = function(x) s = x end,
  }

  describe("round trip", function()
    it("export, import into an empty tenant, export again gives the same bytes", function()
      local res1, mem1 = tmpname(".csv"), tmpname(".csv")
      assert.are.equal(0, (run(s, { "scripts/export.lua", "resources", "--output", res1 })))
      assert.are.equal(0, (run(s, { "scripts/export.lua", "group-members", "--output", mem1 })))
      local empty = sim.start{ rate_limit = "off", seed = base(false) }
      local ok, e = pcall(function()
        local code, out, err = run(empty, { "scripts/import-resources.lua", res1 })
        assert.are.equal(0, code, out .. err)
        code, out, err = run(empty, { "scripts/sync-group-members.lua", mem1 })
        assert.are.equal(0, code, out .. err)
        local res2, mem2 = tmpname(".csv"), tmpname(".csv")
        assert.are.equal(0, (run(empty, { "scripts/export.lua", "resources", "--output", res2 })))
        assert.are.equal(0, (run(empty, { "scripts/export.lua", "group-members", "--output", mem2 })))
        assert.are.equal(slurp(res1), slurp(res2))
        assert.are.equal(slurp(mem1), slurp(mem2))
        -- and importing the export again changes nothing
        code, out = run(empty, { "scripts/import-resources.lua", res2 })
        assert.are.equal(0, code)
        assert.matches("No changes", out, 1, true)
      end)
      empty:stop()
      if not ok then error(e, 0) end
    end)

    it("keeps access and tags on import of an export with items ending in a backslash and a space", function()
      local b = sim.start{ rate_limit = "off", seed = {
        groups = { { name = "x\\ " }, { name = "x\\" }, { name = " \\" } },
        remoteNetworks = { { name = "N", resources = {
          { name = "r", address = "10.0.0.1", groups = { "x\\ ", " \\" },
            tags = { { key = "k\\ ", value = "v\\ " }, { key = "a", value = "b;c=d" } } },
        } } },
      } }
      local ok, e = pcall(function()
        local path = tmpname(".csv")
        local code, out, err = run(b, { "scripts/export.lua", "resources", "--output", path })
        assert.are.equal(0, code, out .. err)
        code, out, err = run(b, { "scripts/import-resources.lua", path })
        assert.are.equal(0, code, out .. err)
        assert.matches("No changes.", out, 1, true)
        assert.not_matches("groups", out, 1, true)
      end)
      b:stop()
      if not ok then error(e, 0) end
    end)

    it("writes the resource columns, sorted by network, name and id, with relations flattened", function()
      local code, out, err = run(s, { "scripts/export.lua", "resources" })
      assert.are.equal(0, code, err)
      local lines = {}
      for l in out:gmatch("[^\n]*\n") do lines[#lines + 1] = l end
      assert.are.equal("name,address,network,alias,protocols,groups,security_policy,tags,visible,browser_shortcut,type\n",
        lines[1])
      -- "-Lab" sorts first, neutralised
      assert.are.equal("db,10.9.9.9,'-Lab,,tcp:all;udp:53,,,,true,false,NetworkResource\n", lines[2])
      assert.matches('db,10.0.0.5,"AWS, Prod",db.corp,"tcp:22,5432;icmp","Eng;Ops\\; EU ""night"", {shift} $x \\\\ back",'
        .. 'Strict,env=prod;k\\=1\\;x=@v,true,false,NetworkResource', out, 1, true)
      assert.matches("'=cmd|calc \"\"db\"\", {x} $y\nsecond line", out, 1, true)
      assert.not_matches("'=HYPERLINK", out, 1, true)   -- only a cell's start is neutralised
      assert.matches('"\\ padded\\ ;=HYPERLINK(""x"")"', out, 1, true)
      assert.matches("wiki,wiki.office,Office ü,,all,,,'+plus=,true,false,NetworkResource", out, 1, true)
    end)
  end)

  describe("formats", function()
    it("writes json and jsonl with the same records, keys in column order, no formula prefix", function()
      local code, out = run(s, { "scripts/export.lua", "resources", "--format", "json" })
      assert.are.equal(0, code)
      local list = cjson.decode(out)
      assert.are.equal(5, #list)
      assert.are.equal("-Lab", list[1].network)
      assert.are.equal(false, list[1].browser_shortcut)
      assert.matches('^%[\n{"name":"db","address":"10.9.9.9","network":"%-Lab"', out)
      -- every empty value is null, never ""
      assert.not_matches('""', out, 1, true)
      assert.matches('"alias":null', out, 1, true)
      assert.matches('"groups":null', out, 1, true)
      local jl
      code, jl = run(s, { "scripts/export.lua", "resources", "--format", "jsonl" })
      assert.are.equal(0, code)
      local n = 0
      for line in jl:gmatch("[^\n]+") do
        n = n + 1
        assert.are.same(list[n], cjson.decode(line))
      end
      assert.are.equal(5, n)
    end)

    it("exports group memberships as group,email rows sorted by group and email", function()
      local code, out = run(s, { "scripts/export.lua", "group-members" })
      assert.are.equal(0, code)
      -- byte order: "D\u{E9}veloppeurs" < "Eng" < "Ops"
      assert.are.equal("group,email\n" .. G_UNI .. ",User05@Example.com\nEng,User01@Example.com\n"
        .. "Eng,User02@Example.com\n"
        .. "\"Ops; EU \"\"night\"\", {shift} $x \\ back\",User03@Example.com\n"
        .. "\"Ops; EU \"\"night\"\", {shift} $x \\ back\",User04@Example.com\n", out)
    end)

    it("exports any collection with relations as names", function()
      local code, out = run(s, { "scripts/export.lua", "remote-networks" })
      assert.are.equal(0, code)
      assert.matches("^id,name,", out)
      assert.matches("'%-Lab", out)
      code, out = run(s, { "scripts/export.lua", "groups", "--format", "jsonl" })
      assert.are.equal(0, code)
      local first = cjson.decode(out:match("^[^\n]+"))
      assert.are.equal("Default Policy", first.securityPolicy)   -- a relation, as its name
      code, out = run(s, { "scripts/export.lua", "users" })
      assert.are.equal(0, code)
      assert.matches("^id,email,", out)
      assert.are.equal(13, select(2, out:gsub("\n", "")))
      code, out = run(s, { "scripts/export.lua", "connectors" })   -- none: a header only
      assert.are.equal(0, code)
      assert.matches("^id,name,[^\n]*\n$", out)
    end)

    it("takes generic columns from the selection: the same header with data, nulls or no rows", function()
      local empty = sim.start{ rate_limit = "off", seed = { everyoneGroup = false } }
      local ok, e = pcall(function()
        for _, kind in ipairs{ "groups", "users", "devices", "connectors", "gateways", "remote-networks" } do
          local code, full, err = run(s, { "scripts/export.lua", kind })
          assert.are.equal(0, code, err)
          local code2, none, err2 = run(empty, { "scripts/export.lua", kind })
          assert.are.equal(0, code2, err2)
          assert.are.equal(full:match("^[^\n]*"), none:match("^[^\n]*"), kind)
        end
      end)
      empty:stop()
      if not ok then error(e, 0) end
      -- originId is null on every seeded group, and still a column
      local _, out = run(s, { "scripts/export.lua", "groups" })
      assert.are.equal("id,name,createdAt,isActive,originId,securityPolicy,type,updatedAt", out:match("^[^\n]*"))
    end)

    it("exports service-account-keys: the keys of every service account, with their account", function()
      local k = sim.start{ rate_limit = "off", seed = { serviceAccounts = { { name = "ci" }, { name = "=deploy" } } } }
      local ok, e = pcall(function()
        local code, out, err = cli.run({ "-e", [[
          local tg = require("twingate").connect()
          for _, sa in ipairs(tg.service_accounts:list()) do
            tg.service_account_keys:create{ serviceAccountId = sa.id, name = "key of " .. sa.name, expirationTime = 0 }
          end]] }, cli.against(k))
        assert.are.equal(0, code, out .. err)
        code, out, err = run(k, { "scripts/export.lua", "service-account-keys" })
        assert.are.equal(0, code, out .. err)
        local lines = {}
        for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
        assert.are.equal("id,name,createdAt,expiresAt,revokedAt,serviceAccount,status,updatedAt", lines[1])
        assert.are.equal(3, #lines)
        assert.matches(",key of =deploy,[^,]*,,,'=deploy,ACTIVE,", lines[2])
        assert.matches(",key of ci,[^,]*,,,ci,ACTIVE,", lines[3])
      end)
      k:stop()
      if not ok then error(e, 0) end
    end)

    it("writes --output FILE and nothing on stdout", function()
      local path = tmpname(".csv")
      local code, out = run(s, { "scripts/export.lua", "users", "--output", path })
      assert.are.equal(0, code)
      assert.are.equal("", out)
      assert.matches("^id,email,", slurp(path))
    end)

    it("names the --output file the user gave when it cannot be written", function()
      local code, out, err = run(s, { "scripts/export.lua", "users", "--output", "/nonexistent/x.csv" })
      assert.are.equal(2, code, out .. err)
      assert.matches("cannot write /nonexistent/x.csv: ", err, 1, true)
      assert.not_matches(".tmp", err, 1, true)
    end)

    it("refuses an unknown kind or format (exit 2) and sends no write", function()
      local code, _, err = run(s, { "scripts/export.lua", "nope" })
      assert.are.equal(2, code)
      assert.matches("unknown kind nope", err, 1, true)
      code, _, err = run(s, { "scripts/export.lua", "users", "--format", "xml" })
      assert.are.equal(2, code)
      assert.matches("--format must be", err, 1, true)
      for _, r in ipairs(s:requests()) do assert.are_not.equal("mutation", r.type) end
    end)
  end)
end)
