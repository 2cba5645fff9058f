--- tg.connectors: the Connector collection and connector tokens.
--
--   local c = tg.connectors:create{ remoteNetworkId = rn.id, name = "edge-1" }
--   tg.connectors:update(c.id, { hasStatusNotificationsEnabled = true })
--   local t = tg.connectors:generate_tokens(c.id)   -- t.accessToken, t.refreshToken (secrets)
--   tg.connectors:delete(c.id)
local collections = require "twingate.collections"
local errors = require "twingate.errors"

local C = collections.define{
  name = "Connector", plural = "Connectors",
  list_field = "connectors", get_field = "connector", get_id_type = "ID!",
  filter_type = "ConnectorFilterInput", find_field = "name",
  fields = "id name createdAt updatedAt state lastHeartbeatAt hostname version publicIP privateIPs "
    .. "hasStatusNotificationsEnabled remoteNetwork { id name }",
  create = {
    field = "connectorCreate",
    args = { name = "String", remoteNetworkId = "ID!", hasStatusNotificationsEnabled = "Boolean" },
    verify = collections.verify_by_name,
  },
  update = {
    field = "connectorUpdate", idempotent = true,
    args = { name = "String", hasStatusNotificationsEnabled = "Boolean" },
  },
  delete = { field = "connectorDelete" },
}

--- Generate a connector's access and refresh tokens (invalidates the old ones).
-- The tokens are secrets: they are registered for redaction at once, so they
-- never show in a log line or an error message; print them only on purpose.
-- A lost response is resent (the lost tokens would be unusable anyway).
-- Needs an API key with the Provision permission.
-- @param id connector id
-- @return `{ accessToken = "...", refreshToken = "..." }`; `{ dry_run = true }` with --dry-run
-- @raise `not_found` when the connector does not exist
function C:generate_tokens(id)
  if type(id) ~= "string" or id == "" then
    errors.raise("invalid_argument", "connectors:generate_tokens(): expects a connector id string", nil, 2)
  end
  local p = self:_operation("generate_tokens", {
    field = "connectorGenerateTokens", args = { connectorId = "ID!" },
    payload = "ok error connectorTokens { accessToken refreshToken }", idempotent = true,
  }, { connectorId = id })
  if p.dry_run then return { dry_run = true } end
  local t = p.connectorTokens
  if type(t) ~= "table" then
    errors.raise("mutation", "connectorGenerateTokens returned no tokens", { field = "connectorGenerateTokens" }, 2)
  end
  errors.add_secret(t.accessToken)
  errors.add_secret(t.refreshToken)
  return { accessToken = t.accessToken, refreshToken = t.refreshToken }
end

return C
