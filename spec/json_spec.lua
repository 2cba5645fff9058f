local json = require "twingate.json"
local errors = require "twingate.errors"
local cjson = require "cjson"

local function raised(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return err
end

describe("twingate.json", function()
  describe("null", function()
    it("is cjson.null", function()
      assert.are.equal(cjson.null, json.null)
    end)
  end)

  describe("encode()", function()
    it("writes json.null as an explicit null", function()
      assert.are.equal('{"alias":null,"name":"x"}', json.encode({ alias = json.null, name = "x" }))
    end)

    it("omits nil fields", function()
      assert.are.equal('{"name":"x"}', json.encode({ name = "x", alias = nil }))
    end)

    it("writes [] for an empty table marked with json.array", function()
      assert.are.equal('{"ids":[]}', json.encode({ ids = json.array() }))
      assert.are.equal('[]', json.encode(json.array({})))
    end)

    it("writes {} for a plain empty table", function()
      assert.are.equal('{}', json.encode({}))
    end)

    it("writes sequences as arrays and marked non-empty tables as arrays", function()
      assert.are.equal('[1,2,3]', json.encode({ 1, 2, 3 }))
      assert.are.equal('["a"]', json.encode(json.array({ "a" })))
    end)

    it("writes object keys in sorted order", function()
      assert.are.equal('{"a":1,"b":2,"c":3}', json.encode({ c = 3, a = 1, b = 2 }))
    end)

    it("writes integers exactly, beyond cjson's 14 digits", function()
      assert.are.equal('1234567890123456', json.encode(1234567890123456))
      assert.are.equal('-42', json.encode(-42))
      assert.are.equal('3', json.encode(3.0))
    end)

    it("writes floats so they read back to the same value", function()
      assert.are.equal(0.1, tonumber(json.encode(0.1)))
      assert.are.equal(1.5, json.decode(json.encode(1.5)))
    end)

    it("writes booleans", function()
      assert.are.equal('[true,false]', json.encode({ true, false }))
    end)

    it("escapes quotes, backslashes and control characters", function()
      local s = 'a"b\\c\nd\te\0f\127'
      local enc = json.encode(s)
      assert.is_nil(enc:find("\n", 1, true))
      assert.are.equal(s, json.decode(enc))
    end)

    it("writes / unescaped and keeps backslash-slash intact", function()
      assert.are.equal('"a/b"', json.encode("a/b"))
      assert.are.equal('\\/', json.decode(json.encode('\\/')))
    end)

    it("round-trips unicode: accents, emoji, CJK, RTL", function()
      local s = "Zoë Ångström, «équipe» 😀🚀 日本語 עברית \u{200B}"
      local enc = json.encode({ name = s })
      assert.are.equal(s, json.decode(enc).name)
      -- UTF-8 passes through as UTF-8 (not \u escapes)
      assert.truthy(enc:find("😀", 1, true))
    end)

    it("raises invalid_argument for a string that is not UTF-8", function()
      local err = raised(json.encode, { name = "caf\233" })
      assert.are.equal("invalid_argument", err.kind)
      assert.truthy(err.message:find("UTF-8", 1, true))
      assert.truthy(err.message:find("value.name", 1, true))
    end)

    it("raises invalid_argument for NaN, infinity and functions", function()
      assert.are.equal("invalid_argument", raised(json.encode, 0 / 0).kind)
      assert.are.equal("invalid_argument", raised(json.encode, math.huge).kind)
      assert.are.equal("invalid_argument", raised(json.encode, { f = print }).kind)
    end)

    it("raises invalid_argument for arrays with holes and mixed tables", function()
      local err = raised(json.encode, { list = { 1, nil, 3 } })
      assert.are.equal("invalid_argument", err.kind)
      assert.truthy(err.message:find("value.list", 1, true))
      assert.are.equal("invalid_argument", raised(json.encode, { 1, x = 2 }).kind)
    end)

    it("raises invalid_argument for a table that contains itself", function()
      local t = {}
      t.self = t
      assert.are.equal("invalid_argument", raised(json.encode, t).kind)
    end)

    it("allows the same table twice when it is not a cycle", function()
      local ids = { "a" }
      assert.are.equal('{"x":["a"],"y":["a"]}', json.encode({ x = ids, y = ids }))
    end)

    it("keeps array positions with json.null items", function()
      assert.are.equal('[1,null,3]', json.encode({ 1, json.null, 3 }))
    end)
  end)

  describe("array()", function()
    it("returns the same table, marked", function()
      local t = { 1, 2 }
      assert.are.equal(t, json.array(t))
      assert.is_true(json.is_array(t))
      assert.is_false(json.is_array({}))
    end)

    it("copies a table that already has a metatable", function()
      local t = setmetatable({ "a" }, { __index = {} })
      local a = json.array(t)
      assert.are_not.equal(t, a)
      assert.are.equal('["a"]', json.encode(a))
    end)
  end)

  describe("decode()", function()
    it("drops null members of objects", function()
      local v = json.decode('{"a":null,"b":1,"c":{"d":null,"e":"x"}}')
      assert.is_nil(v.a)
      assert.are.equal(1, v.b)
      assert.is_nil(v.c.d)
      assert.are.equal("x", v.c.e)
      assert.is_nil(next(v.c, next(v.c)))
    end)

    it("keeps null items of arrays as json.null so indexes do not shift", function()
      local v = json.decode('{"edges":[{"node":{"id":"1"}},{"node":null},{"node":{"id":"3"}}],'
        .. '"list":[1,null,3]}')
      assert.are.equal(3, #v.list)
      assert.are.equal(json.null, v.list[2])
      assert.are.equal(3, v.list[3])
      assert.are.equal(3, #v.edges)
      assert.is_nil(v.edges[2].node)
      assert.are.equal("3", v.edges[3].node.id)
    end)

    it("returns integral numbers as integers", function()
      local v = json.decode('{"totalCount":300,"f":1.5,"neg":-2}')
      assert.are.equal("integer", math.type(v.totalCount))
      assert.are.equal("300", tostring(v.totalCount))
      assert.are.equal(1.5, v.f)
      assert.are.equal("integer", math.type(v.neg))
      assert.are.equal("integer", math.type(json.decode("7")))
    end)

    it("decodes a top-level null as json.null", function()
      assert.are.equal(json.null, json.decode("null"))
    end)

    it("raises an http error saying the body was not JSON", function()
      local err = raised(json.decode, "<html><body>Not found</body></html>")
      assert.is_true(errors.is(err))
      assert.are.equal("http", err.kind)
      assert.truthy(err.message:find("not JSON", 1, true))
    end)

    it("shows at most a short excerpt of a long invalid body", function()
      local body = "<html>" .. string.rep("x", 5000) .. "TAILMARKER</html>"
      local err = raised(json.decode, body)
      assert.is_nil(err.message:find("TAILMARKER", 1, true))
      assert.is_true(#err.message < 200)
    end)

    it("replaces control and non-ASCII bytes in the excerpt", function()
      local err = raised(json.decode, "\27[31mbad\0\255")
      assert.is_nil(err.message:find("\27", 1, true))
      assert.is_nil(err.message:find("\255", 1, true))
    end)

    it("redacts registered secrets from the excerpt", function()
      errors.add_secret("json-spec-secret-123")
      local err = raised(json.decode, "oops json-spec-secret-123")
      assert.is_nil(tostring(err):find("json-spec-secret-123", 1, true))
    end)

    it("raises an http error for a missing body", function()
      assert.are.equal("http", raised(json.decode, nil).kind)
    end)
  end)
end)
