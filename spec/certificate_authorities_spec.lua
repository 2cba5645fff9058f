local json = require "twingate.json"
local log = require "twingate.log"
local fake = require "spec.support.fake"

local connect, conn, payload = fake.connect, fake.conn, fake.payload

describe("twingate.certificate_authorities", function()
  before_each(function() log.configure{ level = "error" } end)
  after_each(function() log.configure{ level = "info" } end)

  describe("each()", function()
    it("selects the union's members through fragments", function()
      local tg, t = connect(function()
        return { data = { certificateAuthorities = conn({ { __typename = "SSHCertificateAuthority", id = "S1", name = "s" } }) } }
      end)
      assert.equals("SSHCertificateAuthority", tg.certificate_authorities:list()[1].__typename)
      assert.matches("... on X509CertificateAuthority {", t.requests[1].query, 1, true)
      assert.matches("... on SSHCertificateAuthority {", t.requests[1].query, 1, true)
    end)
  end)

  describe("create_x509() and create_ssh()", function()
    it("send their own mutation", function()
      local tg, t = connect(payload({ ok = true, entity = { __typename = "X509CertificateAuthority", id = "X1" } }))
      tg.certificate_authorities:create_x509{ name = "a", certificate = "PEM" }
      tg.certificate_authorities:create_ssh{ name = "b", publicKey = "ssh-ed25519 K" }
      assert.equals("x509CertificateAuthorityCreate", t.requests[1].info.fields[1].name)
      assert.equals("sshCertificateAuthorityCreate", t.requests[2].info.fields[1].name)
      assert.equals("String!", t.requests[2].info.variables.publicKey)
    end)
  end)

  describe("delete()", function()
    it("reads the type, then sends the matching delete", function()
      local tg, t = connect(function(_, _, info)
        if info.type == "query" then
          return { data = { certificateAuthority = { __typename = "SSHCertificateAuthority" } } }
        end
        return { data = { [info.fields[1].name] = { ok = true } } }
      end)
      assert.is_true(tg.certificate_authorities:delete("S1"))
      assert.equals("sshCertificateAuthorityDelete", t.requests[2].info.fields[1].name)
      assert.is_true(tg.certificate_authorities:delete("X1", "X509CertificateAuthority"))
      assert.equals("x509CertificateAuthorityDelete", t.requests[3].info.fields[1].name)
    end)

    it("raises not_found when the CA does not exist", function()
      local tg = connect(function() return { data = { certificateAuthority = json.null } } end)
      local ok, err = pcall(tg.certificate_authorities.delete, tg.certificate_authorities, "X9")
      assert.is_false(ok)
      assert.equals("not_found", err.kind)
    end)
  end)
end)
