--- tg.remote_networks: the RemoteNetwork collection.
--
--   local rn = tg.remote_networks:find("AWS prod")
--   tg.remote_networks:create{ name = "Lab", location = "ON_PREMISE" }
--   tg.remote_networks:list(nil, { include = { "connectors", "resources", "gateways" } })
local collections = require "twingate.collections"

local C = collections.define{
  name = "RemoteNetwork", plural = "RemoteNetworks",
  list_field = "remoteNetworks", get_field = "remoteNetwork", get_id_type = "ID",
  filter_type = "RemoteNetworkFilterInput", find_field = "name",
  fields = "id name createdAt updatedAt isActive location networkType",
  nested = {
    connectors = { fields = "id name state lastHeartbeatAt hostname version" },
    resources = { fields = "id name address { type value } isActive" },
    gateways = { fields = "id address" },
  },
  create = {
    field = "remoteNetworkCreate",
    args = { name = "String!", isActive = "Boolean", location = "RemoteNetworkLocation",
      networkType = "RemoteNetworkType" },
    verify = collections.verify_by_name,
  },
  update = {
    field = "remoteNetworkUpdate", idempotent = true,
    args = { name = "String", isActive = "Boolean", location = "RemoteNetworkLocation" },
  },
  delete = { field = "remoteNetworkDelete" },
}

return C
