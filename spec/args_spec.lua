local args = require "twingate.args"

describe("twingate.args", function()
  local spec
  before_each(function()
    spec = {
      positional = { "members.csv" },
      options = {
        { "group-column", value = "NAME", default = "group" },
        { "remove-missing" },
        { "tag", value = "K=V", multiple = true },
      },
    }
  end)

  describe("parse()", function()
    it("returns defaults and positionals", function()
      local o = args.parse({ [0] = "s.lua", "m.csv" }, spec)
      assert.equal("m.csv", o[1])
      assert.equal("group", o["group-column"])
      assert.is_false(o["remove-missing"])
      assert.same({}, o.tag)
    end)

    it("reads --opt value, --opt=value, flags and repeated options", function()
      local o = args.parse({ "--group-column", "Team", "m.csv", "--remove-missing",
        "--tag=a=1", "--tag", "b=2" }, spec)
      assert.equal("Team", o["group-column"])
      assert.is_true(o["remove-missing"])
      assert.same({ "a=1", "b=2" }, o.tag)
      o = args.parse({ "--group-column=Dept Name", "m.csv" }, spec)
      assert.equal("Dept Name", o["group-column"])
    end)

    it("treats everything after -- as positional", function()
      local o = args.parse({ "--", "--weird.csv" }, spec)
      assert.equal("--weird.csv", o[1])
    end)

    it("raises invalid_argument for unknown options", function()
      local ok, err = pcall(args.parse, { "--nope", "m.csv" }, spec)
      assert.is_false(ok)
      assert.equal("invalid_argument", err.kind)
      assert.matches("unknown option %-%-nope", err.message)
    end)

    it("raises when a value is missing or a flag gets one", function()
      local ok, err = pcall(args.parse, { "m.csv", "--group-column" }, spec)
      assert.is_false(ok)
      assert.matches("needs a value", err.message)
      ok, err = pcall(args.parse, { "m.csv", "--remove-missing=yes" }, spec)
      assert.is_false(ok)
      assert.matches("takes no value", err.message)
    end)

    it("checks the number of positional arguments", function()
      local ok, err = pcall(args.parse, {}, spec)
      assert.is_false(ok)
      assert.matches("missing argument members.csv", err.message)
      ok, err = pcall(args.parse, { "a.csv", "b.csv" }, spec)
      assert.is_false(ok)
      assert.matches("unexpected argument b.csv", err.message)
    end)

    it("calls the help function for --help", function()
      local called = false
      spec.help = function() called = true end
      args.parse({ "--help" }, spec)
      assert.is_true(called)
    end)
  end)

  describe("header()", function()
    it("returns the leading comment block without markers", function()
      local path = os.tmpname()
      local f = assert(io.open(path, "w"))
      f:write("#!/usr/bin/env twingate-lua\n-- Title line\n--\n-- Usage: x\nlocal a = 1\n-- not header\n")
      f:close()
      assert.equal("Title line\n\nUsage: x", args.header(path))
      os.remove(path)
    end)

    it("returns an empty string for a missing file", function()
      assert.equal("", args.header("/nonexistent/file.lua"))
    end)
  end)
end)
