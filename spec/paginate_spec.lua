local paginate = require "twingate.paginate"
local graphql = require "twingate.graphql"
local json = require "twingate.json"

-- A fake `query` over `n` groups, each with members[i] users, pages of `max`.
local function fake_tenant(group_count, members, max)
  local calls = {}
  local function page(list, after, first)
    first = math.min(first or 50, max)
    local start = after and (tonumber(after:match("c(%d+)")) + 1) or 1
    local edges = {}
    for k = start, math.min(start + first - 1, #list) do
      edges[#edges + 1] = { cursor = "c" .. k, node = list[k] }
    end
    local last = start + #edges - 1
    return { edges = edges, pageInfo = { hasNextPage = last < #list, endCursor = #edges > 0 and ("c" .. last) or nil } }
  end
  local groups, users_of = {}, {}
  for g = 1, group_count do
    users_of["G" .. g] = {}
    for u = 1, members[g] or 0 do users_of["G" .. g][u] = { id = "U" .. g .. "." .. u } end
    groups[g] = { id = "G" .. g }
  end
  local function query(doc, vars)
    calls[#calls + 1] = { doc = doc, vars = vars }
    local info = graphql.inspect(doc)
    local data = {}
    for _, f in ipairs(info.fields) do
      if f.name == "groups" then
        local conn = page(groups, vars.after, vars.first)
        for _, e in ipairs(conn.edges) do
          e.node = { id = e.node.id, users = page(users_of[e.node.id], nil, vars.first) }
        end
        data[f.key] = conn
      elseif f.name == "group" then
        local n = f.key:match("^n(%d+)$")
        local id, after = vars["id" .. n], vars["after" .. n]
        data[f.key] = users_of[id] and { users = page(users_of[id], after, vars.first) } or nil
      end
    end
    return data
  end
  return query, calls
end

local LIST = "query L($first: Int, $after: String) { groups(first: $first, after: $after) { edges { node { id users(first: $first) { edges { node { id } } pageInfo { hasNextPage endCursor } } } } pageInfo { hasNextPage endCursor } } }"
local SPEC = { key = "users", get_field = "group", selection = "edges { node { id } } pageInfo { hasNextPage endCursor }" }

describe("twingate.paginate", function()
  describe("each()", function()
    it("follows endCursor to the last page", function()
      local query, calls = fake_tenant(25, {}, 10)
      local ids = {}
      for g in paginate.each(query, LIST, nil, { page_size = 10 }) do ids[#ids + 1] = g.id end
      assert.equals(25, #ids)
      assert.equals("G25", ids[25])
      assert.equals(3, #calls)
      assert.is_nil(calls[1].vars.after)
      assert.equals(10, calls[1].vars.first)
      assert.equals("c10", calls[2].vars.after)
      assert.equals("c20", calls[3].vars.after)
    end)

    it("keeps a first given by the caller and refuses a document without $after", function()
      local query, calls = fake_tenant(3, {}, 10)
      for _ in paginate.each(query, LIST, { first = 2 }) do end
      assert.equals(2, calls[1].vars.first)
      assert.equals(2, #calls)
      local ok, err = pcall(paginate.each, query, "query { groups { edges { node { id } } } }")
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
    end)

    it("refuses a page_size that is not a positive integer, before any request", function()
      for _, size in ipairs{ 0, -1, 2.5, "10" } do
        local query, calls = fake_tenant(3, {}, 10)
        local ok, err = pcall(paginate.each, query, LIST, nil, { page_size = size })
        assert.is_false(ok, tostring(size))
        assert.equals("invalid_argument", err.kind)
        assert.matches("page_size must be a positive integer", err.message)
        assert.equals(0, #calls)
      end
    end)

    it("skips null edges and null nodes", function()
      local n = 0
      local query = function()
        n = n + 1
        return { devices = { edges = { json.null, { cursor = "a" }, { node = { id = "D1" } } },
          pageInfo = { hasNextPage = false } } }
      end
      local got = {}
      for d in paginate.each(query, "query($after: String) { devices(after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }") do
        got[#got + 1] = d.id
      end
      assert.same({ "D1" }, got)
      assert.equals(1, n)
    end)

    it("ends quietly when the parent object is null", function()
      local query = function() return {} end
      local count = 0
      for _ in paginate.each(query, "query($id: ID!, $after: String) { group(id: $id) { users(after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }", { id = "x" }) do
        count = count + 1
      end
      assert.equals(0, count)
    end)

    it("raises when the server repeats a cursor instead of looping forever", function()
      local query = function()
        return { users = { edges = { { node = { id = "1" } } }, pageInfo = { hasNextPage = true, endCursor = "same" } } }
      end
      local it_ = paginate.each(query, "query($after: String) { users(after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }")
      local ok, err = pcall(function() for _ in it_ do end end)
      assert.is_false(ok)
      assert.equals("graphql", err.kind)
    end)
  end)

  describe("complete()", function()
    it("fills nested connections with every item using batched aliased queries", function()
      -- 7 groups on one page; members: 250, 0, 5, 101, 100, 300, 30; pages of 100
      local query, calls = fake_tenant(7, { 250, 0, 5, 101, 100, 300, 30 }, 100)
      local groups = {}
      for g in paginate.each(query, LIST, nil, {
        page_size = 100,
        on_page = function(nodes) paginate.complete(query, nodes, { SPEC }, { page_size = 100, batch_size = 2 }) end,
      }) do
        groups[#groups + 1] = g
      end
      assert.equals(7, #groups)
      local want = { 250, 0, 5, 101, 100, 300, 30 }
      for i, g in ipairs(groups) do
        assert.equals(want[i], #g.users)
        assert.is_true(json.is_array(g.users))
      end
      assert.equals("U6.300", groups[6].users[300].id)
      -- round 1: G1, G4, G6 unfinished -> 2 requests (batch of 2); round 2: G1, G6 -> 1; round 3: none left
      assert.equals(1 + 2 + 1, #calls)
      assert.matches("n0: group%(id: %$id0%)", calls[2].doc)
      assert.matches("n1: group%(id: %$id1%)", calls[2].doc)
      assert.same({ first = 100, id0 = "G1", after0 = "c100", id1 = "G4", after1 = "c100" }, calls[2].vars)
      assert.same({ first = 100, id0 = "G6", after0 = "c100" }, calls[3].vars)
      assert.same({ first = 100, id0 = "G1", after0 = "c200", id1 = "G6", after1 = "c200" }, calls[4].vars)
    end)

    it("keeps what was read when a node disappears between pages", function()
      local query, calls = fake_tenant(1, { 150 }, 100)
      local nodes = query(LIST, { first = 100 }).groups.edges
      local g = nodes[1].node
      local vanish = function(doc, vars) calls[#calls + 1] = vars; return {} end
      paginate.complete(vanish, { g }, { SPEC })
      assert.equals(100, #g.users)
    end)
  end)
end)
