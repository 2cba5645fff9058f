local log = require "twingate.log"
local fake = require "spec.support.fake"

local connect = fake.connect

describe("twingate.service_accounts", function()
  before_each(function() log.configure{ level = "error" } end)
  after_each(function() log.configure{ level = "info" } end)

  describe("update()", function()
    it("sends added and removed resource ids in one serviceAccountUpdate", function()
      local tg, t = connect(function() return { data = { serviceAccountUpdate = { ok = true, entity = { id = "SA1" } } } } end)
      tg.service_accounts:update("SA1", { addedResourceIds = { "R1" }, removedResourceIds = { "R2" } })
      assert.equals(1, #t.requests)
      assert.same({ id = "SA1", addedResourceIds = { "R1" }, removedResourceIds = { "R2" } }, t.requests[1].variables)
    end)
  end)

  describe("keys()", function()
    it("iterates over every key, every page", function()
      local tg, t = connect(function(body)
        local start = body.variables.after and tonumber(body.variables.after) or 0
        local edges = {}
        for i = start + 1, math.min(start + 100, 150) do edges[#edges + 1] = { node = { id = "K" .. i } } end
        return { data = { serviceAccount = { keys = { edges = edges,
          pageInfo = { hasNextPage = start + #edges < 150, endCursor = tostring(start + #edges) } } } } }
      end)
      local n = 0
      for _ in tg.service_accounts:keys("SA1") do n = n + 1 end
      assert.equals(150, n)
      assert.equals(2, #t.requests)
    end)
  end)
end)
