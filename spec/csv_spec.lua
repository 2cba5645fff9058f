-- Specs for twingate.csv: the streaming RFC 4180 reader and the writer.
local csv = require "twingate.csv"
local errors = require "twingate.errors"

local FIX = "spec/fixtures/csv/"

-- All rows of a reader as arrays of { line = n, fields... } for easy compare.
local function collect(reader)
  local out = {}
  for row, line in reader:rows() do
    local copy = { line = line }
    for i = 1, #row do copy[i] = row[i] end
    out[#out + 1] = copy
  end
  return out
end

-- A source function that hands out `s` in chunks of `size` bytes.
local function chunks(s, size)
  local i = 1
  return function()
    if i > #s then return nil end
    local c = s:sub(i, i + size - 1)
    i = i + size
    return c
  end
end

-- Run fn, expect it to raise an invalid_argument error; return the error.
local function csv_error(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected an error")
  assert.is_true(errors.is(err), "expected a structured error, got " .. tostring(err))
  assert.are.equal("invalid_argument", err.kind)
  return err
end

local function read_all(path, opts)
  return collect(csv.open(path, opts))
end

describe("twingate.csv", function()
  describe("reader()", function()
    it("reads a header and rows keyed by name and by position", function()
      local r = csv.reader("group,email\nOps,a@x.com\n")
      assert.are.same({ "group", "email" }, r.headers)
      local row, line = r:read()
      assert.are.equal("Ops", row.group)
      assert.are.equal("a@x.com", row.email)
      assert.are.equal("Ops", row[1])
      assert.are.equal("a@x.com", row[2])
      assert.are.equal(2, line)
      assert.is_nil(r:read())
      assert.is_nil(r:read())
    end)

    it("returns arrays when header is false", function()
      local rows = collect(csv.reader("a,b\n1,2\n", { header = false }))
      assert.are.same({ { line = 1, "a", "b" }, { line = 2, "1", "2" } }, rows)
    end)

    it("keeps delimiters, doubled quotes and newlines inside quoted fields", function()
      local rows = collect(csv.reader('a,b\n"x, y","say ""hi"""\n"two\nlines",""\n'))
      assert.are.same({
        { line = 2, "x, y", 'say "hi"' },
        { line = 3, "two\nlines", "" },
      }, rows)
    end)

    it("keeps CR LF inside a quoted field as it is", function()
      local rows = read_all(FIX .. "embedded_newlines.csv")
      assert.are.same({
        { line = 2, "Ops", "line one\nline two" },
        { line = 4, 'Q "quoted"', "crlf\r\ninside" },
        { line = 6, "last", "row" },
      }, rows)
    end)

    it("reads LF and CR LF files alike", function()
      local expected = {
        { line = 2, "Engineering", "ann@example.com" },
        { line = 3, "Sales, EMEA", "bob@example.com" },
      }
      assert.are.same(expected, read_all(FIX .. "members.csv"))
      assert.are.same(expected, read_all(FIX .. "members_crlf.csv"))
    end)

    it("reads semicolon and tab delimited files", function()
      assert.are.same({
        { line = 2, "Engineering", "ann@example.com" },
        { line = 3, "Sales; EMEA", "bob@example.com" },
      }, read_all(FIX .. "semicolon.csv", { delimiter = ";" }))
      assert.are.same({
        { line = 2, "Engineering", "ann@example.com" },
        { line = 3, "Sales\t EMEA", "bob@example.com" },
      }, read_all(FIX .. "tab.tsv", { delimiter = "\t" }))
    end)

    it("sniffs the delimiter from the header line with delimiter = auto", function()
      assert.are.equal(";", csv.open(FIX .. "semicolon.csv", { delimiter = "auto" }).delimiter)
      assert.are.equal("\t", csv.open(FIX .. "tab.tsv", { delimiter = "auto" }).delimiter)
      assert.are.equal(",", csv.open(FIX .. "members.csv", { delimiter = "auto" }).delimiter)
      -- delimiters inside quoted header names do not count
      assert.are.equal(",", csv.reader('"a;b;c",d\n', { delimiter = "auto" }).delimiter)
      -- a single column falls back to comma
      assert.are.equal(",", csv.reader("email\na@x.com\n", { delimiter = "auto" }).delimiter)
    end)

    it("skips a UTF-8 byte order mark and keeps the columns 1-based after it", function()
      local r = csv.open(FIX .. "bom.csv")
      assert.are.same({ "group", "email" }, r.headers)
      local row = r:read()
      assert.are.equal("Équipe", row.group)
      assert.are.equal("zoë@example.com", row.email)
      local err = csv_error(function() collect(csv.reader("\239\187\191a\"b,c\n")) end)
      assert.are.equal(1, err.line)
      assert.are.equal(2, err.column)
    end)

    it("skips blank lines and reads a last line without a newline", function()
      assert.are.same({
        { line = 4, "Engineering", "ann@example.com" },
        { line = 7, "Ops", "bob@example.com" },
      }, read_all(FIX .. "blank_lines.csv"))
    end)

    it("reads an empty last field and empty quoted fields", function()
      assert.are.same({ { line = 2, "1", "" }, { line = 3, "", "" }, { line = 4, "", "" } },
        collect(csv.reader('a,b\n1,\n,""\n"",\n')))
    end)

    it("reads from a file handle, a string and a chunk iterator", function()
      local text = assert(io.open(FIX .. "embedded_newlines.csv", "rb")):read("a")
      local expected = collect(csv.reader(text))
      local f = assert(io.open(FIX .. "embedded_newlines.csv", "rb"))
      assert.are.same(expected, collect(csv.reader(f)))
      f:close()
      assert.are.same(expected, collect(csv.reader(chunks(text, 5))))
    end)

    it("gives the same rows whatever the chunk boundaries", function()
      local text = '\239\187\191name,"note, quoted"\r\n"a ""b""","x\r\ny"\r\n\r\nc,\r\n'
        .. '"é🙂",""\n"last","no newline"'
      local expected = collect(csv.reader(text))
      assert.are.equal(4, #expected)
      for size = 1, #text do
        assert.are.same(expected, collect(csv.reader(chunks(text, size))), "chunk size " .. size)
      end
    end)

    it("reports the same error position whatever the chunk boundaries", function()
      local text = 'a,b\n"multi\nline",ok\n"x"y,z\n'
      for size = 1, #text do
        local err = csv_error(function() collect(csv.reader(chunks(text, size))) end)
        assert.are.equal(4, err.line)
        assert.are.equal(4, err.column)
      end
    end)

    it("reads a quoted field much larger than a chunk", function()
      local big = string.rep("x,\n\"", 50000)
      local text = 'a,b\n"' .. big:gsub('"', '""') .. '",end\n'
      local rows = collect(csv.reader(chunks(text, 4096)))
      assert.are.equal(big, rows[1][1])
      assert.are.equal("end", rows[1][2])
    end)

    it("closes the file it opened at the end of the rows", function()
      local r = csv.open(FIX .. "members.csv")
      local f = r.closer
      assert.are.equal("file", io.type(f))
      collect(r)
      assert.are.equal("closed file", io.type(f))
      r:close()
    end)

    it("raises 'cannot open PATH: reason' when the file cannot be opened", function()
      local path = FIX .. "does-not-exist.csv"
      local err = csv_error(function() csv.open(path) end)
      assert.are.equal("cannot open " .. path .. ": No such file or directory", err.message)
    end)

    it("raises 'PATH: is a directory' for a directory", function()
      local err = csv_error(function() csv.open("spec/fixtures") end)
      assert.are.equal("spec/fixtures: is a directory", err.message)
      assert.are.equal("invalid_argument", err.kind)
    end)
  end)

  describe("read_file()", function()
    it("returns the whole content of a file", function()
      local f = io.open(FIX .. "members.csv", "rb")
      local want = f:read("a")
      f:close()
      assert.are.equal(want, csv.read_file(FIX .. "members.csv"))
    end)

    it("raises 'PATH: is a directory' for a directory", function()
      local err = csv_error(function() csv.read_file("/tmp") end)
      assert.are.equal("/tmp: is a directory", err.message)
    end)

    it("raises 'cannot open PATH: reason' for a missing file", function()
      local err = csv_error(function() csv.read_file("/nonexistent/x.csv") end)
      assert.are.equal("cannot open /nonexistent/x.csv: No such file or directory", err.message)
    end)

    it("raises on an unknown delimiter", function()
      csv_error(function() csv.reader("a|b\n", { delimiter = "|" }) end)
    end)
  end)

  describe("errors", function()
    -- each malformed fixture: message prefix, line, column, and a message part
    local cases = {
      { "bad_unterminated.csv", 3, 1, "unterminated quoted field" },
      { "bad_after_quote.csv", 3, 6, "text after the closing quote" },
      { "bad_wide.csv", 3, 21, "row has 3 fields but the header has 2 columns" },
      { "bad_narrow.csv", 4, 12, "row has 1 field but the header has 2 columns" },
      { "bad_duplicate_header.csv", 1, 13, 'duplicate column name "group"' },
      { "bad_empty_header.csv", 1, 7, "empty column name" },
      { "bad_utf8.csv", 3, 13, "invalid UTF-8" },
      { "bad_quote_in_field.csv", 2, 5, "quote inside an unquoted field" },
      { "bad_bare_cr.csv", 2, 28, "carriage return without line feed" },
      { "empty.csv", 1, 1, "no header row" },
    }
    for _, case in ipairs(cases) do
      local file, line, column, text = case[1], case[2], case[3], case[4]
      it("raises invalid_argument at " .. line .. ":" .. column .. " for " .. file, function()
        local path = FIX .. file
        local err = csv_error(function() read_all(path) end)
        assert.are.equal(path, err.file)
        assert.are.equal(line, err.line)
        assert.are.equal(column, err.column)
        local prefix = string.format("%s:%d:%d: ", path, line, column)
        assert.are.equal(prefix, err.message:sub(1, #prefix))
        assert.truthy(err.message:find(text, 1, true), err.message)
        assert.truthy(tostring(err):find(prefix, 1, true))
      end)
    end

    it("counts the column in characters, not bytes", function()
      local err = csv_error(function() collect(csv.reader('a,b\n"é🙂"x,1\n')) end)
      assert.are.equal(2, err.line)
      assert.are.equal(5, err.column)
    end)

    it("accepts invalid UTF-8 when utf8 = false", function()
      local rows = read_all(FIX .. "bad_utf8.csv", { utf8 = false })
      assert.are.equal("D\195\169partement \233", rows[2][1])
    end)

    it("uses the name option in messages", function()
      local err = csv_error(function() collect(csv.reader('a\n"x', { name = "in.csv" })) end)
      assert.are.equal("in.csv", err.file)
      assert.matches("^in%.csv:2:1: ", err.message)
    end)

    it("rejects a chunk that is not a string", function()
      local n = 0
      local err = csv_error(function()
        collect(csv.reader(function() n = n + 1; if n == 1 then return "a\n" end; return 42 end))
      end)
      assert.matches("instead of a string", err.message)
    end)
  end)

  describe("require_columns()", function()
    it("returns the reader when every column is there", function()
      local r = csv.open(FIX .. "members.csv")
      assert.are.equal(r, r:require_columns{ "email", "group" })
    end)

    it("names the missing columns and the ones present", function()
      local path = FIX .. "other_headers.csv"
      local r = csv.open(path)
      local err = csv_error(function() r:require_columns{ "group", "e-mail" } end)
      -- "e-mail" matches "E-Mail" (case-insensitive); "group" is missing
      assert.are.same({ "group" }, err.missing)
      assert.are.same({ "Group Name", "E-Mail" }, err.present)
      assert.are.equal(path .. ':1:1: missing column "group"; the header has "Group Name", "E-Mail"', err.message)
    end)

    it("matches a unique header ignoring case and surrounding spaces, under the name asked for", function()
      local r = csv.reader("Group, EMAIL \nOps,a@x.com\n", { name = "x.csv" })
      assert.are.equal(r, r:require_columns{ "group", "email" })
      local row = r:read()
      assert.are.equal("Ops", row.group)
      assert.are.equal("a@x.com", row.email)
      assert.are.equal("Ops", row.Group)
    end)

    it("refuses a name that two headers match, and quotes names on one line", function()
      local r = csv.reader('Email,EMAIL,"x\ny"\n1,2,3\n', { name = "x.csv" })
      local err = csv_error(function() r:require_columns{ "email", "group" } end)
      assert.are.equal('x.csv:1:1: missing column "group"; ambiguous column "email" matches "Email", "EMAIL" '
        .. '(names are matched ignoring case and surrounding spaces); the header has "Email", "EMAIL", "x\\ny"',
        err.message)
    end)
  end)

  describe("optional_column()", function()
    it("finds a column by exact name or ignoring case and spaces, under the name asked for", function()
      local r = csv.reader("serial, Action \nA1,Trust\n", { name = "x.csv" })
      assert.is_true(r:optional_column("action"))
      assert.is_true(r:optional_column("serial"))
      assert.are.equal("Trust", r:read().action)
    end)

    it("returns false when no header matches", function()
      local r = csv.reader("serial\nA1\n", { name = "x.csv" })
      assert.is_false(r:optional_column("action"))
      assert.is_nil(r.index.action)
    end)

    it("refuses a name that two headers match", function()
      local r = csv.reader("action,ACTION\n1,2\n", { name = "x.csv" })
      local err = csv_error(function() r:optional_column("Action") end)
      assert.matches('ambiguous column "Action" matches "action", "ACTION"', err.message, 1, true)
    end)
  end)

  describe("quoting in messages", function()
    it("quotes a duplicate header name on one line", function()
      local err = csv_error(function() csv.reader('"a\nb","a\nb"\n1,2\n', { name = "x.csv" }):read() end)
      assert.matches('duplicate column name "a\\nb"', err.message, 1, true)
    end)

    it("quotes a bad delimiter on one line", function()
      local ok, err = pcall(csv.reader, "a\n", { delimiter = "|\n" })
      assert.is_false(ok)
      assert.matches('got "|\\n"', tostring(err), 1, true)
      ok, err = pcall(csv.writer, {}, { delimiter = "|\n" })
      assert.is_false(ok)
      assert.matches('got "|\\n"', tostring(err), 1, true)
    end)
  end)

  describe("encode_row()", function()
    it("quotes only the fields that need it", function()
      assert.are.equal('plain,"a,b","say ""hi""","two\nlines","cr\rhere"," lead","trail ",x',
        csv.encode_row{ "plain", "a,b", 'say "hi"', "two\nlines", "cr\rhere", " lead", "trail ", "x" })
    end)

    it("quotes for the chosen delimiter", function()
      assert.are.equal('a,b;"c;d"', csv.encode_row({ "a,b", "c;d" }, { delimiter = ";" }))
      assert.are.equal('a b\t"c\td"', csv.encode_row({ "a b", "c\td" }, { delimiter = "\t" }))
    end)

    it("writes numbers, booleans and nil", function()
      assert.are.equal("1,2.5,true,,3", csv.encode_row{ 1, 2.5, true, nil, 3.0 })
      assert.are.equal("a,,", csv.encode_row{ "a", n = 3 })
    end)

    it("quotes a lone empty field so it does not read back as a blank line", function()
      assert.are.equal('""', csv.encode_row{ "" })
    end)

    it("neutralises cells a spreadsheet would run as formulas", function()
      local opts = { neutralize_formulas = true }
      assert.are.equal("'=1+2,'+x,'-y,'@SUM(A1),'\tt,\"'\rr\",ok,-5",
        csv.encode_row({ "=1+2", "+x", "-y", "@SUM(A1)", "\tt", "\rr", "ok", -5 }, opts))
      assert.are.equal("=1+2", csv.encode_row{ "=1+2" })
    end)

    it("raises on cells that are not scalars", function()
      csv_error(function() csv.encode_row{ {} } end)
      csv_error(function() csv.encode_row{} end)
    end)
  end)

  describe("neutralize()", function()
    it("round trips with unneutralize()", function()
      for _, s in ipairs{ "=x", "+1", "-", "@a", "\tx", "\rx", "'=x", "plain", "" } do
        assert.are.equal(s, csv.unneutralize(csv.neutralize(s)))
      end
      assert.are.equal("'plain", csv.unneutralize("'plain"))
      assert.are.equal("''=x", csv.neutralize("'=x"))
      assert.are.equal("'plain", csv.neutralize("'plain"))
    end)
  end)

  describe("writer()", function()
    it("writes a header and records with LF by default", function()
      local out = {}
      local w = csv.writer(function(s) out[#out + 1] = s end)
      w:write_header{ "group", "email" }
      w:write_record{ group = "Sales, EMEA", email = "a@x.com" }
      w:write_record({ email = "b@x.com" })
      w:write_row{ "x", "y" }
      assert.are.equal('group,email\n"Sales, EMEA",a@x.com\n,b@x.com\nx,y\n', table.concat(out))
    end)

    it("writes CR LF line ends on request", function()
      local out = {}
      local w = csv.writer(function(s) out[#out + 1] = s end, { line_ending = "\r\n" })
      w:write_row{ "a", "b" }
      w:write_record({ b = 2, a = 1 }, { "b", "a" })
      assert.are.equal("a,b\r\n2,1\r\n", table.concat(out))
    end)

    it("writes to a file handle", function()
      local path = os.tmpname()
      local f = assert(io.open(path, "wb"))
      csv.writer(f, { crlf = true, delimiter = ";" }):write_row{ "a;b", "c" }
      f:close()
      local text = assert(io.open(path, "rb")):read("a")
      os.remove(path)
      assert.are.equal('"a;b";c\r\n', text)
    end)

    it("does not neutralise header names", function()
      local out = {}
      local w = csv.writer(function(s) out[#out + 1] = s end, { neutralize_formulas = true })
      w:write_header{ "-id" }
      w:write_row{ "-1" }
      assert.are.equal("-id\n'-1\n", table.concat(out))
    end)

    it("raises on write_record without names", function()
      local w = csv.writer(function() end)
      csv_error(function() w:write_record{ a = 1 } end)
    end)
  end)

  describe("round trip", function()
    local hostile = {
      { "name", "note", "emoji" },
      { 'Ops "core", EU', "line one\nline two", "🚀🔥" },
      { "  spaced  ", "crlf\r\ninside", "Zoë Ünïcødé" },
      { "=cmd|' /C calc'!A0", "semi;colon\ttab", '""' },
      { "", "", "" },
      { "\u{202E}rtl", "trailing\n", ",leading comma" },
      { "q\"", "\"", "\"\"\"" },
    }
    for _, d in ipairs{ ",", ";", "\t" } do
      for _, eol in ipairs{ "\n", "\r\n" } do
        it(string.format("reads back what it wrote (delimiter %q, line end %q)", d, eol), function()
          local out = {}
          local w = csv.writer(function(s) out[#out + 1] = s end, { delimiter = d, line_ending = eol })
          for _, row in ipairs(hostile) do w:write_row(row) end
          local text = table.concat(out)
          local rows = {}
          for row in csv.reader(text, { delimiter = "auto", header = false }):rows() do
            rows[#rows + 1] = row
          end
          assert.are.same(hostile, rows)
          -- and the same streamed in small chunks
          local r = csv.reader(chunks(text, 3), { delimiter = d })
          assert.are.same(hostile[1], r.headers)
          local n = 1
          for row in r:rows() do
            n = n + 1
            for i = 1, 3 do assert.are.equal(hostile[n][i], row[i]) end
          end
          assert.are.equal(#hostile, n)
        end)
      end
    end

    it("reads back neutralised cells with unneutralize()", function()
      local values = { "=1+1", "-x", "+", "@", "\t", "plain" }
      local line = csv.encode_row(values, { neutralize_formulas = true })
      local row = csv.reader(line, { header = false }):read()
      for i, v in ipairs(values) do assert.are.equal(v, csv.unneutralize(row[i])) end
    end)
  end)

  describe("join_list() and split_list()", function()
    local hostile = {
      { "x\\ ", "x\\" },
      { " a ", "b;c", "=d", "\\", "\\\\ ", "  ", "\t", "e\\;f", " \\", "g = h", "ü ;\\" },
      { "plain" },
      { ";", "\\;", ";\\", "a\\\\" },
    }

    it("round-trips hostile items exactly", function()
      for _, items in ipairs(hostile) do
        assert.are.same(items, csv.split_list(csv.join_list(items)))
      end
    end)

    it("escapes a space after an escaped backslash at the end", function()
      assert.are.equal("x\\\\\\ ;x\\\\", csv.join_list { "x\\ ", "x\\" })
    end)

    it("drops unescaped spaces around items and reads an empty cell as no items", function()
      assert.are.same({ "a", "b c" }, csv.split_list(" a ; b c "))
      assert.are.same({}, csv.split_list(""))
      assert.are.same({}, csv.split_list("  "))
    end)

    it("raises on an empty item or a trailing backslash", function()
      assert.matches("empty item", csv_error(function() csv.split_list("a;;b") end).message)
      assert.matches("backslash at the end", csv_error(function() csv.split_list("a\\") end).message)
      csv_error(function() csv.join_list { "a", "" } end)
    end)
  end)

  describe("join_tags() and split_tags()", function()
    it("round-trips hostile keys and values exactly, sorted by key", function()
      local tags = {
        { key = "z", value = "b;c=d" },
        { key = " k=\\", value = "v\\ " },
        { key = "a", value = "" },
        { key = "m ", value = " \\;" },
      }
      local back = csv.split_tags(csv.join_tags(tags))
      table.sort(tags, function(a, b) return a.key < b.key end)
      assert.are.same(tags, back)
    end)

    it("tells one tag holding ';' and '=' from two tags", function()
      local one = csv.join_tags { { key = "a", value = "b;c=d" } }
      local two = csv.join_tags { { key = "a", value = "b" }, { key = "c", value = "d" } }
      assert.are_not.equal(one, two)
      assert.are.same({ { key = "a", value = "b" }, { key = "c", value = "d" } }, csv.split_tags("a=b;c=d"))
      assert.are.same({ { key = "a", value = "b;c=d" } }, csv.split_tags(one))
    end)

    it("raises on a tag without '=', an empty key or a key given twice", function()
      assert.matches("has no '='", csv_error(function() csv.split_tags("a") end).message)
      assert.matches("empty key", csv_error(function() csv.split_tags("=v") end).message)
      assert.matches("given twice", csv_error(function() csv.split_tags("a=1;a=2") end).message)
    end)
  end)

  describe("raise_problems()", function()
    local log = require "twingate.log"
    local fake = require "spec.support.fake"
    local saved
    before_each(function() saved = log.settings() end)
    after_each(function() log.configure{ stream = saved.stream, format = saved.format, level = saved.level } end)

    it("logs each problem on its own line and raises one one-line error", function()
      local buf = fake.buffer()
      log.configure{ stream = buf, format = "text", level = "info" }
      local err = csv_error(function()
        csv.raise_problems("f.csv", { "f.csv:2: empty name", { text = "f.csv:3: unknown group \"x\"" } })
      end)
      assert.are.equal("2 invalid rows in f.csv, nothing changed", err.message)
      assert.are.same({ "f.csv:2: empty name", "f.csv:3: unknown group \"x\"" }, err.problems)
      assert.are.equal("twingate-lua: error: f.csv:2: empty name\n"
        .. "twingate-lua: error: f.csv:3: unknown group \"x\"\n", buf:text())
    end)

    it("caps the lines at opts.max, names the rest, and raises nothing for no problems", function()
      local buf = fake.buffer()
      log.configure{ stream = buf, format = "text", level = "info" }
      csv.raise_problems("f.csv", {})
      assert.are.equal("", buf:text())
      local err = csv_error(function()
        csv.raise_problems("f.csv", { "a", "b", "c" }, { max = 2, noun = "problem" })
      end)
      assert.are.equal("3 problems in f.csv, nothing changed", err.message)
      assert.are.equal("twingate-lua: error: a\ntwingate-lua: error: b\ntwingate-lua: error: ... and 1 more\n",
        buf:text())
    end)
  end)
end)
