--- tg.certificate_authorities: X.509 and SSH certificate authorities (for Gateways).
--
--   local ca = tg.certificate_authorities:create_x509{ name = "internal", certificate = pem }
--   local ssh = tg.certificate_authorities:create_ssh{ name = "ssh", publicKey = key }
--   for ca in tg.certificate_authorities:each() do print(ca.__typename, ca.id, ca.name) end
--   tg.certificate_authorities:delete(ca.id)      -- picks the right mutation by type
-- The API returns a union (X509CertificateAuthority | SSHCertificateAuthority):
-- the selection uses fragments and each node carries `__typename`.
local collections = require "twingate.collections"
local errors = require "twingate.errors"

local CA_FIELDS = "id name fingerprint"

local C = collections.define{
  name = "CertificateAuthority", plural = "CertificateAuthorities",
  list_field = "certificateAuthorities", get_field = "certificateAuthority", get_id_type = "ID!",
  find_field = "name", union = true,
  fields = "__typename ... on X509CertificateAuthority { " .. CA_FIELDS .. " } "
    .. "... on SSHCertificateAuthority { " .. CA_FIELDS .. " }",
}

local function create(self, fn, field, args, input, opts)
  if type(input) ~= "table" then
    errors.raise("invalid_argument", "certificate_authorities:" .. fn .. "(): expects an input table", nil, 3)
  end
  opts = opts or {}
  local p = self:_operation(fn, { field = field, args = args,
    payload = "ok error entity { " .. (opts.fields or ("__typename " .. CA_FIELDS)) .. " }" }, input)
  if p.dry_run then return self:_placeholder(nil, input) end
  return p.entity
end

--- Create an X.509 certificate authority.
-- @param input `{ name = "...", certificate = "PEM" }`
-- @param opts `{ fields = ... }` (fields of X509CertificateAuthority)
-- @return the new CA (with __typename)
function C:create_x509(input, opts)
  return create(self, "create_x509", "x509CertificateAuthorityCreate",
    { name = "String!", certificate = "String!" }, input, opts)
end

--- Create an SSH certificate authority.
-- @param input `{ name = "...", publicKey = "ssh-ed25519 ..." }`
-- @param opts `{ fields = ... }` (fields of SSHCertificateAuthority)
-- @return the new CA (with __typename)
function C:create_ssh(input, opts)
  return create(self, "create_ssh", "sshCertificateAuthorityCreate",
    { name = "String!", publicKey = "String!" }, input, opts)
end

local DELETE = {
  X509CertificateAuthority = "x509CertificateAuthorityDelete",
  SSHCertificateAuthority = "sshCertificateAuthorityDelete",
}

--- Delete a certificate authority: reads its type, then sends the matching delete.
-- @param id CA id
-- @param kind optional "X509CertificateAuthority" or "SSHCertificateAuthority" (skips the read)
-- @return true
-- @raise `not_found` when it does not exist
function C:delete(id, kind)
  if type(id) ~= "string" or id == "" then
    errors.raise("invalid_argument", "certificate_authorities:delete(): expects an id string", nil, 2)
  end
  if kind == nil then
    local ca = self:get(id, { fields = "__typename" })
    if not ca then
      errors.raise("not_found", "certificate authority " .. id .. " does not exist", { id = id }, 2)
    end
    kind = ca.__typename
  end
  local field = DELETE[kind]
  if not field then
    errors.raise("invalid_argument", "certificate_authorities:delete(): unknown kind " .. tostring(kind), nil, 2)
  end
  self:_id_operation("delete", { field = field, payload = "ok error", idempotent = true, delete = true }, id)
  return true
end

return C
