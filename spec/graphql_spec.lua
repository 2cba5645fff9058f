local graphql = require "twingate.graphql"

describe("twingate.graphql", function()
  describe("inspect()", function()
    it("reads the operation type, name, variables and root fields", function()
      local info = graphql.inspect([[
        query ListGroups($first: Int = 10, $after: String, $filter: GroupFilterInput!) {
          groups(first: $first, after: $after, filter: $filter) { edges { node { id } } }
          me: user(id: "x") { id }
        }]])
      assert.equals("query", info.type)
      assert.equals("ListGroups", info.name)
      assert.equals(3, #info.variables)
      assert.equals("Int", info.variables.first)
      assert.equals("String", info.variables.after)
      assert.equals("GroupFilterInput!", info.variables.filter)
      assert.equals(2, #info.fields)
      assert.same({ name = "groups", key = "groups" }, { name = info.fields[1].name, key = info.fields[1].key })
      assert.equals("user", info.fields[2].name)
      assert.equals("me", info.fields[2].alias)
      assert.equals("me", info.fields[2].key)
    end)

    it("treats a bare selection set as an anonymous query", function()
      local info = graphql.inspect("{ users { totalCount } }")
      assert.equals("query", info.type)
      assert.is_nil(info.name)
      assert.equals("users", info.fields[1].name)
    end)

    it("is not fooled by strings, block strings and comments", function()
      local info = graphql.inspect([[
        # mutation Evil { groupDelete(id: "1") { ok } }
        query Q {
          a: groups(filter: { name: { eq: "mutation { x } }" } }) { totalCount }
          b: groups(filter: { name: { eq: """ { \""" } " """ } }) { totalCount } # }
        }]])
      assert.equals("query", info.type)
      assert.equals("Q", info.name)
      assert.equals(2, #info.fields)
      assert.equals("b", info.fields[2].key)
    end)

    it("skips fragments defined before the operation and list types", function()
      local info = graphql.inspect([[
        fragment G on Group { id name }
        mutation Up($id: ID!, $ids: [ID!]!) @dir(x: 1) {
          groupUpdate(id: $id, addedUserIds: $ids) { ok error entity { ...G } }
        }]])
      assert.equals("mutation", info.type)
      assert.equals("Up", info.name)
      assert.equals("[ID!]!", info.variables.ids)
      assert.equals("groupUpdate", info.fields[1].name)
    end)

    it("raises invalid_argument on unterminated strings or no operation", function()
      local ok, err = pcall(graphql.inspect, 'query { a(x: "oops) }')
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      ok, err = pcall(graphql.inspect, "fragment F on User { id }")
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
      ok, err = pcall(graphql.inspect, "query { a ")
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
    end)
  end)

  describe("rename_variables()", function()
    it("renames variables but not text inside strings", function()
      local out = graphql.rename_variables('group(id: $id) { users(after: $after, filter: { email: { eq: "$id" } }) { x } }',
        function(n) if n ~= "first" then return n .. "7" end end)
      assert.equals('group(id: $id7) { users(after: $after7, filter: { email: { eq: "$id" } }) { x } }', out)
    end)
  end)

  describe("batch()", function()
    it("builds aliased copies with numbered variables and shared ones", function()
      local doc, vars, aliases = graphql.batch{
        type = "query", name = "GroupUsersPage", prefix = "g",
        shared = { first = "Int" }, shared_values = { first = 100 },
        template = "group(id: $id) { users(first: $first, after: $after) { pageInfo { endCursor } } }",
        types = { id = "ID!", after = "String" },
        items = { { id = "A", after = "c1" }, { id = "B", after = "c2" } },
      }
      assert.same({ "g0", "g1" }, aliases)
      assert.same({ first = 100, id0 = "A", after0 = "c1", id1 = "B", after1 = "c2" }, vars)
      assert.matches("^query GroupUsersPage%(%$first: Int, %$after0: String, %$id0: ID!, %$after1: String, %$id1: ID!%)", doc)
      assert.matches("g0: group%(id: %$id0%) { users%(first: %$first, after: %$after0%)", doc)
      assert.matches("g1: group%(id: %$id1%) { users%(first: %$first, after: %$after1%)", doc)
      local info = graphql.inspect(doc)
      assert.equals(2, #info.fields)
      assert.equals("g1", info.fields[2].alias)
      assert.equals("ID!", info.variables.id1)
    end)

    it("takes per-item templates for batches of different mutations", function()
      local doc, vars = graphql.batch{
        type = "mutation", name = "Apply",
        items = {
          { template = "groupDelete(id: $id) { ok error }", types = { id = "ID!" }, values = { id = "X" } },
          { template = "groupUpdate(id: $id, name: $name) { ok error }", types = { id = "ID!", name = "String" },
            values = { id = "Y", name = 'a "quoted" $name' } },
        },
      }
      local info = graphql.inspect(doc)
      assert.equals("mutation", info.type)
      assert.equals("groupDelete", info.fields[1].name)
      assert.equals("groupUpdate", info.fields[2].name)
      assert.equals('a "quoted" $name', vars.name1)
      assert.is_nil(doc:find("quoted", 1, true))
    end)

    it("refuses a template using an undeclared variable", function()
      local ok, err = pcall(graphql.batch, { template = "group(id: $oops) { id }", types = { id = "ID!" }, items = { { id = 1 } } })
      assert.is_false(ok)
      assert.equals("invalid_argument", err.kind)
    end)
  end)
end)
