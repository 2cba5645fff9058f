local log = require "twingate.log"
local fake = require "spec.support.fake"

local connect = fake.connect

describe("twingate.remote_networks", function()
  before_each(function() log.configure{ level = "error" } end)
  after_each(function() log.configure{ level = "info" } end)

  describe("get()", function()
    it("uses remoteNetwork(id:) with the schema's nullable ID type", function()
      local tg, t = connect(function() return { data = { remoteNetwork = { id = "R1", name = "AWS" } } } end)
      assert.equals("AWS", tg.remote_networks:get("R1").name)
      assert.equals("ID", t.requests[1].info.variables.id)
      assert.equals("remoteNetwork", t.requests[1].info.fields[1].name)
    end)
  end)

  describe("find()", function()
    it("filters remoteNetworks by exact name", function()
      local tg, t = connect(function()
        return { data = { remoteNetworks = { edges = { { node = { id = "R1", name = "Lab" } } }, pageInfo = { hasNextPage = false } } } }
      end)
      assert.equals("R1", tg.remote_networks:find("Lab").id)
      assert.equals("RemoteNetworkFilterInput", t.requests[1].info.variables.filter)
      assert.same({ name = { eq = "Lab" } }, t.requests[1].variables.filter)
    end)
  end)

  describe("create(), update(), delete()", function()
    it("send the remoteNetwork mutations with typed variables", function()
      local tg, t = connect(function(_, _, info)
        local f = info.fields[1].name
        if f == "remoteNetworkDelete" then return { data = { [f] = { ok = true } } } end
        return { data = { [f] = { ok = true, entity = { id = "R1", name = "Lab" } } } }
      end)
      tg.remote_networks:create{ name = "Lab", location = "ON_PREMISE" }
      tg.remote_networks:update("R1", { name = "Lab 2", isActive = false })
      tg.remote_networks:delete("R1")
      assert.equals(3, #t.requests)
      assert.equals("RemoteNetworkLocation", t.requests[1].info.variables.location)
      assert.same({ name = "Lab", location = "ON_PREMISE" }, t.requests[1].variables)
      assert.same({ id = "R1", name = "Lab 2", isActive = false }, t.requests[2].variables)
      assert.equals("RemoteNetworkDelete", t.requests[3].info.name)
    end)

    it("refuses networkType on update (the API has no such argument)", function()
      local tg = connect(function() error("no request expected") end)
      local ok, err = pcall(tg.remote_networks.update, tg.remote_networks, "R1", { networkType = "EXIT" })
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      assert.matches("isActive, location, name", err.message)
    end)
  end)
end)
