--- tg.access_requests: requests for access to resources (list, approve, reject).
--
--   for r in tg.access_requests:each{ resourceId = { ["in"] = { res.id } } } do ... end
--   tg.access_requests:approve(id)   tg.access_requests:reject(id)
local collections = require "twingate.collections"

local C = collections.define{
  name = "AccessRequest", plural = "AccessRequests",
  list_field = "accessRequests", get_field = "accessRequest", get_id_type = "ID!",
  filter_type = "AccessRequestFilterInput", find_field = false,
  fields = "id reason requestedAt status user { id email } resource { id name }",
}

--- Approve an access request (accessRequestApprove).
-- @param id access request id
-- @return true (a placeholder with --dry-run)
-- @raise `not_found` when the request does not exist
function C:approve(id)
  return self:_id_operation("approve", { field = "accessRequestApprove", payload = "ok error", idempotent = true }, id)
end

--- Reject an access request (accessRequestReject).
-- @param id access request id
-- @return true (a placeholder with --dry-run)
-- @raise `not_found` when the request does not exist
function C:reject(id)
  return self:_id_operation("reject", { field = "accessRequestReject", payload = "ok error", idempotent = true }, id)
end

return C
