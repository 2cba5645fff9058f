local json = require "twingate.json"
local log = require "twingate.log"
local fake = require "spec.support.fake"

local connect = fake.connect

local function ok_update() return { data = { groupUpdate = { ok = true, entity = { id = "G1" } } } } end

describe("twingate.groups", function()
  before_each(function() log.configure{ level = "error" } end)
  after_each(function() log.configure{ level = "info" } end)

  describe("add_users()", function()
    it("sends one groupUpdate with addedUserIds", function()
      local tg, t = connect(ok_update)
      tg.groups:add_users("G1", { "U1", "U2", "U3" })
      assert.equals(1, #t.requests)
      local r = t.requests[1]
      assert.equals("groupUpdate", r.info.fields[1].name)
      assert.same({ id = "G1", addedUserIds = { "U1", "U2", "U3" } }, r.variables)
      assert.equals("[ID]", r.info.variables.addedUserIds)
    end)

    it("sends nothing for an empty list and refuses non-id items", function()
      local tg, t = connect(ok_update)
      assert.is_nil(tg.groups:add_users("G1", {}))
      local ok, err = pcall(tg.groups.add_users, tg.groups, "G1", { "U1", 7 })
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.equals(0, #t.requests)
    end)

    it("is resent after a lost response (a set edit is idempotent)", function()
      local tg, t = connect(function(_, n)
        if n == 1 then return { status = 502, body = "" } end
        return ok_update()
      end)
      tg.groups:add_users("G1", { "U1" })
      assert.equals(2, #t.requests)
      assert.equals(t.requests[1].raw, t.requests[2].raw)
    end)
  end)

  describe("remove_users()", function()
    it("sends one groupUpdate with removedUserIds", function()
      local tg, t = connect(ok_update)
      tg.groups:remove_users("G1", { "U9" })
      assert.same({ id = "G1", removedUserIds = { "U9" } }, t.requests[1].variables)
    end)
  end)

  describe("update()", function()
    it("add_users() refuses a set-style table of ids instead of silently sending nothing", function()
      local tg, t = connect(function() return { data = { groupUpdate = { ok = true, entity = { id = "G1" } } } } end)
      local ok, err = pcall(tg.groups.add_users, tg.groups, "G1", { VXNlcjox = true })
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.matches("user_ids", err.message)
      assert.equals(0, #t.requests)
    end)

    it("carries addedUserIds and removedUserIds in one request", function()
      local tg, t = connect(ok_update)
      tg.groups:update("G1", { addedUserIds = { "U1" }, removedUserIds = { "U2" } })
      assert.equals(1, #t.requests)
      assert.same({ id = "G1", addedUserIds = { "U1" }, removedUserIds = { "U2" } }, t.requests[1].variables)
      assert.equals("GroupUpdate", t.requests[1].info.name)
    end)
  end)

  describe("users()", function()
    it("iterates over every member, every page", function()
      local tg, t = connect(function(body)
        local start = body.variables.after and tonumber(body.variables.after) or 0
        local edges = {}
        for i = start + 1, math.min(start + 100, 230) do edges[#edges + 1] = { node = { id = "U" .. i } } end
        local last = start + #edges
        return { data = { group = { users = { edges = edges, pageInfo = { hasNextPage = last < 230, endCursor = tostring(last) } } } } }
      end)
      local n, last = 0, nil
      for u in tg.groups:users("G1") do n = n + 1; last = u.id end
      assert.equals(230, n)
      assert.equals("U230", last)
      assert.equals(3, #t.requests)
      assert.equals("G1", t.requests[3].variables.id)
      assert.equals("200", t.requests[3].variables.after)
    end)

    it("raises not_found for a group that does not exist", function()
      local tg = connect(function() return { data = { group = json.null } } end)
      local ok, err = pcall(function() for _ in tg.groups:users("G0") do end end)
      assert.is_false(ok)
      assert.equals("not_found", err.kind)
    end)
  end)

  describe("create()", function()
    local function iso(t) return os.date("!%Y-%m-%dT%H:%M:%S.000Z", t) end

    it("after a lost response, takes a group of that name created since as the result", function()
      local tg, t = connect(function(_, n, info)
        if info.type == "mutation" then return { status = 500, body = "" } end
        return { data = { groups = { edges = {
          { node = { id = "OLD", name = "Ops", createdAt = iso(os.time() - 86400) } },
          { node = { id = "NEW", name = "Ops", createdAt = iso(os.time()) } },
        }, pageInfo = { hasNextPage = false } } } }
      end)
      local g = tg.groups:create{ name = "Ops" }
      assert.equals("NEW", g.id)
      assert.equals(2, #t.requests) -- the create, then the look-up; never a second create
      assert.same({ name = { eq = "Ops" } }, t.requests[2].variables.filter)
    end)

    it("resends once when only an older group has that name", function()
      local tg, t = connect(function(_, n, info)
        if info.type == "mutation" then
          if n == 1 then return { status = 500, body = "" } end
          return { data = { groupCreate = { ok = true, entity = { id = "G2", name = "Ops" } } } }
        end
        return { data = { groups = { edges = { { node = { id = "OLD", name = "Ops", createdAt = iso(os.time() - 86400) } } },
          pageInfo = { hasNextPage = false } } } }
      end)
      local g = tg.groups:create{ name = "Ops" }
      assert.equals("G2", g.id)
      local mutations = 0
      for _, r in ipairs(t.requests) do if r.info.type == "mutation" then mutations = mutations + 1 end end
      assert.equals(2, mutations)
      assert.is_true(#t.requests >= 3) -- look-ups over the grace window before the second create
      assert.equals("mutation", t.requests[#t.requests].info.type)
    end)
  end)
end)
