--- Journals: a JSON-lines record of a plan's changes, for resuming a killed run.
--
--   local journal = require "twingate.journal"
--   local j = journal.create("run.jsonl", { fingerprint = fp })   -- new file (refuses to overwrite)
--   journal.create("run.jsonl", { fingerprint = fp, restart = true }) -- a finished run -> run.jsonl.prev
--   j:write{ key = "group Eng", state = "sending", op = { field = "groupUpdate", args = {...} } }
--   j:write{ key = "group Eng", state = "done" }
--   j:close()
--
--   local j = journal.resume("run.jsonl", { fingerprint = fp })  -- read it, then append
--   j.entries["group Eng"]  --> last entry of that key ({ state = "done", ... })
--
-- One line per event, written and flushed before the next step: before a change
-- is sent (`state = "sending"`, with the change key, the op, the plan
-- fingerprint and the time: wall-clock seconds, sub-second inside the program,
-- so a resumed run knows how long ago an in-flight change was sent) and after (`"done"`, `"failed"` or `"unknown"`,
-- with the error text). A run killed mid-write leaves a partial last line:
-- that one is ignored (and dropped when the journal is resumed); a malformed
-- line anywhere else is an error.
local errors = require "twingate.errors"
local json = require "twingate.json"

local M = {}

-- Wall clock: twingate.sys.time (sub-second) inside the program, os.time on
-- stock Lua.
local function default_now()
  local ok, sys = pcall(require, "twingate.sys")
  if ok and type(sys) == "table" and sys.time then return sys.time end
  return os.time
end

--- Journal format version (the `v` of every line).
M.VERSION = 1

local Journal = {}
Journal.__index = Journal

local function bad(msg, fields)
  errors.raise("invalid_argument", msg, fields, 3)
end

--- A 64-bit FNV-1a hash of a string, as 16 hex digits (a fingerprint, not
-- a cryptographic digest).
-- @param s string
-- @return string
function M.hash(s)
  local h = -3750763034362895579 -- 0xcbf29ce484222325
  for i = 1, #s do
    h = h ~ s:byte(i)
    h = h * 1099511628211 -- 0x100000001b3, wraps around in 64 bits
  end
  return string.format("%016x", h)
end

local function open_append(path)
  local f, err = io.open(path, "ab")
  if not f then bad("cannot write the journal: " .. tostring(err), { path = path }) end
  f:setvbuf("full")
  return f
end

--- The state of an existing journal file, for starting a new run on it.
-- @param path file name
-- @return "absent" (no file, or no entry in it), "finished" (every change
--   recorded ended done or failed: nothing in flight or of unknown outcome),
--   or "unfinished" and the number of changes in flight or unknown
-- @raise invalid_argument when the file is unreadable or malformed
function M.status(path)
  local f = io.open(path, "rb")
  if not f then return "absent" end
  local first = f:read("l")
  f:close()
  if not (first and first:match("%S")) then return "absent" end
  local last = {}
  for _, e in ipairs(M.read(path)) do last[e.key] = e.state end
  local open = 0
  for _, state in pairs(last) do
    if state ~= "done" and state ~= "failed" then open = open + 1 end
  end
  if open > 0 then return "unfinished", open end
  return "finished"
end

-- Raise unless a new run may start on `path` (absent, or a finished run).
local function check_new(path)
  local st, open = M.status(path)
  if st == "unfinished" then
    bad(string.format("the journal %s holds an unfinished run (%d change%s in flight or of unknown "
      .. "outcome); continue it with --resume %s, or remove it", path, open, open == 1 and "" or "s", path),
      { path = path })
  end
  return st
end

--- Check, before any work, that `create(path, { restart = true })` will
-- accept the file: no file, an empty one, or a finished run.
-- @param path file name
-- @raise invalid_argument when it holds an unfinished run (use `resume`) or
--   is malformed
function M.check_new(path)
  if type(path) ~= "string" or path == "" then bad("journal: a file name is required") end
  check_new(path)
end

--- Check, before any work, that `resume(path, { fingerprint = fp })` will
-- accept the file: it exists, is well formed and (when `fingerprint` is
-- given) belongs to that plan.
-- @param path file name
-- @param fingerprint optional string
-- @raise invalid_argument otherwise
function M.check_resume(path, fingerprint)
  if type(path) ~= "string" or path == "" then bad("journal: a file name is required") end
  for _, e in ipairs(M.read(path)) do
    if fingerprint and e.fingerprint ~= fingerprint then M.mismatch(path, e, fingerprint) end
  end
end

--- Raise the "journal from a different plan" error.
-- @param path file name
-- @param e the first entry that does not match
-- @param fingerprint this plan's
function M.mismatch(path, e, fingerprint)
  bad(string.format("the journal %s is from a different plan (line %d has fingerprint %s, "
    .. "this plan is %s): the input or the options changed since it was written; "
    .. "run without --resume, or with the same input and options", path, e.line,
    tostring(e.fingerprint), fingerprint), { path = path, line = e.line })
end

--- Start a new journal file.
-- @param path file name
-- @param opts `{ fingerprint = string, now = fn, restart = bool }` (`now`:
--   wall-clock seconds, default twingate.sys.time, else os.time; `restart`:
--   a file holding a finished run, see `status`, is renamed to PATH.prev,
--   replacing an older one, and a new journal is started: a nightly job can
--   give the same --journal FILE every night)
-- @return journal
-- @raise invalid_argument when the file already holds entries (use `resume`),
--   with `restart` only when they are of an unfinished run
function M.create(path, opts)
  opts = opts or {}
  if type(path) ~= "string" or path == "" then bad("journal: a file name is required") end
  if opts.restart then
    if check_new(path) == "finished" then
      local ok, err = os.rename(path, path .. ".prev")
      if not ok then bad("cannot move the finished journal aside: " .. tostring(err), { path = path }) end
    end
  else
    local f = io.open(path, "rb")
    if f then
      local first = f:read("l")
      f:close()
      if first and first:match("%S") then
        bad("the journal " .. path .. " already exists; continue it with --resume " .. path
          .. " or remove it", { path = path })
      end
    end
  end
  local self = setmetatable({ path = path, fingerprint = opts.fingerprint, entries = {},
    sent_times = {}, now = opts.now or default_now(), count = 0 }, Journal)
  self.file = open_append(path)
  return self
end

-- Remember when a key was sent: { first =, last = } from its "sending" entries.
local function note_sent(self, e)
  if e.state ~= "sending" or type(e.time) ~= "number" then return end
  local t = self.sent_times[e.key]
  if not t then
    self.sent_times[e.key] = { first = e.time, last = e.time }
  else
    t.last = e.time
  end
end

--- Read a journal (tolerating a partial last line) without opening it for writing.
-- @param path file name
-- @return array of entries (decoded tables, with `line`), and whether the file
--   ends in the middle of a line
-- @raise invalid_argument when the file is missing or a line other than the
--   last is malformed
function M.read(path)
  local f, err = io.open(path, "rb")
  if not f then bad("cannot read the journal: " .. tostring(err), { path = path }) end
  local text = f:read("a")
  f:close()
  local lines = {}
  for line in text:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  local tail = text:match("([^\n]*)$")
  local partial = tail ~= ""
  if partial then lines[#lines + 1] = tail end
  local out = {}
  for i, line in ipairs(lines) do
    if line:match("%S") then
      local ok, e = pcall(json.decode, line)
      local valid = ok and type(e) == "table" and type(e.key) == "string" and type(e.state) == "string"
      if not valid then
        -- only the last line may be cut short (a run killed while writing it)
        local last = true
        for j = i + 1, #lines do if lines[j]:match("%S") then last = false end end
        if not last then
          bad(string.format("%s:%d: malformed journal entry", path, i), { path = path, line = i })
        end
        partial = true
      else
        e.line = i
        out[#out + 1] = e
      end
    end
  end
  return out, partial
end

--- Continue a journal: read its entries, check that it belongs to this plan,
-- and open it for appending.
-- @param path file name
-- @param opts `{ fingerprint = string, now = fn }`: every entry must carry
--   this fingerprint
-- @return journal; `j.entries[key]` is the last entry of each change key,
--   `j.order` the keys in first-seen order
-- @raise invalid_argument when unreadable, malformed, or from another plan
function M.resume(path, opts)
  opts = opts or {}
  local list, partial = M.read(path)
  local self = setmetatable({ path = path, fingerprint = opts.fingerprint, entries = {},
    order = {}, sent_times = {}, now = opts.now or default_now(), count = 0 }, Journal)
  for _, e in ipairs(list) do
    if opts.fingerprint and e.fingerprint ~= opts.fingerprint then M.mismatch(path, e, opts.fingerprint) end
    if not self.entries[e.key] then self.order[#self.order + 1] = e.key end
    self.entries[e.key] = e
    note_sent(self, e)
  end
  if partial then
    -- drop the cut-short last line (atomically: write a copy, rename it over),
    -- so that the entries appended now are not preceded by a malformed line
    local keep = {}
    for _, e in ipairs(list) do
      local copy = {}
      for k, v in pairs(e) do if k ~= "line" then copy[k] = v end end
      keep[#keep + 1] = json.encode(copy) .. "\n"
    end
    local tmp = path .. ".tmp"
    local f, err = io.open(tmp, "wb")
    if not f then bad("cannot rewrite the journal: " .. tostring(err), { path = path }) end
    f:write(table.concat(keep))
    f:close()
    local ok, rerr = os.rename(tmp, path)
    if not ok then bad("cannot rewrite the journal: " .. tostring(rerr), { path = path }) end
  end
  self.file = open_append(path)
  return self
end

--- Append one entry and flush it.
-- @param entry table with `key` and `state` (and `op`, `error`, ...); `v`,
--   `fingerprint` and `time` are added
function Journal:write(entry)
  if not self.file then errors.raise("invalid_argument", "journal: write after close", nil, 2) end
  local e = { v = M.VERSION, fingerprint = self.fingerprint, time = self.now() }
  for k, v in pairs(entry) do e[k] = v end
  if e.error ~= nil then e.error = errors.redact(tostring(e.error)) end
  self.file:write(json.encode(e), "\n")
  self.file:flush()
  self.entries[e.key] = e
  note_sent(self, e)
  self.count = self.count + 1
end

--- The state of a change key in the journal: "done", "failed", "in_flight"
-- (sent or sending with no known outcome) or nil (never journaled).
-- @param key string
function Journal:state(key)
  local e = self.entries[key]
  if not e then return nil end
  if e.state == "done" or e.state == "failed" then return e.state end
  return "in_flight"
end

--- When a change was sent: the wall-clock times (seconds) of its last and
-- of its first `sending` entry, or nil when it was never sent.
-- @param key string
-- @return last, first
function Journal:sent_at(key)
  local t = self.sent_times[key]
  if not t then return nil end
  return t.last, t.first
end

--- Close the file (idempotent).
function Journal:close()
  if self.file then
    self.file:close()
    self.file = nil
  end
end

return M
