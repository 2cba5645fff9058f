--- Unicode text helpers for matching and checking what admins type:
-- case-insensitive keys (UTF-8 aware) and detection of control, invisible
-- and direction-changing characters.
--
-- Lua's `string.lower` only knows ASCII, but the Twingate API matches
-- emails case-insensitively over Unicode ("Ünal@example.com" and
-- "ünal@example.com" are one user). `lower` gives a key at least as coarse
-- as the API's lower-casing, so two spellings the API treats as one address
-- always get the same key.
-- @module twingate.text
local M = {}

-- ASCII A-Z -> a-z, as a gsub replacement table (locale independent).
local ASCII_LOWER = {}
for b = 65, 90 do ASCII_LOWER[string.char(b)] = string.char(b + 32) end

-- Unicode lower-case mapping of every code point above ASCII that has one,
-- generated from JavaScript's String.prototype.toLowerCase (Node.js 20,
-- Unicode 15; the simulator and the API lower-case this way). RANGES are
-- { first, last, offset, step }: every step-th code point from first to last
-- maps to itself plus offset. SINGLE holds the rest (some map to two code
-- points, e.g. capital I with dot above to i plus combining dot).
local RANGES = {
  { 0x00C0, 0x00D6, 32, 1 }, { 0x00D8, 0x00DE, 32, 1 }, { 0x0100, 0x012E, 1, 2 },
  { 0x0132, 0x0136, 1, 2 }, { 0x0139, 0x0147, 1, 2 }, { 0x014A, 0x0176, 1, 2 },
  { 0x0179, 0x017D, 1, 2 }, { 0x0182, 0x0184, 1, 2 }, { 0x0189, 0x018A, 205, 1 },
  { 0x01A0, 0x01A4, 1, 2 }, { 0x01B1, 0x01B2, 217, 1 }, { 0x01B3, 0x01B5, 1, 2 },
  { 0x01CB, 0x01DB, 1, 2 }, { 0x01DE, 0x01EE, 1, 2 }, { 0x01F2, 0x01F4, 1, 2 },
  { 0x01F8, 0x021E, 1, 2 }, { 0x0222, 0x0232, 1, 2 }, { 0x0246, 0x024E, 1, 2 },
  { 0x0370, 0x0372, 1, 2 }, { 0x0388, 0x038A, 37, 1 }, { 0x038E, 0x038F, 63, 1 },
  { 0x0391, 0x03A1, 32, 1 }, { 0x03A3, 0x03AB, 32, 1 }, { 0x03D8, 0x03EE, 1, 2 },
  { 0x03FD, 0x03FF, -130, 1 }, { 0x0400, 0x040F, 80, 1 }, { 0x0410, 0x042F, 32, 1 },
  { 0x0460, 0x0480, 1, 2 }, { 0x048A, 0x04BE, 1, 2 }, { 0x04C1, 0x04CD, 1, 2 },
  { 0x04D0, 0x052E, 1, 2 }, { 0x0531, 0x0556, 48, 1 }, { 0x10A0, 0x10C5, 7264, 1 },
  { 0x13A0, 0x13EF, 38864, 1 }, { 0x13F0, 0x13F5, 8, 1 }, { 0x1C90, 0x1CBA, -3008, 1 },
  { 0x1CBD, 0x1CBF, -3008, 1 }, { 0x1E00, 0x1E94, 1, 2 }, { 0x1EA0, 0x1EFE, 1, 2 },
  { 0x1F08, 0x1F0F, -8, 1 }, { 0x1F18, 0x1F1D, -8, 1 }, { 0x1F28, 0x1F2F, -8, 1 },
  { 0x1F38, 0x1F3F, -8, 1 }, { 0x1F48, 0x1F4D, -8, 1 }, { 0x1F59, 0x1F5F, -8, 2 },
  { 0x1F68, 0x1F6F, -8, 1 }, { 0x1F88, 0x1F8F, -8, 1 }, { 0x1F98, 0x1F9F, -8, 1 },
  { 0x1FA8, 0x1FAF, -8, 1 }, { 0x1FB8, 0x1FB9, -8, 1 }, { 0x1FBA, 0x1FBB, -74, 1 },
  { 0x1FC8, 0x1FCB, -86, 1 }, { 0x1FD8, 0x1FD9, -8, 1 }, { 0x1FDA, 0x1FDB, -100, 1 },
  { 0x1FE8, 0x1FE9, -8, 1 }, { 0x1FEA, 0x1FEB, -112, 1 }, { 0x1FF8, 0x1FF9, -128, 1 },
  { 0x1FFA, 0x1FFB, -126, 1 }, { 0x2160, 0x216F, 16, 1 }, { 0x24B6, 0x24CF, 26, 1 },
  { 0x2C00, 0x2C2F, 48, 1 }, { 0x2C67, 0x2C6B, 1, 2 }, { 0x2C7E, 0x2C7F, -10815, 1 },
  { 0x2C80, 0x2CE2, 1, 2 }, { 0x2CEB, 0x2CED, 1, 2 }, { 0xA640, 0xA66C, 1, 2 },
  { 0xA680, 0xA69A, 1, 2 }, { 0xA722, 0xA72E, 1, 2 }, { 0xA732, 0xA76E, 1, 2 },
  { 0xA779, 0xA77B, 1, 2 }, { 0xA77E, 0xA786, 1, 2 }, { 0xA790, 0xA792, 1, 2 },
  { 0xA796, 0xA7A8, 1, 2 }, { 0xA7B4, 0xA7C2, 1, 2 }, { 0xA7C7, 0xA7C9, 1, 2 },
  { 0xA7CC, 0xA7DA, 1, 2 }, { 0xFF21, 0xFF3A, 32, 1 }, { 0x10400, 0x10427, 40, 1 },
  { 0x104B0, 0x104D3, 40, 1 }, { 0x10570, 0x1057A, 39, 1 }, { 0x1057C, 0x1058A, 39, 1 },
  { 0x1058C, 0x10592, 39, 1 }, { 0x10594, 0x10595, 39, 1 }, { 0x10C80, 0x10CB2, 64, 1 },
  { 0x10D50, 0x10D65, 32, 1 }, { 0x118A0, 0x118BF, 32, 1 }, { 0x16E40, 0x16E5F, 32, 1 },
  { 0x16EA0, 0x16EB8, 27, 1 }, { 0x1E900, 0x1E921, 34, 1 },
}

local SINGLE = {
  [0x0130] = "\u{69}\u{307}", [0x0178] = "\u{FF}", [0x0181] = "\u{253}", [0x0186] = "\u{254}",
  [0x0187] = "\u{188}", [0x018B] = "\u{18C}", [0x018E] = "\u{1DD}", [0x018F] = "\u{259}",
  [0x0190] = "\u{25B}", [0x0191] = "\u{192}", [0x0193] = "\u{260}", [0x0194] = "\u{263}",
  [0x0196] = "\u{269}", [0x0197] = "\u{268}", [0x0198] = "\u{199}", [0x019C] = "\u{26F}",
  [0x019D] = "\u{272}", [0x019F] = "\u{275}", [0x01A6] = "\u{280}", [0x01A7] = "\u{1A8}",
  [0x01A9] = "\u{283}", [0x01AC] = "\u{1AD}", [0x01AE] = "\u{288}", [0x01AF] = "\u{1B0}",
  [0x01B7] = "\u{292}", [0x01B8] = "\u{1B9}", [0x01BC] = "\u{1BD}", [0x01C4] = "\u{1C6}",
  [0x01C5] = "\u{1C6}", [0x01C7] = "\u{1C9}", [0x01C8] = "\u{1C9}", [0x01CA] = "\u{1CC}",
  [0x01F1] = "\u{1F3}", [0x01F6] = "\u{195}", [0x01F7] = "\u{1BF}", [0x0220] = "\u{19E}",
  [0x023A] = "\u{2C65}", [0x023B] = "\u{23C}", [0x023D] = "\u{19A}", [0x023E] = "\u{2C66}",
  [0x0241] = "\u{242}", [0x0243] = "\u{180}", [0x0244] = "\u{289}", [0x0245] = "\u{28C}",
  [0x0376] = "\u{377}", [0x037F] = "\u{3F3}", [0x0386] = "\u{3AC}", [0x038C] = "\u{3CC}",
  [0x03CF] = "\u{3D7}", [0x03F4] = "\u{3B8}", [0x03F7] = "\u{3F8}", [0x03F9] = "\u{3F2}",
  [0x03FA] = "\u{3FB}", [0x04C0] = "\u{4CF}", [0x10C7] = "\u{2D27}", [0x10CD] = "\u{2D2D}",
  [0x1C89] = "\u{1C8A}", [0x1E9E] = "\u{DF}", [0x1FBC] = "\u{1FB3}", [0x1FCC] = "\u{1FC3}",
  [0x1FEC] = "\u{1FE5}", [0x1FFC] = "\u{1FF3}", [0x2126] = "\u{3C9}", [0x212A] = "\u{6B}",
  [0x212B] = "\u{E5}", [0x2132] = "\u{214E}", [0x2183] = "\u{2184}", [0x2C60] = "\u{2C61}",
  [0x2C62] = "\u{26B}", [0x2C63] = "\u{1D7D}", [0x2C64] = "\u{27D}", [0x2C6D] = "\u{251}",
  [0x2C6E] = "\u{271}", [0x2C6F] = "\u{250}", [0x2C70] = "\u{252}", [0x2C72] = "\u{2C73}",
  [0x2C75] = "\u{2C76}", [0x2CF2] = "\u{2CF3}", [0xA77D] = "\u{1D79}", [0xA78B] = "\u{A78C}",
  [0xA78D] = "\u{265}", [0xA7AA] = "\u{266}", [0xA7AB] = "\u{25C}", [0xA7AC] = "\u{261}",
  [0xA7AD] = "\u{26C}", [0xA7AE] = "\u{26A}", [0xA7B0] = "\u{29E}", [0xA7B1] = "\u{287}",
  [0xA7B2] = "\u{29D}", [0xA7B3] = "\u{AB53}", [0xA7C4] = "\u{A794}", [0xA7C5] = "\u{282}",
  [0xA7C6] = "\u{1D8E}", [0xA7CB] = "\u{264}", [0xA7DC] = "\u{19B}", [0xA7F5] = "\u{A7F6}",
}

-- Simple case foldings beyond lower-casing, applied to the lower-cased code
-- point: variants the API may keep apart but that must never produce two
-- keys for one address (the API lower-cases final sigma by position).
local FOLD = {
  [0x00B5] = 0x03BC, [0x017F] = 0x0073, [0x0345] = 0x03B9, [0x03C2] = 0x03C3,
  [0x03D0] = 0x03B2, [0x03D1] = 0x03B8, [0x03D5] = 0x03C6, [0x03D6] = 0x03C0,
  [0x03F0] = 0x03BA, [0x03F1] = 0x03C1, [0x03F5] = 0x03B5, [0x1E9B] = 0x1E61,
  [0x1FBE] = 0x03B9,
}

local function lower_cp(cp)
  local s = SINGLE[cp]
  if s then return s end
  local lo, hi = 1, #RANGES
  while lo <= hi do
    local mid = (lo + hi) // 2
    local r = RANGES[mid]
    if cp < r[1] then
      hi = mid - 1
    elseif cp > r[2] then
      lo = mid + 1
    else
      if (cp - r[1]) % r[4] == 0 then cp = cp + r[3] end
      break
    end
  end
  local f = FOLD[cp]
  return utf8.char(f or cp)
end

-- Byte length of a UTF-8 sequence from its lead byte (0: not a lead byte).
local function seq_size(b)
  if b < 0x80 then return 1 end
  if b >= 0xC2 and b <= 0xDF then return 2 end
  if b >= 0xE0 and b <= 0xEF then return 3 end
  if b >= 0xF0 and b <= 0xF4 then return 4 end
  return 0
end

-- The code point of the well-formed sequence at the start of seq, or nil.
local function decode(seq)
  local ok, cp = pcall(utf8.codepoint, seq, 1)
  if ok and utf8.char(cp) == seq then return cp end
  return nil
end

--- A case-insensitive key for s: every letter lower-cased as the API does
-- (Unicode lower-case mapping, all scripts: Latin, Greek, Cyrillic,
-- Armenian, Georgian, Cherokee, ...; capital I with dot above becomes "i"
-- plus combining dot), then the simple case foldings the lower-casing
-- leaves (final sigma and the Greek symbol variants to their letters, long
-- s to s, micro sign to mu), so two spellings the API treats as one address
-- always get the same key. Invalid UTF-8 bytes are kept as they are.
-- Compare keys, never show them.
-- @param s string
-- @return string
function M.lower(s)
  if type(s) ~= "string" then error("text.lower: string expected, got " .. type(s), 2) end
  s = s:gsub("[A-Z]", ASCII_LOWER)
  if not s:find("[\128-\255]") then return s end
  return (s:gsub("[\192-\255][\128-\191]*", function(run)
    local size = seq_size(run:byte(1))
    if size < 2 or #run < size then return nil end
    local cp = decode(run:sub(1, size))
    if not cp then return nil end
    return lower_cp(cp) .. run:sub(size + 1)
  end))
end

--- Whether two strings are equal ignoring case (see `lower`).
-- @param a string
-- @param b string
-- @return boolean
function M.equal_fold(a, b)
  return M.lower(a) == M.lower(b)
end

-- Code points that render as nothing, as a space, or reorder text.
local function invisible(cp)
  return cp == 0xA0 or cp == 0xAD or cp == 0x34F or cp == 0x61C or cp == 0x1680
    or cp == 0x115F or cp == 0x1160 or cp == 0x17B4 or cp == 0x17B5
    or (cp >= 0x180B and cp <= 0x180F)
    or (cp >= 0x2000 and cp <= 0x200F) or (cp >= 0x2028 and cp <= 0x202F)
    or (cp >= 0x205F and cp <= 0x206F) or cp == 0x3000 or cp == 0x3164
    or (cp >= 0xFE00 and cp <= 0xFE0F) or cp == 0xFEFF or cp == 0xFFA0
    or (cp >= 0xFFF9 and cp <= 0xFFFB) or (cp >= 0x1D173 and cp <= 0x1D17A)
    or (cp >= 0xE0000 and cp <= 0xE0FFF)
end

local function bidi(cp)
  return cp == 0x061C or cp == 0x200E or cp == 0x200F or (cp >= 0x202A and cp <= 0x202E)
    or (cp >= 0x2066 and cp <= 0x2069)
end

--- The first character of s that is not plain printable text, described:
-- a control character (C0, DEL, C1), an invisible or space-like character
-- (no-break and other Unicode spaces, zero-width characters, soft hyphen,
-- byte order mark, variation selectors, tags), a direction-changing
-- (bidi) control, or a byte that is not valid UTF-8. ASCII space is
-- allowed; callers that forbid it check it themselves.
-- @param s string
-- @return nil when s is clean, else a description ("invisible character
--   U+200B", "control character U+000A", "direction-changing character
--   U+202E", "invalid UTF-8 byte 0xFF") and the byte position
function M.problem(s)
  if type(s) ~= "string" then error("text.problem: string expected, got " .. type(s), 2) end
  local i, len = 1, #s
  while i <= len do
    local b = s:byte(i)
    if b < 0x80 then
      if b < 32 or b == 127 then return string.format("control character U+%04X", b), i end
      i = i + 1
    else
      local size = seq_size(b)
      local cp = size > 1 and decode(s:sub(i, i + size - 1))
      if not cp then return string.format("invalid UTF-8 byte 0x%02X", b), i end
      if cp < 0xA0 then return string.format("control character U+%04X", cp), i end
      if bidi(cp) then return string.format("direction-changing character U+%04X", cp), i end
      if invisible(cp) then return string.format("invisible character U+%04X", cp), i end
      i = i + size
    end
  end
  return nil
end

local ASCII_ESCAPES = { [10] = "\\n", [13] = "\\r", [9] = "\\t", [34] = '\\"', [92] = "\\\\" }

--- Quote a string so that it prints on one line and unambiguously: double
-- quotes around it, `\"` and `\\`, ASCII control characters as `\n`, `\r`,
-- `\t` or `\xHH`, invalid UTF-8 bytes as `\xHH`, and every other character
-- `problem` objects to (C1 controls, invisible or space-like, bidi) as
-- `\u{XXXX}`. Other Unicode is kept. (twingate.plan.quote is this function.)
-- @param s string (other values are converted with tostring)
-- @return string
function M.quote(s)
  s = tostring(s)
  if not s:find('[%z\1-\31"\\\127-\255]') then return '"' .. s .. '"' end
  local out, n, i, len = {}, 0, 1, #s
  while i <= len do
    local b = s:byte(i)
    local piece, step
    if b < 0x80 then
      if ASCII_ESCAPES[b] then
        piece = ASCII_ESCAPES[b]
      elseif b < 32 or b == 127 then
        piece = string.format("\\x%02X", b)
      else
        piece = string.char(b)
      end
      step = 1
    else
      local size = seq_size(b)
      local cp = size > 1 and decode(s:sub(i, i + size - 1))
      if cp then
        local hidden = cp < 0xA0 or bidi(cp) or invisible(cp)
        piece = hidden and string.format("\\u{%04X}", cp) or s:sub(i, i + size - 1)
        step = size
      else
        piece = string.format("\\x%02X", b)
        step = 1
      end
    end
    n = n + 1
    out[n] = piece
    i = i + step
  end
  return '"' .. table.concat(out) .. '"'
end

--- Whether s is blank: empty once every Unicode white space character
-- (ASCII space, tab, line breaks, U+0085, no-break and the other Unicode
-- spaces) and every invisible or direction-changing character (zero-width
-- characters, byte order mark, soft hyphen, variation selectors, bidi
-- controls; see `problem`) is removed. "\u{A0}" and "\u{200B} " are blank.
-- Invalid UTF-8 bytes count as visible.
-- @param s string
-- @return boolean
function M.is_blank(s)
  if type(s) ~= "string" then error("text.is_blank: string expected, got " .. type(s), 2) end
  local i, len = 1, #s
  while i <= len do
    local b = s:byte(i)
    if b < 0x80 then
      if not (b == 32 or (b >= 9 and b <= 13)) then return false end
      i = i + 1
    else
      local size = seq_size(b)
      local cp = size > 1 and decode(s:sub(i, i + size - 1))
      if not cp or not (cp == 0x85 or invisible(cp) or bidi(cp)) then return false end
      i = i + size
    end
  end
  return true
end

--- Whether s holds only valid UTF-8 without control, invisible or
-- direction-changing characters (see `problem`).
-- @param s string
-- @return boolean
function M.is_clean(s)
  return M.problem(s) == nil
end

--- Remove ASCII white space (space, tab, CR, LF) from both ends; names may
-- hold any other character, so nothing else is touched.
-- @param s string
-- @return string
function M.trim(s)
  return (s:gsub("^[ \t\r\n]+", ""):gsub("[ \t\r\n]+$", ""))
end

--- Whether s looks like an email address a directory would hold: one `@`, a
-- dot in the domain, no white space or control characters, at most 320 bytes,
-- and clean text (`is_clean`: no invisible or direction-changing characters).
-- @param s string
-- @return boolean
function M.is_email(s)
  return #s <= 320 and s:match("^[^%s@%c]+@[^%s@%c]+%.[^%s@%c]+$") ~= nil and M.is_clean(s)
end

return M
