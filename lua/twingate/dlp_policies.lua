--- tg.dlp_policies: DLP policies (read-only; deprecated by the API).
--
--   for p in tg.dlp_policies:each() do print(p.id, p.name) end
local collections = require "twingate.collections"

local C = collections.define{
  name = "DlpPolicy", plural = "DlpPolicies",
  list_field = "dlpPolicies", get_field = "dlpPolicy", get_id_type = "ID!",
  find_field = "name",
  fields = "id name createdAt updatedAt",
}

return C
