local protocols = require "twingate.protocols"
local json = require "twingate.json"

local function r(a, b) return { start = a, ["end"] = b or a } end

local function err_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok)
  return err
end

describe("twingate.protocols", function()
  describe("parse()", function()
    it("parses ports, ranges, udp and icmp", function()
      assert.same({
        allowIcmp = true,
        tcp = { policy = "RESTRICTED", ports = { r(22), r(443), r(8000, 8100) } },
        udp = { policy = "RESTRICTED", ports = { r(53) } },
      }, protocols.parse("tcp:22,443,8000-8100;udp:53;icmp"))
    end)

    it("allows everything for 'all', the empty string and nil", function()
      local all = { allowIcmp = true, tcp = { policy = "ALLOW_ALL", ports = {} }, udp = { policy = "ALLOW_ALL", ports = {} } }
      assert.same(all, protocols.parse("all"))
      assert.same(all, protocols.parse(""))
      assert.same(all, protocols.parse("  ALL "))
      assert.same(all, protocols.parse(nil))
      assert.is_true(json.is_array(protocols.parse("all").tcp.ports))
    end)

    it("blocks a protocol that is not named and turns icmp off", function()
      assert.same({ allowIcmp = false, tcp = { policy = "ALLOW_ALL", ports = {} },
        udp = { policy = "RESTRICTED", ports = {} } }, protocols.parse("tcp:all"))
    end)

    it("reads tcp:none as RESTRICTED with no ports and 'none' as nothing allowed", function()
      assert.same({ policy = "RESTRICTED", ports = {} }, protocols.parse("tcp:none;udp:all").tcp)
      assert.same({ allowIcmp = false, tcp = { policy = "RESTRICTED", ports = {} },
        udp = { policy = "RESTRICTED", ports = {} } }, protocols.parse("none"))
    end)

    it("sorts and merges overlapping and adjacent ranges", function()
      assert.same({ r(22, 23), r(80, 100) }, protocols.parse("tcp:100,23,80-99,22,90-95").tcp.ports)
    end)

    it("ignores case and spaces around separators", function()
      assert.same(protocols.parse("tcp:22;icmp"), protocols.parse(" TCP : 22 ; ICMP "))
      assert.same(protocols.parse("tcp:22,80-90"), protocols.parse("tcp: 22 , 80 - 90 "))
      assert.same(protocols.parse("udp:all"), protocols.parse("udp :\tall"))
    end)

    it("refuses spaces inside a port, protocol or keyword instead of joining the pieces", function()
      for _, s in ipairs{ "tcp:22 80", "tcp:2 2", "t cp:22", "tcp:22-8 0", "tcp:a ll", "ic mp", "no ne" } do
        local err = err_of(protocols.parse, s)
        assert.equals("invalid_argument", err.kind, s)
      end
      assert.matches("'22 80' is not a port number", err_of(protocols.parse, "tcp:22 80").message, nil, true)
    end)

    it("refuses empty parts instead of reading them as 'none' or skipping them", function()
      for _, s in ipairs{ ";", " ; ", "tcp:22;;udp:53", ";tcp:22", "tcp:22;" } do
        local err = err_of(protocols.parse, s)
        assert.equals("invalid_argument", err.kind, s)
        assert.matches("empty part", err.message, nil, true)
      end
    end)

    it("refuses icmp with an empty or unknown value", function()
      for _, s in ipairs{ "icmp:", "icmp:x", "tcp:22;icmp: ", "icmp:8" } do
        local err = err_of(protocols.parse, s)
        assert.equals("invalid_argument", err.kind, s)
        assert.matches("icmp takes no ports", err.message, nil, true)
      end
    end)

    it("refuses ports out of range, reversed ranges and garbage", function()
      for _, s in ipairs{ "tcp:0", "tcp:65536", "udp:10-5", "tcp:ssh", "tcp:22,,23", "tcp:", "tcp:-5", "tcp:1.5" } do
        local err = err_of(protocols.parse, s)
        assert.equals("invalid_argument", err.kind, s)
        assert.matches("protocols.parse", err.message, nil, true)
      end
      assert.matches("out of range", err_of(protocols.parse, "tcp:70000").message)
      assert.matches("start > end", err_of(protocols.parse, "udp:10-5").message)
    end)

    it("refuses an unknown protocol, a repeated one and a bare tcp", function()
      assert.matches("unknown protocol 'sctp'", err_of(protocols.parse, "sctp:1").message)
      assert.matches("given twice", err_of(protocols.parse, "tcp:1;tcp:2").message)
      assert.matches("needs ports", err_of(protocols.parse, "tcp").message)
      assert.matches("icmp takes no ports", err_of(protocols.parse, "icmp:8").message)
      assert.equals("invalid_argument", err_of(protocols.parse, 22).kind)
    end)
  end)

  describe("format()", function()
    it("gives the canonical compact form", function()
      assert.equals("tcp:22,443,8000-8100;udp:53;icmp", protocols.format{
        allowIcmp = true,
        tcp = { policy = "RESTRICTED", ports = { r(8000, 8050), r(443), r(22), r(8051, 8100) } },
        udp = { policy = "RESTRICTED", ports = { r(53) } },
      })
    end)

    it("gives 'all', 'none' and leaves blocked protocols out", function()
      assert.equals("all", protocols.format(protocols.parse("tcp:all;udp:all;icmp")))
      assert.equals("none", protocols.format(protocols.parse("tcp:none;udp:none")))
      assert.equals("udp:53", protocols.format(protocols.parse("udp:53;tcp:none")))
      assert.equals("tcp:all;udp:all", protocols.format(protocols.parse("tcp:all;udp:all")))
      assert.equals("all", protocols.format(nil))
    end)

    it("ignores ports listed under ALLOW_ALL (as the API returns them)", function()
      assert.equals("tcp:all;icmp", protocols.format{ allowIcmp = true,
        tcp = { policy = "ALLOW_ALL", ports = { r(1) } }, udp = { policy = "RESTRICTED", ports = json.null } })
    end)

    it("refuses a malformed table", function()
      assert.equals("invalid_argument", err_of(protocols.format, { tcp = { policy = "SOME" }, udp = {} }).kind)
      assert.matches("out of range", err_of(protocols.format, { allowIcmp = false,
        tcp = { policy = "RESTRICTED", ports = { r(0, 5) } }, udp = { policy = "ALLOW_ALL" } }).message)
    end)
  end)

  describe("round trip", function()
    local cases = { "all", "none", "icmp", "tcp:22", "tcp:all", "udp:all;icmp", "tcp:1-65535;udp:53",
      "tcp:22,443,8000-8100;udp:53;icmp", "tcp:all;udp:1,3,5-7", "udp:65535" }

    it("format(parse(s)) is s for canonical strings", function()
      for _, s in ipairs(cases) do assert.equals(s, protocols.format(protocols.parse(s))) end
    end)

    it("parse(format(p)) is the normalized p", function()
      for _, s in ipairs(cases) do
        local p = protocols.parse(s)
        assert.same(p, protocols.parse(protocols.format(p)))
      end
      local messy = { allowIcmp = false, tcp = { policy = "RESTRICTED", ports = { r(5, 9), r(1, 4), r(7, 12) } },
        udp = { policy = "ALLOW_ALL", ports = { r(3) } } }
      assert.same(protocols.normalize(messy), protocols.parse(protocols.format(messy)))
      assert.equals("tcp:1-12;udp:all", protocols.format(messy))
    end)
  end)
end)
