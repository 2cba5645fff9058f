local text = require "twingate.text"

describe("twingate.text", function()
  describe("lower()", function()
    it("lower-cases ASCII and keeps everything else", function()
      assert.are.equal("bob@example.com", text.lower("Bob@Example.COM"))
      assert.are.equal("a1-_.+~ x", text.lower("A1-_.+~ X"))
      assert.are.equal("", text.lower(""))
    end)

    it("lower-cases the Latin-1 Supplement but not the multiplication sign or sharp s", function()
      assert.are.equal("ünal@example.com", text.lower("Ünal@example.com"))
      assert.are.equal("àáâãäåæçèéêëìíîïðñòóôõöøùúûüýþ",
        text.lower("ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞ"))
      assert.are.equal("×ß", text.lower("×ß"))
      assert.are.equal("ÿ", text.lower("Ÿ"))
    end)

    it("lower-cases Latin Extended-A pairs of both parities", function()
      assert.are.equal("ąćęłńśźżő", text.lower("ĄĆĘŁŃŚŹŻŐ"))
      assert.are.equal("ąćęłńśźżő", text.lower("ąćęłńśźżő"))
      assert.are.equal("ğş", text.lower("ĞŞ"))
      assert.are.equal("ı", text.lower("ı"))
    end)

    it("gives capital I with dot above its full lower case, i plus combining dot", function()
      assert.are.equal("i\u{307}nci", text.lower("İnci"))
    end)

    it("lower-cases and folds Greek, final sigma included", function()
      assert.are.equal("οδυσσευσ", text.lower("ΟΔΥΣΣΕΥΣ"))
      assert.are.equal(text.lower("ΟΔΥΣΣΕΥΣ"), text.lower("οδυσσευς"))
      assert.are.equal("άέήίόύώ", text.lower("ΆΈΉΊΌΎΏ"))
      assert.are.equal("μ", text.lower("µ"))
    end)

    it("lower-cases Cyrillic, including the Ѐ..Џ block", function()
      assert.are.equal("иван.петров@пример.рф", text.lower("Иван.Петров@ПРИМЕР.РФ"))
      assert.are.equal("ёђѓєѕіїјљњћќѝўџ", text.lower("ЁЂЃЄЅІЇЈЉЊЋЌЍЎЏ"))
      assert.are.equal("ґ", text.lower("Ґ"))
    end)

    it("folds the Kelvin sign, long s and capital sharp s", function()
      assert.are.equal("kelvin", text.lower("\u{212A}elvin"))
      assert.are.equal("s", text.lower("ſ"))
      assert.are.equal("ß", text.lower("\u{1E9E}"))
    end)

    it("lower-cases other scripts as the API does (Extended-B, Greek Extended, Georgian, Deseret)", function()
      assert.are.equal("ɓƌǆ", text.lower("ƁƋǄ"))
      assert.are.equal("ἀὠ", text.lower("ἈὨ"))
      assert.are.equal("ა", text.lower("Ა"))
      assert.are.equal("\u{10428}", text.lower("\u{10400}"))
    end)

    it("keeps invalid UTF-8 bytes and other scripts as they are", function()
      assert.are.equal("a\255b\192c", text.lower("A\255B\192C"))
      assert.are.equal("\195", text.lower("\195"))
      assert.are.equal("日本@example.com", text.lower("日本@Example.com"))
    end)

    it("raises on a non-string argument", function()
      assert.has_error(function() text.lower(nil) end)
    end)
  end)

  describe("equal_fold()", function()
    it("is true for spellings that differ in case only", function()
      assert.is_true(text.equal_fold("ÜNAL@Example.com", "ünal@example.com"))
      assert.is_false(text.equal_fold("unal@example.com", "ünal@example.com"))
    end)
  end)

  describe("problem()", function()
    it("returns nil for plain text, Unicode letters and ASCII spaces", function()
      assert.is_nil(text.problem("Sales, EMEA"))
      assert.is_nil(text.problem("Ünal@example.com"))
      assert.is_nil(text.problem("日本"))
    end)

    it("names control characters with their position", function()
      local what, pos = text.problem("a\nb")
      assert.are.equal("control character U+000A", what)
      assert.are.equal(2, pos)
      assert.are.equal("control character U+007F", (text.problem("a\127")))
      assert.are.equal("control character U+0085", (text.problem("a\u{85}")))
    end)

    it("names invisible and space-like characters", function()
      assert.are.equal("invisible character U+200B", (text.problem("Eng\u{200B}")))
      assert.are.equal("invisible character U+00A0", (text.problem("ann@example.com\u{A0}")))
      assert.are.equal("invisible character U+FEFF", (text.problem("\u{FEFF}x")))
      assert.are.equal("invisible character U+00AD", (text.problem("a\u{AD}b")))
      assert.are.equal("invisible character U+E0041", (text.problem("a\u{E0041}")))
    end)

    it("names direction-changing characters", function()
      assert.are.equal("direction-changing character U+202E", (text.problem("Eng\u{202E}")))
      assert.are.equal("direction-changing character U+2067", (text.problem("\u{2067}x")))
    end)

    it("names invalid UTF-8", function()
      assert.are.equal("invalid UTF-8 byte 0xFF", (text.problem("a\255")))
      assert.are.equal("invalid UTF-8 byte 0xC3", (text.problem("a\195")))
      assert.are.equal("invalid UTF-8 byte 0xED", (text.problem("\xED\xA0\x80")))  -- a surrogate
    end)
  end)

  describe("quote()", function()
    it("quotes on one line, escaping controls, invisible and bidi characters and invalid bytes", function()
      assert.are.equal('"Ops"', text.quote("Ops"))
      assert.are.equal('"a\\"b\\\\c\\n\\t\\x01"', text.quote('a"b\\c\n\t\1'))
      assert.are.equal('"Ünal ✨"', text.quote("Ünal ✨"))
      assert.are.equal('"a\\u{200B}b\\u{0085}\\u{202E}\\u{00A0}\\xFF"',
        text.quote("a\u{200B}b\u{85}\u{202E}\u{A0}\xff"))
      assert.are.equal('"12"', text.quote(12))
    end)

    it("is plan.quote", function()
      assert.are.equal(text.quote, require("twingate.plan").quote)
    end)
  end)

  describe("is_clean()", function()
    it("is true for clean text and false otherwise", function()
      assert.is_true(text.is_clean("ann@example.com"))
      assert.is_false(text.is_clean("ann@example.com\u{200B}"))
      assert.is_false(text.is_clean("a\tb"))
    end)
  end)

  describe("trim()", function()
    it("removes ASCII white space at both ends only", function()
      assert.are.equal("Ops", text.trim(" \tOps\r\n"))
      assert.are.equal("a  b", text.trim("a  b"))
      assert.are.equal("\u{A0}x\u{A0}", text.trim("\u{A0}x\u{A0}"))
    end)
  end)

  describe("is_email()", function()
    it("accepts plain addresses in any script", function()
      assert.is_true(text.is_email("ada@example.com"))
      assert.is_true(text.is_email("Ünal@Example.com"))
    end)

    it("refuses spaces, missing parts, invisible characters and overlong input", function()
      for _, bad in ipairs{ "ada", "ada@example", "a b@example.com", "@example.com", "a@@example.com",
        "ada@example.com\u{A0}", "ada\u{200B}@example.com", string.rep("a", 320) .. "@example.com" } do
        assert.is_false(text.is_email(bad), bad)
      end
    end)
  end)

  describe("is_blank()", function()
    it("is true for strings made only of Unicode white space and invisible characters", function()
      for _, s in ipairs{ "", " ", "\t\r\n", "\u{A0}", "\u{2003}\u{200B}", "\u{3000}", "\u{FEFF}",
        "\u{85}", "\u{202E}", " \u{A0} \u{2060}\u{180E}" } do
        assert.is_true(text.is_blank(s), text.quote(s))
      end
    end)

    it("is false as soon as one visible character is there", function()
      for _, s in ipairs{ "a", " db ", "\u{A0}x", "\u{200B}.", "\255", "0" } do
        assert.is_false(text.is_blank(s), text.quote(s))
      end
    end)
  end)
end)
