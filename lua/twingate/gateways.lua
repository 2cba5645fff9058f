--- tg.gateways: Gateways (for Kubernetes, SSH and web app resources).
--
--   local gw = tg.gateways:create{ address = "gw.internal:8443", remoteNetworkId = rn.id, x509CAId = ca.id }
--   tg.gateways:update(gw.id, { sshCAId = ssh.id })
--   local gw = tg.gateways:find("gw.internal:8443")   -- by address
--   tg.gateways:delete(gw.id)
local collections = require "twingate.collections"

local C = collections.define{
  name = "Gateway", plural = "Gateways",
  list_field = "gateways", get_field = "gateway", get_id_type = "ID!",
  find_field = "address",
  fields = "id address remoteNetwork { id name } x509CA { id name fingerprint } sshCA { id name fingerprint }",
  create = {
    field = "gatewayCreate",
    args = { address = "String!", remoteNetworkId = "ID!", x509CAId = "ID!", sshCAId = "ID" },
  },
  update = {
    field = "gatewayUpdate", idempotent = true,
    args = { address = "String", remoteNetworkId = "ID", x509CAId = "ID", sshCAId = "ID" },
  },
  delete = { field = "gatewayDelete" },
}

return C
