--- tg.devices: the Device collection (trust, block, archive).
--
--   for d in tg.devices:each{ isTrusted = { eq = false } } do ... end
--   tg.devices:trust(id)    tg.devices:untrust(id)
--   tg.devices:block(id)    tg.devices:unblock(id)
--   tg.devices:archive(id)  tg.devices:unarchive(id)
-- Devices cannot be created or deleted through the API. Null nodes that the API
-- returns in device lists are skipped.
local collections = require "twingate.collections"

local C = collections.define{
  name = "Device", plural = "Devices",
  list_field = "devices", get_field = "device", get_id_type = "ID!",
  filter_type = "DeviceFilterInput", find_field = "name",
  fields = "id name isTrusted activeState deviceType osName osVersion clientVersion hardwareModel "
    .. "manufacturerName hostname username serialNumber lastSuccessfulLoginAt lastFailedLoginAt user { id email }",
  update = { field = "deviceUpdate", idempotent = true, args = { isTrusted = "Boolean!" } },
}

local function simple(fn, field)
  return function(self, id, opts)
    return self:_id_operation(fn, { field = field, idempotent = true }, id, nil, opts)
  end
end

--- Mark a device trusted (deviceUpdate isTrusted = true).
-- @param id device id
-- @param opts `{ fields = ... }`
-- @return the device (a placeholder with --dry-run)
-- @raise `not_found` when the device does not exist
function C:trust(id, opts)
  return self:_id_operation("trust", { field = "deviceUpdate", args = { isTrusted = "Boolean!" }, idempotent = true },
    id, { isTrusted = true }, opts)
end

--- Mark a device untrusted (deviceUpdate isTrusted = false).
-- @param id device id
-- @param opts `{ fields = ... }`
-- @return the device
function C:untrust(id, opts)
  return self:_id_operation("untrust", { field = "deviceUpdate", args = { isTrusted = "Boolean!" }, idempotent = true },
    id, { isTrusted = false }, opts)
end

--- Block a device (deviceBlock). @return the device
C.block = simple("block", "deviceBlock")
--- Unblock a device (deviceUnblock). @return the device
C.unblock = simple("unblock", "deviceUnblock")
--- Archive a device (deviceArchive). @return the device
C.archive = simple("archive", "deviceArchive")
--- Unarchive a device (deviceUnarchive). @return the device
C.unarchive = simple("unarchive", "deviceUnarchive")

return C
