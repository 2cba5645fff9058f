--- Streaming RFC 4180 CSV reader and writer, pure Lua 5.4.
--
--   local csv = require "twingate.csv"
--   local r <close> = csv.open("members.csv", { delimiter = "auto" })
--   r:require_columns{ "group", "email" }
--   for row, line in r:rows() do print(line, row.group, row.email) end
--
--   local w = csv.writer(io.stdout, { neutralize_formulas = true })
--   w:write_header{ "group", "email" }
--   w:write_record({ group = "Ops", email = "a@x.com" })
--
-- Every malformed input raises an `invalid_argument` error (see
-- `twingate.errors`) whose message starts `FILE:LINE:COL:` and which carries
-- the fields `file`, `line` and `column` (1-based; the column counts UTF-8
-- characters of the physical line).
local errors = require "twingate.errors"
local text = require "twingate.text"

local byte, sub, find, concat = string.byte, string.sub, string.find, table.concat
local utf8_len = utf8.len

local M = {}

local CHUNK = 65536
local BOM = "\239\187\191"
local LF, CR, QUOTE = 10, 13, 34

local DELIMITERS = { [","] = true, [";"] = true, ["\t"] = true }

-- Escape a character for use inside a Lua pattern character class.
local function class_escape(c)
  if c:match("%w") then return c end
  return "%" .. c
end

---------------------------------------------------------------------------
-- Reader
---------------------------------------------------------------------------

local Reader = {}
Reader.__index = Reader

-- Column (in UTF-8 characters, bytes if the line is not valid UTF-8) of byte
-- `p` in the line that starts at byte `line_start` of `buf`.
local function column_of(buf, line_start, p)
  if p <= line_start then return 1 end
  local n = utf8_len(buf, line_start, p - 1)
  return (n or (p - line_start)) + 1
end

-- Raise the reader's structured error at (line, column).
local function fail_at(self, line, column, message, extra)
  local fields = { file = self.name, line = line, column = column }
  if extra then for k, v in pairs(extra) do fields[k] = v end end
  errors.raise("invalid_argument",
    string.format("%s:%d:%d: %s", self.name, line, column, message), fields, 3)
end

-- Raise at byte `p` of the current buffer, given the line number and the
-- byte where that line starts.
local function fail_pos(self, line, line_start, p, message, extra)
  fail_at(self, line, column_of(self.buf, line_start, p), message, extra)
end

-- Turn the accepted kinds of source into a function returning chunks.
local function chunk_source(source)
  local t = type(source)
  if t == "string" then
    local done = false
    return function()
      if done then return nil end
      done = true
      return source
    end
  elseif t == "function" then
    return source
  elseif io.type(source) == "file" then
    return function() return source:read(CHUNK) end
  elseif (t == "table" or t == "userdata") and source.read then
    return function() return source:read(CHUNK) end
  elseif io.type(source) == "closed file" then
    errors.raise("invalid_argument", "csv.reader: the file is closed", nil, 3)
  end
  errors.raise("invalid_argument",
    "csv.reader: source must be a file, a string or a function returning chunks, got " .. t,
    nil, 3)
end

-- Read more input, keeping the buffer from the current row start (self.pos).
-- Reads at least as much as is kept, so a huge quoted field costs linear time.
local function fill(self)
  local keep = self.pos
  local kept = #self.buf - keep + 1
  local want = kept > CHUNK and kept or CHUNK
  local parts, got = {}, 0
  while got < want do
    local chunk = self.pull()
    if chunk == nil then
      self.eof = true
      break
    end
    if type(chunk) ~= "string" then
      errors.raise("invalid_argument",
        self.name .. ": the source returned a " .. type(chunk) .. " instead of a string chunk",
        { file = self.name }, 3)
    end
    if #chunk > 0 then
      parts[#parts + 1] = chunk
      got = got + #chunk
    end
  end
  local rest = keep > 1 and sub(self.buf, keep) or self.buf
  self.buf = rest .. concat(parts)
  self.line_start = self.line_start - (keep - 1)
  self.pos = 1
end

-- Check that bytes [from, to] are valid UTF-8; the row started at `line`
-- whose first byte is `line_start`.
local function check_utf8(self, from, to, line, line_start)
  local buf = self.buf
  local ok, bad = utf8_len(buf, from, to)
  if ok then return end
  -- find the physical line of the bad byte
  local p = from
  while true do
    local nl = find(buf, "\n", p, true)
    if not nl or nl >= bad then break end
    line = line + 1
    line_start = nl + 1
    p = nl + 1
  end
  fail_pos(self, line, line_start, bad,
    string.format("invalid UTF-8 (byte 0x%02X); save the file as UTF-8", byte(buf, bad)))
end

-- Parse one row from the buffer.
-- Returns fields, nfields, row_line on success; nil when more input is
-- needed; false at the end of the input. Reader state (pos, line,
-- line_start) only changes when a row is complete, so a "need more" can
-- simply be retried after fill().
local function parse_row(self)
  local buf, eof = self.buf, self.eof
  local n = #buf
  local pos, line, line_start = self.pos, self.line, self.line_start

  -- skip blank lines
  while true do
    if pos > n then
      if eof then
        self.pos, self.line, self.line_start = pos, line, line_start
        return false
      end
      return nil
    end
    local c = byte(buf, pos)
    if c == LF then
      pos = pos + 1
      line = line + 1
      line_start = pos
    elseif c == CR then
      if pos == n and not eof then return nil end
      if byte(buf, pos + 1) ~= LF then
        fail_pos(self, line, line_start, pos,
          "carriage return without line feed (use CR LF or LF line ends)")
      end
      pos = pos + 2
      line = line + 1
      line_start = pos
    else
      break
    end
  end

  local row_line, row_start = line, pos
  local d, dbyte = self.delimiter, self.delimiter_byte
  local fields, starts, nf = {}, self.starts, 0

  -- fast path: a complete physical line without quotes or stray CRs
  local e = find(buf, "\n", pos, true)
  if not e and eof then e = n + 1 end
  if not e then return nil end
  local le = e - 1
  if le >= pos and byte(buf, le) == CR then le = le - 1 end
  local text = sub(buf, pos, le)
  if not find(text, '["\r]') then
    local i = 1
    while true do
      local j = find(text, d, i, true)
      nf = nf + 1
      starts[nf] = pos + i - 1
      if j then
        fields[nf] = sub(text, i, j - 1)
        i = j + 1
      else
        fields[nf] = sub(text, i)
        break
      end
    end
    local row_end = e + 1
    if self.check_utf8 then check_utf8(self, row_start, le, row_line, line_start) end
    self.row_first, self.row_stop, self.row_line = row_start, le + 1, row_line
    self.pos, self.line, self.line_start = row_end, line + 1, row_end
    return fields, nf, row_line
  end

  -- general path: quoted fields, possibly spanning lines
  local stop = self.stop_pattern
  local p = pos
  while true do
    nf = nf + 1
    starts[nf] = p
    if p > n then
      if not eof then return nil end
      fields[nf] = ""
      break
    end
    local c = byte(buf, p)
    if c == QUOTE then
      local open_line, open_start = line, line_start
      local parts, np = nil, 0
      local q = p + 1
      local piece = q
      local value
      while true do
        local qi = find(buf, '"', q, true)
        if not qi then
          if not eof then return nil end
          fail_pos(self, open_line, open_start, p,
            "unterminated quoted field (a quote opened here is never closed)")
        end
        if qi == n and not eof then return nil end
        if byte(buf, qi + 1) == QUOTE then
          parts = parts or {}
          np = np + 1
          parts[np] = sub(buf, piece, qi)
          q = qi + 2
          piece = q
        else
          local last = sub(buf, piece, qi - 1)
          if parts then
            np = np + 1
            parts[np] = last
            value = concat(parts)
          else
            value = last
          end
          -- advance line tracking over newlines inside the field
          local s = p + 1
          while true do
            local nl = find(buf, "\n", s, true)
            if not nl or nl > qi then break end
            line = line + 1
            line_start = nl + 1
            s = nl + 1
          end
          p = qi + 1
          break
        end
      end
      fields[nf] = value
      -- after the closing quote: delimiter, line end or end of input
      if p > n then
        if not eof then return nil end
        break
      end
      c = byte(buf, p)
      if c == dbyte then
        p = p + 1
      elseif c == LF then
        p = p + 1
        break
      elseif c == CR then
        if p == n and not eof then return nil end
        if byte(buf, p + 1) ~= LF then
          fail_pos(self, line, line_start, p,
            "carriage return without line feed after a quoted field")
        end
        p = p + 2
        break
      else
        fail_pos(self, line, line_start, p,
          "text after the closing quote of a quoted field (quotes inside a field must be doubled)")
      end
    else
      local s = find(buf, stop, p)
      if not s then
        if not eof then return nil end
        fields[nf] = sub(buf, p, n)
        p = n + 1
        break
      end
      c = byte(buf, s)
      fields[nf] = sub(buf, p, s - 1)
      if c == dbyte then
        p = s + 1
      elseif c == LF then
        p = s + 1
        break
      elseif c == CR then
        if s == n and not eof then return nil end
        if byte(buf, s + 1) ~= LF then
          fail_pos(self, line, line_start, s,
            "carriage return without line feed (quote fields that contain line breaks)")
        end
        p = s + 2
        break
      else -- a quote inside an unquoted field
        fail_pos(self, line, line_start, s,
          "quote inside an unquoted field (quote the whole field and double the quote)")
      end
    end
  end

  -- p is just past the row's line end (or n + 1 at end of input)
  local ended_with_newline = p - 1 <= n and byte(buf, p - 1) == LF
  local last = p - 1
  if ended_with_newline then
    last = last - 1
    if last >= row_start and byte(buf, last) == CR then last = last - 1 end
  end
  if self.check_utf8 then check_utf8(self, row_start, p - 1, row_line, row_start) end
  self.row_first, self.row_stop, self.row_line = row_start, last + 1, row_line
  self.pos = p
  if ended_with_newline then
    self.line, self.line_start = line + 1, p
  else
    self.line, self.line_start = line, line_start
  end
  return fields, nf, row_line
end

-- Next raw row: fields, count, line; nil at the end.
local function next_raw(self)
  if self.done then return nil end
  while true do
    local fields, nf, row_line = parse_row(self)
    if fields then return fields, nf, row_line end
    if fields == false then
      self.done = true
      self:close()
      return nil
    end
    fill(self)
  end
end

-- Line and column of byte `p` of the row just read (the buffer still holds
-- it until the next read).
local function locate(self, p)
  local buf = self.buf
  local line, line_start, s = self.row_line, self.row_first, self.row_first
  while true do
    local nl = find(buf, "\n", s, true)
    if not nl or nl >= p then break end
    line = line + 1
    line_start = nl + 1
    s = nl + 1
  end
  return line, column_of(buf, line_start, p)
end

local function read_header(self)
  local fields, nf, line = next_raw(self)
  if not fields then
    fail_at(self, self.line, 1, "no header row (the file is empty)")
  end
  self.header_line = line
  local index = {}
  for i = 1, nf do
    local name = fields[i]
    if name == "" then
      local l, c = locate(self, self.starts[i])
      fail_at(self, l, c, string.format("empty column name in the header (column %d)", i))
    end
    if index[name] then
      local l, c = locate(self, self.starts[i])
      fail_at(self, l, c, string.format(
        "duplicate column name %s in the header (columns %d and %d)", text.quote(name), index[name], i))
    end
    index[name] = i
  end
  self.headers = fields
  self.index = index
  self.ncols = nf
end

-- Guess the delimiter from the first line: the most frequent of , ; TAB
-- outside quotes (ties and none at all: comma).
local function sniff(self)
  while not self.eof and not find(self.buf, "\n", self.pos, true) do fill(self) end
  local e = find(self.buf, "\n", self.pos, true) or #self.buf + 1
  local first = sub(self.buf, self.pos, e - 1):gsub('"[^"]*"', "")
  local best, best_n = ",", 0
  for _, d in ipairs({ ",", ";", "\t" }) do
    local _, count = first:gsub(d, "")
    if count > best_n then best, best_n = d, count end
  end
  return best
end

local function set_delimiter(self, d)
  self.delimiter = d
  self.delimiter_byte = byte(d)
  self.stop_pattern = "[" .. class_escape(d) .. "\r\n\"]"
end

--- Create a streaming reader.
-- @param source a file handle, a string holding the whole CSV, or a function
--   returning successive chunks (strings) and nil at the end
-- @param opts optional table:
--   `delimiter` ("," default, ";", "\t" or "auto" to sniff the first line),
--   `header` (default true: the first row names the columns),
--   `name` (file name used in error messages, default "<csv>"),
--   `utf8` (default true: reject invalid UTF-8)
-- @return reader with `headers` (array of names, when `header`), `rows()`,
--   `read()`, `require_columns()`, `close()`
-- @raise invalid_argument on a bad source, bad options or a malformed header
function M.reader(source, opts)
  opts = opts or {}
  local name = opts.name or "<csv>"
  local self = setmetatable({
    name = tostring(name),
    pull = chunk_source(source),
    buf = "", pos = 1, line = 1, line_start = 1, eof = false,
    starts = {},
    check_utf8 = opts.utf8 ~= false,
    has_header = opts.header ~= false,
    closer = opts._closer,
  }, Reader)
  local d = opts.delimiter or ","
  if d ~= "auto" and not DELIMITERS[d] then
    errors.raise("invalid_argument",
      string.format("csv: delimiter must be \",\", \";\", \"\\t\" or \"auto\", got %s", text.quote(d)),
      nil, 2)
  end
  -- byte order mark
  while #self.buf < 3 and not self.eof do fill(self) end
  if sub(self.buf, 1, 3) == BOM then
    self.pos = 4
    self.line_start = 4
  end
  if d == "auto" then d = sniff(self) end
  set_delimiter(self, d)
  if self.has_header then read_header(self) end
  return self
end

-- Open `path` for reading in binary mode; a directory or an unreadable file
-- raises `invalid_argument` ("PATH: is a directory", "cannot open PATH: reason").
local function open_input(path, level)
  if type(path) ~= "string" or path == "" then
    errors.raise("invalid_argument", "csv: expected a file name, got " .. text.quote(tostring(path)),
      nil, level + 1)
  end
  local f, msg = io.open(path, "rb")
  if f then
    -- io.open opens a directory on Linux; reading it fails with EISDIR
    local _, rmsg, code = f:read(0)
    if rmsg then
      f:close()
      f, msg = nil, rmsg
      if code == 21 then
        errors.raise("invalid_argument", path .. ": is a directory", { file = path }, level + 1)
      end
    end
  end
  if not f then
    -- io.open's message is "PATH: reason"
    local reason = tostring(msg)
    if reason:sub(1, #path + 2) == path .. ": " then reason = reason:sub(#path + 3) end
    errors.raise("invalid_argument", "cannot open " .. path .. ": " .. reason, { file = path }, level + 1)
  end
  return f
end

--- Read a whole input file (for scripts that hash or re-read their CSV).
-- @param path file name
-- @return the content (string)
-- @raise invalid_argument "PATH: is a directory" or "cannot open PATH: reason"
function M.read_file(path)
  local f = open_input(path, 2)
  local content, msg = f:read("a")
  f:close()
  if not content then
    errors.raise("invalid_argument", "cannot read " .. path .. ": " .. tostring(msg), { file = path }, 2)
  end
  return content
end

--- Open a CSV file for streaming reading (see `csv.reader` for options).
-- The file is closed at the end of the rows or by `reader:close()`; the
-- reader is also a to-be-closed value (`local r <close> = csv.open(...)`).
-- @param path file name
-- @param opts as for `csv.reader`; `name` defaults to `path`
-- @return reader
-- @raise invalid_argument when the file cannot be opened or is malformed
function M.open(path, opts)
  local f = open_input(path, 2)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.name = o.name or path
  o._closer = f
  local ok, r = pcall(M.reader, f, o)
  if not ok then
    if io.type(f) == "file" then f:close() end
    error(r, 2)
  end
  return r
end

--- Read the next row.
-- @return row, line: with a header, a table keyed by column name plus
--   `row[1..n]`; without, an array. `line` is the line where the row starts.
--   nil at the end of the input.
-- @raise invalid_argument on malformed input or a row whose field count
--   differs from the header's
function Reader:read()
  local fields, nf, line = next_raw(self)
  if not fields then return nil end
  if self.has_header then
    local ncols = self.ncols
    if nf > ncols then
      local l, c = locate(self, self.starts[ncols + 1])
      fail_at(self, l, c, string.format(
        "row has %d fields but the header has %d column%s", nf, ncols, ncols == 1 and "" or "s"),
        { expected = ncols, found = nf })
    elseif nf < ncols then
      local l, c = locate(self, self.row_stop)
      fail_at(self, l, c, string.format(
        "row has %d field%s but the header has %d columns", nf, nf == 1 and "" or "s", ncols),
        { expected = ncols, found = nf })
    end
    local headers = self.headers
    for i = 1, nf do fields[headers[i]] = fields[i] end
    local aliases = self.aliases
    if aliases then
      for k = 1, #aliases do fields[aliases[k].name] = fields[aliases[k].column] end
    end
  end
  return fields, line
end

--- Iterate over the rows: `for row, line in reader:rows() do ... end`.
-- @return iterator yielding row, line (see `Reader:read`)
function Reader:rows()
  return function()
    return self:read()
  end
end

-- A column name as compared by require_columns: without surrounding white
-- space, lower-cased (Unicode, as twingate.text.lower).
local function column_key(name)
  return text.lower((name:gsub("^%s+", ""):gsub("%s+$", "")))
end

--- Check that the header has every named column. A name the header lacks
-- exactly is matched case-insensitively and ignoring surrounding spaces
-- (`Group`, ` EMAIL ` for `group`, `email`, as spreadsheets write them)
-- when exactly one header matches it; rows then carry the value under the
-- name asked for too (`row.group`), and `reader.index[name]` is set.
-- @param names array of column names
-- @return the reader
-- @raise invalid_argument naming the missing columns and the ones present,
--   or a name that several headers match
function Reader:require_columns(names)
  if not self.has_header then
    errors.raise("invalid_argument", self.name .. ": require_columns needs a header row",
      { file = self.name }, 2)
  end
  local function list(t)
    local out = {}
    for i, v in ipairs(t) do out[i] = text.quote(v) end
    return concat(out, ", ")
  end
  local missing, ambiguous = {}, {}
  for _, n in ipairs(names) do
    if not self.index[n] then
      local key, found = column_key(n), {}
      for i, h in ipairs(self.headers) do
        if column_key(h) == key then found[#found + 1] = i end
      end
      if #found == 1 then
        self.index[n] = found[1]
        self.aliases = self.aliases or {}
        self.aliases[#self.aliases + 1] = { name = n, column = found[1] }
      elseif #found > 1 then
        local hs = {}
        for k, i in ipairs(found) do hs[k] = self.headers[i] end
        ambiguous[#ambiguous + 1] = text.quote(n) .. " matches " .. list(hs)
      else
        missing[#missing + 1] = n
      end
    end
  end
  if #missing == 0 and #ambiguous == 0 then return self end
  local parts = {}
  if #missing > 0 then
    parts[#parts + 1] = string.format("missing column%s %s", #missing == 1 and "" or "s", list(missing))
  end
  if #ambiguous > 0 then
    parts[#parts + 1] = "ambiguous column" .. (#ambiguous == 1 and " " or "s ") .. concat(ambiguous, ", ")
      .. " (names are matched ignoring case and surrounding spaces)"
  end
  local msg = string.format("%s:%d:1: %s; the header has %s", self.name, self.header_line or 1,
    concat(parts, "; "), list(self.headers))
  errors.raise("invalid_argument", msg, {
    file = self.name, line = self.header_line or 1, column = 1,
    missing = missing, present = self.headers,
  }, 2)
end

--- Look for an optional column: the name exactly, else (like
-- `require_columns`) the one header matching it ignoring case and
-- surrounding spaces (`Action` for `action`); rows then carry its value
-- under the name asked for too, and `reader.index[name]` is set.
-- @param name column name
-- @return true when the header has the column, false when it does not
-- @raise invalid_argument when several headers match the name
function Reader:optional_column(name)
  if not self.has_header then
    errors.raise("invalid_argument", self.name .. ": optional_column needs a header row",
      { file = self.name }, 2)
  end
  if self.index[name] then return true end
  local key, n = column_key(name), 0
  for _, h in ipairs(self.headers) do
    if column_key(h) == key then n = n + 1 end
  end
  if n == 0 then return false end
  -- one match: aliased; several: the ambiguous-column error
  self:require_columns { name }
  return true
end

--- Close the underlying file if the reader opened it (idempotent).
function Reader:close()
  if self.closer then
    local f = self.closer
    self.closer = nil
    if io.type(f) == "file" then f:close() end
  end
end

Reader.__close = Reader.close

--- Stop on rows that failed a script's checks: each problem is logged as its
-- own error line (`log.error`, so `--log-format json` stays one object per
-- line), at most `opts.max` (default 100) and "... and N more"; then one
-- one-line `invalid_argument` is raised: "N invalid rows in FILE, nothing
-- changed" (`opts.noun` replaces "invalid row"), with the fields `file` and
-- `problems` (every message). Nothing is raised when `problems` is empty.
-- @param path the input file
-- @param problems array of messages ("FILE:LINE: ...") or of `{ text = ... }`
-- @param opts optional `{ noun = "problem", max = n }`
-- @raise invalid_argument
function M.raise_problems(path, problems, opts)
  if #problems == 0 then return end
  opts = opts or {}
  local log = require "twingate.log"
  local noun, max = opts.noun or "invalid row", opts.max or 100
  local texts = {}
  for i, p in ipairs(problems) do
    texts[i] = type(p) == "table" and p.text or tostring(p)
    if i <= max then log.error(texts[i]) end
  end
  if #texts > max then log.error(string.format("... and %d more", #texts - max)) end
  errors.raise("invalid_argument", string.format("%d %s%s in %s, nothing changed", #texts, noun,
    #texts == 1 and "" or "s", path), { file = path, problems = texts }, 2)
end

---------------------------------------------------------------------------
-- Lists inside a cell: "a;b\\;c" <-> { "a", "b;c" }, tags "k=v;k2=v2"
---------------------------------------------------------------------------

local LIST_SPACE = { [" "] = true, ["\t"] = true, ["\r"] = true, ["\n"] = true }

-- Escape one item: a backslash before "\\", ";" (and "=" when `tags`) and
-- before white space at either end (which `split_list` would drop).
local function escape_item(s, tags)
  local n = #s
  return (s:gsub("()(.)", function(i, c)
    if c == "\\" or c == ";" or (tags and c == "=") or ((i == 1 or i == n) and LIST_SPACE[c]) then
      return "\\" .. c
    end
  end))
end

-- Split `s` on unescaped `sep`, keeping the escapes in the parts.
local function raw_split(s, sep)
  local parts, buf, i, n = {}, {}, 1, #s
  while i <= n do
    local c = sub(s, i, i)
    if c == "\\" then
      if i == n then
        errors.raise("invalid_argument", "a backslash at the end (write \\\\ for a backslash)", nil, 3)
      end
      buf[#buf + 1] = sub(s, i, i + 1)
      i = i + 2
    elseif c == sep then
      parts[#parts + 1] = concat(buf)
      buf = {}
      i = i + 1
    else
      buf[#buf + 1] = c
      i = i + 1
    end
  end
  parts[#parts + 1] = concat(buf)
  return parts
end

-- Resolve the escapes of a part; unescaped white space at its ends is dropped.
local function unescape_item(raw)
  local buf, keep, i = {}, 0, 1
  while i <= #raw do
    local c = sub(raw, i, i)
    if c == "\\" then
      buf[#buf + 1] = sub(raw, i + 1, i + 1)
      keep = #buf
      i = i + 2
    else
      if not LIST_SPACE[c] then
        buf[#buf + 1] = c
        keep = #buf
      elseif #buf > 0 then
        buf[#buf + 1] = c
      end
      i = i + 1
    end
  end
  return concat(buf, "", 1, keep)
end

--- Join items into one `;`-separated cell, escaping with a backslash each
-- `\`, `;` and white space at either end of an item (`split_list` is the
-- exact inverse for non-empty items).
-- @param items array of strings (in the order given)
-- @return string
-- @raise invalid_argument on an empty item (it cannot be represented)
function M.join_list(items)
  local out = {}
  for i, it in ipairs(items) do
    if type(it) ~= "string" or it == "" then
      errors.raise("invalid_argument", "csv.join_list: item " .. i .. " is not a non-empty string", nil, 2)
    end
    out[i] = escape_item(it)
  end
  return concat(out, ";")
end

--- Split a `;`-separated cell into items: a backslash takes the next
-- character literally (`\;`, `\\`, `\ `); unescaped white space around
-- items is dropped. An empty cell is an empty list.
-- @param s string
-- @return array of strings
-- @raise invalid_argument (message without a location) on a trailing
--   backslash or an empty item
function M.split_list(s)
  local parts = raw_split(s, ";")
  local items = {}
  for i, p in ipairs(parts) do items[i] = unescape_item(p) end
  if #items == 1 and items[1] == "" then return {} end
  for _, it in ipairs(items) do
    if it == "" then
      errors.raise("invalid_argument", "an empty item (two separators in a row, or one at the end)", nil, 2)
    end
  end
  return items
end

--- Join tags into one cell `k=v;k2=v2`, sorted by key, escaping `\`, `;`,
-- `=` and white space at the ends of keys and values (`split_tags` is the
-- exact inverse).
-- @param tags array of `{ key =, value = }` (or nil / json null: "")
-- @return string
function M.join_tags(tags)
  if type(tags) ~= "table" then return "" end
  local items = {}
  for _, kv in ipairs(tags) do
    items[#items + 1] = { kv.key, escape_item(kv.key, true) .. "=" .. escape_item(kv.value or "", true) }
  end
  table.sort(items, function(a, b) return a[1] < b[1] end)
  local out = {}
  for i, x in ipairs(items) do out[i] = x[2] end
  return concat(out, ";")
end

--- Split a tags cell `k=v;k2=v2` (escapes as `split_list`; the first
-- unescaped `=` separates key and value) into `{ { key =, value = } }` sorted
-- by key. An empty cell is no tags.
-- @param s string
-- @return array of `{ key =, value = }`
-- @raise invalid_argument (message without a location) on a tag without `=`,
--   an empty key, a key given twice or a trailing backslash
function M.split_tags(s)
  local parts = raw_split(s, ";")
  local out, seen = {}, {}
  if #parts == 1 and unescape_item(parts[1]) == "" then return out end
  for _, raw in ipairs(parts) do
    local kv = raw_split(raw, "=")
    if #kv < 2 then
      errors.raise("invalid_argument",
        "tag " .. text.quote(unescape_item(raw)) .. " has no '=' (tags are k=v;k2=v2)", nil, 2)
    end
    local k = unescape_item(kv[1])
    local v = unescape_item(concat(kv, "=", 2))
    if k == "" then errors.raise("invalid_argument", "a tag with an empty key", nil, 2) end
    if seen[k] then errors.raise("invalid_argument", "tag key " .. text.quote(k) .. " is given twice", nil, 2) end
    seen[k] = true
    out[#out + 1] = { key = k, value = v }
  end
  table.sort(out, function(a, b) return a.key < b.key end)
  return out
end

---------------------------------------------------------------------------
-- Writer
---------------------------------------------------------------------------

local FORMULA_START = { [61] = true, [43] = true, [45] = true, [64] = true, [9] = true, [13] = true }

--- Prefix a string that a spreadsheet would run as a formula (starting with
-- `=`, `+`, `-`, `@`, TAB or CR) with a `'`. Strings that already start with
-- `'`s before such a character get one more, so `unneutralize` is exact.
-- @param s string
-- @return string
function M.neutralize(s)
  local k = find(s, "[^']") or 0
  if FORMULA_START[byte(s, k) or 0] then return "'" .. s end
  return s
end

--- Undo `csv.neutralize`: drop the `'` it added.
-- @param s string
-- @return string
function M.unneutralize(s)
  if byte(s, 1) == 39 then
    local k = find(s, "[^']") or 0
    if FORMULA_START[byte(s, k) or 0] then return sub(s, 2) end
  end
  return s
end

local function writer_config(opts)
  opts = opts or {}
  local d = opts.delimiter or ","
  if not DELIMITERS[d] then
    errors.raise("invalid_argument",
      string.format("csv: writer delimiter must be \",\", \";\" or \"\\t\", got %s", text.quote(d)),
      nil, 3)
  end
  local eol = opts.line_ending or (opts.crlf and "\r\n") or "\n"
  if eol ~= "\n" and eol ~= "\r\n" then
    errors.raise("invalid_argument", "csv: line_ending must be \"\\n\" or \"\\r\\n\"", nil, 3)
  end
  return {
    delimiter = d,
    line_ending = eol,
    neutralize = opts.neutralize_formulas and true or false,
    needs_quote = "[" .. class_escape(d) .. "\"\r\n]",
  }
end

local function cell_text(v, cfg)
  local t = type(v)
  if t == "string" then
    if cfg.neutralize then v = M.neutralize(v) end
  elseif t == "number" then
    if math.type(v) == "float" and v == math.floor(v) and v > -2^53 and v < 2^53 then
      v = string.format("%d", v)
    else
      v = tostring(v)
    end
  elseif t == "boolean" then
    v = tostring(v)
  elseif v == nil or (t == "userdata" and package.loaded.cjson and v == package.loaded.cjson.null) then
    v = ""
  else
    errors.raise("invalid_argument", "csv: cannot write a " .. t .. " as a CSV cell", nil, 4)
  end
  if find(v, cfg.needs_quote) or find(v, "^%s") or find(v, "%s$") then
    return '"' .. v:gsub('"', '""') .. '"'
  end
  return v
end

local function encode(array, n, cfg)
  if n == 0 then
    errors.raise("invalid_argument", "csv: cannot write a row with no fields", nil, 4)
  end
  local out = {}
  for i = 1, n do out[i] = cell_text(array[i], cfg) end
  -- a single empty field would read back as a blank line, which is skipped
  if n == 1 and out[1] == "" then out[1] = '""' end
  return concat(out, cfg.delimiter)
end

--- Encode one row as CSV text, without the line ending.
-- @param array the cells (strings, numbers, booleans; nil or json null is
--   empty); `array.n` overrides `#array` for rows with trailing nils
-- @param opts `delimiter`, `neutralize_formulas` (see `csv.writer`)
-- @return string
function M.encode_row(array, opts)
  return encode(array, array.n or #array, writer_config(opts))
end

local Writer = {}
Writer.__index = Writer

--- Create a CSV writer.
-- @param target a file handle (anything with `:write`) or a function
--   receiving each encoded line
-- @param opts optional table: `delimiter` ("," default, ";", "\t"),
--   `line_ending` ("\n" default or "\r\n"; `crlf = true` is the same),
--   `neutralize_formulas` (prefix string cells starting with = + - @ TAB CR
--   with a `'`, for files opened in spreadsheets)
-- @return writer with `write_row`, `write_header`, `write_record`, `close`
function M.writer(target, opts)
  local cfg = writer_config(opts)
  local out
  if type(target) == "function" then
    out = target
  elseif io.type(target) == "file" or ((type(target) == "table" or type(target) == "userdata")
      and target.write) then
    out = function(s) target:write(s) end
  else
    errors.raise("invalid_argument", "csv.writer: target must be a file or a function", nil, 2)
  end
  return setmetatable({ cfg = cfg, out = out, target = target, rows = 0 }, Writer)
end

--- Write one row.
-- @param array cells (see `csv.encode_row`)
-- @return the writer
function Writer:write_row(array)
  self.out(encode(array, array.n or #array, self.cfg) .. self.cfg.line_ending)
  self.rows = self.rows + 1
  return self
end

--- Write the header row and remember the names for `write_record`.
-- Header cells are never neutralised (they are the script's own names).
-- @param names array of column names
-- @return the writer
function Writer:write_header(names)
  self.names = names
  local cfg = self.cfg
  local plain = { delimiter = cfg.delimiter, needs_quote = cfg.needs_quote, neutralize = false }
  self.out(encode(names, #names, plain) .. cfg.line_ending)
  self.rows = self.rows + 1
  return self
end

--- Write a record (a table keyed by column name) in the order of `names`
-- (default: the names given to `write_header`). Missing keys are empty.
-- @param record table
-- @param names optional array of column names
-- @return the writer
function Writer:write_record(record, names)
  names = names or self.names
  if not names then
    errors.raise("invalid_argument", "csv: write_record needs names or a prior write_header", nil, 2)
  end
  local row = {}
  for i, n in ipairs(names) do row[i] = record[n] end
  self.out(encode(row, #names, self.cfg) .. self.cfg.line_ending)
  self.rows = self.rows + 1
  return self
end

--- Flush the target file, if it is one.
function Writer:flush()
  if type(self.target) ~= "function" and self.target.flush then self.target:flush() end
  return self
end

return M
