--- tg.webhooks: webhooks.
--
--   local w = tg.webhooks:create{ name = "audit", url = "https://hooks.example.com/tg" }
--   tg.webhooks:update(w.id, { url = "https://hooks.example.com/v2" })
--   tg.webhooks:delete(w.id)
local collections = require "twingate.collections"

local C = collections.define{
  name = "Webhook", plural = "Webhooks",
  list_field = "webhooks", get_field = "webhook", get_id_type = "ID!",
  find_field = "name",
  fields = "id name url lastSuccessfulAt lastErrorAt",
  create = {
    field = "webhookCreate",
    args = { name = "String!", url = "String!" },
    verify = function(coll, input, _, sel)
      -- no createdAt on webhooks: the same name and url counts as ours
      for _, w in ipairs(coll:list(nil, { fields = "id name url " .. sel })) do
        if w.name == input.name and w.url == input.url then return w end
      end
      return nil
    end,
  },
  update = { field = "webhookUpdate", idempotent = true, args = { name = "String", url = "String" } },
  delete = { field = "webhookDelete" },
}

return C
