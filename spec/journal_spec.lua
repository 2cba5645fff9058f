local journal = require "twingate.journal"
local json = require "twingate.json"

local function tmp()
  local p = os.tmpname()
  os.remove(p)
  return p
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

describe("twingate.journal", function()
  local path
  before_each(function() path = tmp() end)
  after_each(function() os.remove(path); os.remove(path .. ".prev") end)

  describe("hash()", function()
    it("gives the FNV-1a 64 hash as 16 hex digits", function()
      assert.are.equal("cbf29ce484222325", journal.hash(""))
      assert.are.equal("e71fa2190541574b", journal.hash("abc"))
    end)
  end)

  describe("create()", function()
    it("writes one flushed JSON line per entry with fingerprint and time", function()
      local j = journal.create(path, { fingerprint = "fp", now = function() return 7 end })
      j:write{ key = "group A", state = "sending", op = { field = "groupUpdate", args = { id = "x" } } }
      local lines = {}
      for l in slurp(path):gmatch("[^\n]+") do lines[#lines + 1] = json.decode(l) end
      assert.are.equal(1, #lines)
      assert.are.equal("fp", lines[1].fingerprint)
      assert.are.equal(7, lines[1].time)
      assert.are.equal("groupUpdate", lines[1].op.field)
      j:close()
      j:close()
    end)

    it("refuses a journal that already has entries", function()
      write(path, '{"key":"a","state":"done"}\n')
      local ok, err = pcall(journal.create, path, {})
      assert.is_false(ok)
      assert.are.equal("invalid_argument", err.kind)
      assert.matches("--resume", err.message, 1, true)
    end)

    it("with restart, moves a finished run to FILE.prev and starts afresh", function()
      local old = '{"key":"a","state":"sending"}\n{"key":"a","state":"done"}\n{"key":"b","state":"failed"}\n'
      write(path, old)
      write(path .. ".prev", "older\n")
      local j = journal.create(path, { fingerprint = "fp2", restart = true })
      j:write{ key = "c", state = "sending" }
      j:close()
      assert.are.equal(old, slurp(path .. ".prev"))
      local list = journal.read(path)
      assert.are.equal(1, #list)
      assert.are.equal("c", list[1].key)
    end)

    it("with restart, still refuses an unfinished run and points to --resume", function()
      for _, text in ipairs{ '{"key":"a","state":"done"}\n{"key":"b","state":"sending"}\n',
                              '{"key":"b","state":"unknown"}\n' } do
        write(path, text)
        local ok, err = pcall(journal.create, path, { restart = true })
        assert.is_false(ok)
        assert.are.equal("invalid_argument", err.kind)
        assert.matches("unfinished run (1 change in flight", err.message, 1, true)
        assert.matches("--resume " .. path, err.message, 1, true)
        assert.are.equal(text, slurp(path))
      end
    end)
  end)

  describe("status(), check_new(), check_resume()", function()
    it("tells absent, finished and unfinished apart", function()
      assert.are.equal("absent", journal.status(path))
      write(path, "")
      assert.are.equal("absent", journal.status(path))
      write(path, '{"key":"a","state":"sending"}\n{"key":"a","state":"done"}\n')
      assert.are.equal("finished", journal.status(path))
      write(path, '{"key":"a","state":"sending"}\n{"key":"b","state":"sending"}\n{"key":"a","state":"done"}\n')
      assert.are.same({ "unfinished", 1 }, { journal.status(path) })
    end)

    it("check_new raises only for an unfinished run, and writes nothing", function()
      journal.check_new(path)
      assert.is_nil(io.open(path))
      write(path, '{"key":"a","state":"failed"}\n')
      journal.check_new(path)
      write(path, '{"key":"a","state":"sending"}\n')
      local ok, err = pcall(journal.check_new, path)
      assert.is_false(ok)
      assert.matches("unfinished", err.message, 1, true)
    end)

    it("check_resume raises for a missing file or another plan's journal", function()
      local ok, err = pcall(journal.check_resume, path, "fp")
      assert.is_false(ok)
      assert.matches("cannot read the journal", err.message, 1, true)
      write(path, '{"key":"a","state":"done","fingerprint":"fp"}\n')
      journal.check_resume(path, "fp")
      journal.check_resume(path)
      ok, err = pcall(journal.check_resume, path, "other")
      assert.is_false(ok)
      assert.matches("different plan", err.message, 1, true)
    end)
  end)

  describe("resume()", function()
    it("keeps the last state per key and appends", function()
      local j = journal.create(path, { fingerprint = "fp" })
      j:write{ key = "a", state = "sending" }
      j:write{ key = "b", state = "sending" }
      j:write{ key = "a", state = "done" }
      j:close()
      local r = journal.resume(path, { fingerprint = "fp" })
      assert.are.equal("done", r:state("a"))
      assert.are.equal("in_flight", r:state("b"))
      assert.is_nil(r:state("c"))
      assert.are.same({ "a", "b" }, r.order)
      r:write{ key = "b", state = "failed", error = "x" }
      r:close()
      assert.are.equal(4, select(2, slurp(path):gsub("\n", "")))
    end)

    it("knows when each change was sent, from its sending entries", function()
      local clock = 1000.25
      local j = journal.create(path, { fingerprint = "fp", now = function() return clock end })
      j:write{ key = "a", state = "sending" }
      clock = 1010.5
      j:write{ key = "a", state = "unknown", error = "lost response" }
      j:write{ key = "b", state = "sending" }
      clock = 1020.75
      j:write{ key = "a", state = "sending" }
      j:write{ key = "c", state = "done" }
      assert.are.same({ 1020.75, 1000.25 }, { j:sent_at("a") })
      j:close()
      local r = journal.resume(path, { fingerprint = "fp" })
      assert.are.same({ 1020.75, 1000.25 }, { r:sent_at("a") })
      assert.are.same({ 1010.5, 1010.5 }, { r:sent_at("b") })
      assert.is_nil(r:sent_at("c"))
      assert.is_nil(r:sent_at("never"))
      r:close()
    end)

    it("refuses a journal of another plan", function()
      write(path, '{"key":"a","state":"done","fingerprint":"other"}\n')
      local ok, err = pcall(journal.resume, path, { fingerprint = "fp" })
      assert.is_false(ok)
      assert.matches("different plan", err.message, 1, true)
    end)

    it("ignores a cut-short last line and starts a new line after it", function()
      write(path, '{"key":"a","state":"done","fingerprint":"fp"}\n{"key":"b","sta')
      local r = journal.resume(path, { fingerprint = "fp" })
      assert.are.equal("done", r:state("a"))
      assert.is_nil(r:state("b"))
      r:write{ key = "b", state = "done" }
      r:close()
      local list = journal.read(path)
      assert.are.equal(2, #list)
      assert.are.equal("b", list[2].key)
    end)

    it("refuses a malformed line before the end with its line number", function()
      write(path, '{"key":"a","state":"done"}\nnot json\n{"key":"b","state":"done"}\n')
      local ok, err = pcall(journal.resume, path, {})
      assert.is_false(ok)
      assert.matches(":2: malformed", err.message, 1, true)
    end)

    it("raises when the file is missing", function()
      local ok, err = pcall(journal.resume, path .. ".missing", {})
      assert.is_false(ok)
      assert.are.equal("invalid_argument", err.kind)
    end)
  end)
end)
