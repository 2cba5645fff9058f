local log = require "twingate.log"
local users = require "twingate.users"
local fake = require "spec.support.fake"

local connect = fake.connect

local function page(nodes)
  local edges = {}
  for i, n in ipairs(nodes) do edges[i] = { node = n } end
  return { data = { users = { edges = edges, pageInfo = { hasNextPage = false } } } }
end

describe("twingate.users", function()
  before_each(function() log.configure{ level = "error" } end)
  after_each(function() log.configure{ level = "info" } end)

  describe("caseless_pattern()", function()
    it("matches ASCII letters in either case and escapes regex characters", function()
      local p = users.caseless_pattern("A.b+c@x-y.io")
      assert.equals("^[aA]\\.[bB]\\+[cC]@[xX]-[yY]\\.[iI][oO]$", p)
      assert.equals("^[jJ]\\(\\)ö@[xX]$", users.caseless_pattern("j()ö@x"))
    end)
  end)

  describe("find()", function()
    it("finds a user by email case-insensitively in one request", function()
      local tg, t = connect(function() return page({ { id = "U1", email = "Ada.Lovelace@Example.com" } }) end)
      local u = tg.users:find("ada.lovelace@EXAMPLE.com")
      assert.equals("U1", u.id)
      assert.equals(1, #t.requests)
      assert.equals("^[aA][dD][aA]\\.[lL][oO][vV][eE][lL][aA][cC][eE]@[eE][xX][aA][mM][pP][lL][eE]\\.[cC][oO][mM]$",
        t.requests[1].variables.filter.email.regexp)
    end)

    it("ignores near misses the server might return and gives nil when none is left", function()
      local tg = connect(function() return page({ { id = "U1", email = "ada@example.com.evil" } }) end)
      assert.is_nil(tg.users:find("ada@example.com"))
    end)

    it("raises when several users match", function()
      local tg = connect(function() return page({ { id = "U1", email = "a@x.io" }, { id = "U2", email = "A@X.io" } }) end)
      local ok, err = pcall(tg.users.find, tg.users, "a@x.io")
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.matches("U1, U2", err.message)
    end)
  end)

  describe("each()", function()
    it("passes the user filter", function()
      local tg, t = connect(function() return page({ { id = "U1" } }) end)
      local n = 0
      for _ in tg.users:each({ role = { ["in"] = { "ADMIN" } } }) do n = n + 1 end
      assert.equals(1, n)
      assert.equals("UserFilterInput", t.requests[1].info.variables.filter)
      assert.same({ "ADMIN" }, t.requests[1].variables.filter.role["in"])
    end)
  end)

  describe("create()", function()
    it("sends userCreate with the given arguments only", function()
      local tg, t = connect(function() return { data = { userCreate = { ok = true, entity = { id = "U5", email = "n@x.io" } } } } end)
      local u = tg.users:create{ email = "n@x.io", firstName = "N", shouldSendInvite = false }
      assert.equals("U5", u.id)
      assert.same({ email = "n@x.io", firstName = "N", shouldSendInvite = false }, t.requests[1].variables)
      assert.is_nil(t.requests[1].info.variables.role)
    end)

    it("after a lost response, finds the user by email instead of creating it twice", function()
      local tg, t = connect(function(_, _, info)
        if info.type == "mutation" then return { fail = true, status = 504, body = "" } end
        return page({ { id = "U5", email = "N@x.io" } })
      end)
      local u = tg.users:create{ email = "n@x.io" }
      assert.equals("U5", u.id)
      assert.equals(2, #t.requests)
    end)

  end)

  describe("update(), set_role(), set_state(), reset_mfa(), delete()", function()
    local function ok_payload(info)
      local f = info.fields[1].name
      return { data = { [f] = { ok = true, entity = { id = "U1", role = "DEVOPS", state = "DISABLED" } } } }
    end

    it("sends userDetailsUpdate with only the given fields", function()
      local tg, t = connect(function(_, _, info) return ok_payload(info) end)
      tg.users:update("U1", { firstName = "Ada" })
      local r = t.requests[1]
      assert.equals("userDetailsUpdate", r.info.fields[1].name)
      assert.same({ id = "U1", firstName = "Ada" }, r.variables)
    end)

    it("sends userRoleUpdate with the role as a UserRole! variable", function()
      local tg, t = connect(function(_, _, info) return ok_payload(info) end)
      assert.equals("DEVOPS", tg.users:set_role("U1", "DEVOPS").role)
      assert.equals("UserRole!", t.requests[1].info.variables.role)
      assert.same({ id = "U1", role = "DEVOPS" }, t.requests[1].variables)
    end)

    it("sets the state through userDetailsUpdate and refuses other states", function()
      local tg, t = connect(function(_, _, info) return ok_payload(info) end)
      tg.users:set_state("U1", "DISABLED")
      assert.equals("UserStateUpdateInput", t.requests[1].info.variables.state)
      local ok, err = pcall(tg.users.set_state, tg.users, "U1", "PENDING")
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.equals(1, #t.requests)
    end)

    it("resets MFA and deletes", function()
      local tg, t = connect(function(_, _, info) return ok_payload(info) end)
      tg.users:reset_mfa("U1")
      assert.is_true(tg.users:delete("U1"))
      assert.equals("userResetMfa", t.requests[1].info.fields[1].name)
      assert.equals("userDelete", t.requests[2].info.fields[1].name)
    end)

    it("raises not_found for a missing user", function()
      local tg = connect(function(_, _, info)
        return { data = { [info.fields[1].name] = { ok = false, error = "Field 'id' User with id 'U9' does not exist." } } }
      end)
      local ok, err = pcall(tg.users.set_role, tg.users, "U9", "ADMIN")
      assert.is_false(ok)
      assert.equals("not_found", err.kind)
    end)
  end)
end)
