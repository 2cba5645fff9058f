-- The client and collections against the simulator, through the built binary
-- (the C transport only exists inside twingate-lua). #integration
local sim = require "spec.support.sim"
local cli = require "spec.support.cli"

local TOKEN = "client-spec-token"

-- Run `code` as a script with the binary against simulator `s`; returns exit code, stdout, stderr.
local run = cli.script_runner{ token = TOKEN }

local count = cli.count

local function seed()
  local users, groups = {}, {}
  for i = 1, 250 do
    users[i] = { email = string.format("%s%03d@%s", i % 2 == 0 and "User" or "user", i, i % 3 == 0 and "Example.COM" or "example.com"),
      firstName = "U" .. i }
  end
  local function members(a, b)
    local m = {}
    for i = a, b do m[#m + 1] = users[i].email end
    return m
  end
  groups[1] = { name = "Big, \"quoted\" 🚀", members = members(1, 230) }
  groups[2] = { name = "Mid", members = members(1, 150) }
  groups[3] = { name = "Small", members = members(10, 12) }
  for i = 4, 7 do groups[i] = { name = "Empty " .. i, members = {} } end
  return { users = users, groups = groups, remoteNetworks = { { name = "Lab", location = "AWS" } } }
end

describe("#integration twingate client against the simulator", function()
  local s

  sim.suite{
    start = { token = TOKEN, seed = seed(), rate_limit = false, page_max = 100 },
    started = function(x) s = x end,
  }

  it("reads a list of 3 pages with one request per page", function()
    local rc, out, err = run(s, [[
      local tg = require("twingate").connect()
      local list = tg.users:list()
      print(#list, list[1].email, list[250].email)
      print(tg.stats.reads)
    ]])
    assert.equals(0, rc, err)
    assert.matches("^250\tuser001@example.com\tUser250@example.com\n3\n", out)
    local log = s:requests()
    assert.equals(3, count(log, function(r) return r.operation == "ListUsers" end))
  end)

  it("completes members spanning several pages with batched follow-up queries", function()
    local rc, out, err = run(s, [[
      local tg = require("twingate").connect()
      for g in tg.groups:each(nil, { include = { "users" } }) do
        local seen = {}
        for _, u in ipairs(g.users) do seen[u.id] = true end
        local n = 0
        for _ in pairs(seen) do n = n + 1 end
        print(g.name .. "=" .. #g.users .. "/" .. n)
      end
    ]])
    assert.equals(0, rc, err)
    assert.matches("Big, \"quoted\" 🚀=230/230", out, 1, true)
    assert.matches("Mid=150/150", out, 1, true)
    assert.matches("Small=3/3", out, 1, true)
    assert.matches("Empty 7=0/0", out, 1, true)
    local log = s:requests()
    -- 1 list page; round 1 completes Big and Mid in one request; round 2 Big alone
    assert.equals(1, count(log, function(r) return r.operation == "ListGroups" end))
    assert.equals(2, count(log, function(r) return r.operation == "CompleteGroups" end))
    local first = nil
    for _, r in ipairs(log) do if r.operation == "CompleteGroups" then first = first or r end end
    assert.equals(2, first.aliases)
    assert.equals(3, #log)
  end)

  it("iterates over every member of one group", function()
    local rc, out, err = run(s, [[
      local tg = require("twingate").connect()
      local g = tg.groups:find("Big, \"quoted\" 🚀")
      local n = 0
      for _ in tg.groups:users(g.id) do n = n + 1 end
      print(n)
    ]])
    assert.equals(0, rc, err)
    assert.equals("230\n", out)
    assert.equals(3, count(s:requests(), function(r) return r.operation == "GroupUsers" end))
  end)

  it("finds users by email case-insensitively", function()
    local rc, out, err = run(s, [[
      local tg = require("twingate").connect()
      print(tg.users:find("USER003@example.com").email)
      print(tg.users:find("nobody@example.com"))
    ]])
    assert.equals(0, rc, err)
    assert.equals("user003@Example.COM\nnil\n", out)
  end)

  it("creates, updates and deletes groups and remote networks", function()
    local rc, out, err = run(s, [[
      local twingate = require "twingate"
      local tg = twingate.connect()
      local a, b = tg.users:find("user001@example.com"), tg.users:find("user002@example.com")
      local g = tg.groups:create{ name = "Ops EU", userIds = { a.id } }
      tg.groups:update(g.id, { addedUserIds = { b.id }, removedUserIds = { a.id } })
      local emails = {}
      for u in tg.groups:users(g.id) do emails[#emails + 1] = u.email end
      print("members", table.concat(emails, ","))
      print("renamed", tg.groups:update(g.id, { name = "Ops EU 2" }).name)
      print("found", tg.groups:find("Ops EU 2").id == g.id)
      print("deleted", tg.groups:delete(g.id))
      print("get", tg.groups:get(g.id))
      local ok, e = pcall(tg.groups.delete, tg.groups, g.id)
      print("again", ok, e.kind)
      local rn = tg.remote_networks:create{ name = "Lab 2", location = "ON_PREMISE" }
      rn = tg.remote_networks:update(rn.id, { name = "Lab 3" })
      print("rn", rn.name, rn.location, tg.remote_networks:get(rn.id).name)
      print("rn deleted", tg.remote_networks:delete(rn.id), tg.remote_networks:find("Lab 3"))
    ]])
    assert.equals(0, rc, err)
    assert.matches("members\tUser002@example.com\n", out, 1, true)
    assert.matches("renamed\tOps EU 2\n", out, 1, true)
    assert.matches("found\ttrue\n", out, 1, true)
    assert.matches("deleted\ttrue\nget\tnil\nagain\tfalse\tnot_found\n", out, 1, true)
    assert.matches("rn\tLab 3\tON_PREMISE\tLab 3\nrn deleted\ttrue\tnil\n", out, 1, true)
    local log = s:requests()
    assert.equals(2, count(log, function(r) return r.operation == "GroupUpdate" end))
  end)

  it("raises not_found for the members of a missing group, exiting 1", function()
    local rc, _, err = run(s, [[
      local tg = require("twingate").connect()
      for _ in tg.groups:users("R3JvdXA6OTk5OTk=") do end
    ]])
    assert.equals(1, rc)
    assert.matches("not_found", err)
  end)

  it("sends no mutation with --dry-run and returns placeholders", function()
    local rc, out, err = run(s, [[
      local tg = require("twingate").connect()
      local g = tg.groups:create{ name = "Planned" }
      print(g.id, g.dry_run)
      local small = tg.groups:find("Small")
      tg.groups:add_users(small.id, { "VXNlcjox" })
      tg.groups:delete(small.id)
      print(tg.groups:get(small.id).name)
    ]], "--dry-run")
    assert.equals(0, rc, err)
    assert.equals("dry-run:Group:1\ttrue\nSmall\n", out)
    assert.matches("dry%-run", err)
    local log = s:requests()
    assert.equals(0, count(log, function(r) return r.type == "mutation" end))
  end)
end)
