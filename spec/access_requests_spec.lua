local log = require "twingate.log"
local fake = require "spec.support.fake"

local connect, conn, payload = fake.connect, fake.conn, fake.payload

describe("twingate.access_requests", function()
  before_each(function() log.configure{ level = "error" } end)
  after_each(function() log.configure{ level = "info" } end)

  describe("approve() and reject()", function()
    it("send their mutation with the id and return true", function()
      local tg, t = connect(payload({ ok = true }))
      assert.is_true(tg.access_requests:approve("A1"))
      assert.is_true(tg.access_requests:reject("A2"))
      assert.equals("accessRequestApprove", t.requests[1].info.fields[1].name)
      assert.equals("accessRequestReject", t.requests[2].info.fields[1].name)
      assert.same({ id = "A2" }, t.requests[2].variables)
      assert.is_nil(t.requests[1].query:find("entity", 1, true))
    end)

    it("raise not_found for a missing request", function()
      local tg = connect(payload({ ok = false, error = "Field 'id' AccessRequest with id 'A9' does not exist." }))
      local ok, err = pcall(tg.access_requests.approve, tg.access_requests, "A9")
      assert.is_false(ok)
      assert.equals("not_found", err.kind)
    end)
  end)

  describe("each()", function()
    it("filters by user and resource ids", function()
      local tg, t = connect(function() return { data = { accessRequests = conn({ { id = "A1" } }) } } end)
      tg.access_requests:list{ userId = { ["in"] = { "U1" } } }
      assert.equals("AccessRequestFilterInput", t.requests[1].info.variables.filter)
      assert.same({ userId = { ["in"] = { "U1" } } }, t.requests[1].variables.filter)
    end)
  end)
end)
