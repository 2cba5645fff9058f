-- The simulator itself (spec/sim/), driven through spec/support/sim.lua and curl.
local sim = require "spec.support.sim"
local cjson = require "cjson"

local function seed_users(n)
  local users = {}
  for i = 1, n do
    users[i] = { email = ("User%d@Example.com"):format(i), firstName = "Zoë " .. i, lastName = "O'Brien, Jr." }
  end
  return users
end

local function emails(n)
  local out = {}
  for i = 1, n do out[i] = ("User%d@Example.com"):format(i) end
  return out
end

local SEED = {
  users = seed_users(130),
  groups = {
    { name = "Big \"crew\" 🚀", members = emails(130) },
    { name = "Sales, EMEA", members = { "user1@example.com", "USER2@EXAMPLE.COM" } },
    { name = "Sales, Americas", members = {} },
  },
  remoteNetworks = {
    { name = "AWS Prod", location = "AWS", connectors = { { name = "c1" } },
      resources = { { name = "db", address = "10.0.0.1", groups = { "Sales, EMEA" } } } },
  },
}

local USERS_PAGE = [[
query Users($after: String, $first: Int) {
  users(after: $after, first: $first) {
    edges { cursor node { id email } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}]]

describe("simulator #integration", function()
  local s

  sim.suite{
    start = { token = "sekret", seed = SEED, rate_limit = "off", page_max = 100 },
    started = function(x) s = x end,
  }

  describe("start()", function()
    it("prints the endpoint URL on 127.0.0.1", function()
      assert.matches("^http://127%.0%.0%.1:%d+/api/graphql/$", s.url)
    end)
  end)

  describe("HTTP", function()
    it("answers 401 with a JSON body when the key is missing or wrong", function()
      local status, body = s:graphql("{ users { totalCount } }", nil, { token = false })
      assert.equal(401, status)
      assert.is_table(body.errors)
      status = s:graphql("{ users { totalCount } }", nil, { token = "wrong" })
      assert.equal(401, status)
    end)

    it("answers 404 with an HTML page on any other path", function()
      local res = s:request{ path = "/graphql", body = "{}" }
      assert.equal(404, res.status)
      assert.matches("text/html", res.headers["content-type"])
      assert.matches("<html", res.body)
    end)

    it("answers 400 when the body is not JSON", function()
      local res = s:request{ body = "not json", headers = { ["X-API-KEY"] = "sekret" } }
      assert.equal(400, res.status)
    end)

    it("answers 400 with GraphQL errors when the document fails validation", function()
      local status, body = s:graphql("{ groups { edges { node { nope } } } }")
      assert.equal(400, status)
      assert.matches("nope", body.errors[1].message)
      status, body = s:graphql("{ groups {")
      assert.equal(400, status)
      assert.is_string(body.errors[1].message)
    end)

    it("answers 200 with errors beside data on execution errors", function()
      local status, body = s:graphql("{ a: remoteNetwork { id } b: groups { totalCount } }")
      assert.equal(200, status)
      assert.is_table(body.errors)
      assert.equal(cjson.null, body.data.a)
      assert.equal(3, body.data.b.totalCount)
    end)
  end)

  describe("pagination", function()
    it("pages users with opaque cursors to the last page", function()
      local after, pages, seen = nil, 0, {}
      repeat
        local status, body = s:graphql(USERS_PAGE, { after = after, first = 50 })
        assert.equal(200, status)
        local conn = body.data.users
        assert.equal(130, conn.totalCount)
        for _, e in ipairs(conn.edges) do seen[#seen + 1] = e.node.email end
        pages = pages + 1
        after = conn.pageInfo.endCursor
      until not conn.pageInfo.hasNextPage
      assert.equal(3, pages)
      assert.equal(130, #seen)
      assert.equal("User130@Example.com", seen[130])
    end)

    it("uses 50 by default, clamps first to page-max, ids and cursors are base64", function()
      local _, body = s:graphql(USERS_PAGE)
      assert.equal(50, #body.data.users.edges)
      assert.equal("YXJyYXljb25uZWN0aW9uOjA=", body.data.users.edges[1].cursor) -- arrayconnection:0
      assert.equal("VXNlcjox", body.data.users.edges[1].node.id) -- User:1
      _, body = s:graphql(USERS_PAGE, { first = 1000 })
      assert.equal(100, #body.data.users.edges)
      assert.is_true(body.data.users.pageInfo.hasNextPage)
    end)

    it("treats an unparsable after as no cursor", function()
      local _, body = s:graphql(USERS_PAGE, { after = "<nil>", first = 2 })
      assert.equal("User1@Example.com", body.data.users.edges[1].node.email)
    end)

    it("pages a group's users on their own", function()
      local doc = [[query($id: ID!, $after: String) { group(id: $id) {
        users(first: 100, after: $after) { edges { node { email } } pageInfo { hasNextPage endCursor } totalCount } } }]]
      local _, g = s:graphql('{ groups(filter: {name: {eq: "Big \\"crew\\" 🚀"}}) { edges { node { id } } } }')
      local id = g.data.groups.edges[1].node.id
      local _, p1 = s:graphql(doc, { id = id })
      assert.equal(100, #p1.data.group.users.edges)
      assert.equal(130, p1.data.group.users.totalCount)
      assert.is_true(p1.data.group.users.pageInfo.hasNextPage)
      local _, p2 = s:graphql(doc, { id = id, after = p1.data.group.users.pageInfo.endCursor })
      assert.equal(30, #p2.data.group.users.edges)
      assert.is_false(p2.data.group.users.pageInfo.hasNextPage)
    end)
  end)

  describe("filters", function()
    local function group_names(filter)
      local _, body = s:graphql("query($f: GroupFilterInput) { groups(filter: $f) { edges { node { name } } } }", { f = filter })
      local out = {}
      for _, e in ipairs(body.data.groups.edges) do out[#out + 1] = e.node.name end
      return out
    end

    it("applies string operators, ANDed", function()
      assert.same({ "Sales, EMEA", "Sales, Americas" }, group_names{ name = { startsWith = "Sales" } })
      assert.same({ "Sales, EMEA" }, group_names{ name = { startsWith = "Sales", endsWith = "EMEA" } })
      assert.same({ "Sales, Americas" }, group_names{ name = { contains = "Amer" } })
      assert.same({ "Sales, EMEA", "Sales, Americas" }, group_names{ name = { ne = "Big \"crew\" 🚀" } })
      assert.same({ "Sales, Americas" }, group_names{ name = { regexp = "^S.*s$" } })
      assert.same({ "Sales, EMEA" }, group_names{ name = { ["in"] = { "Sales, EMEA", "x" } } })
      assert.same({}, group_names{ type = { ["in"] = { "SYNCED" } } })
    end)

    it("filters users by email", function()
      local _, body = s:graphql('{ users(filter: {email: {eq: "User7@Example.com"}}) { totalCount } }')
      assert.equal(1, body.data.users.totalCount)
    end)
  end)

  describe("mutations", function()
    it("creates, updates and deletes a group, editing members as a set", function()
      local _, c = s:graphql([[mutation($n: String!, $u: [ID]) { groupCreate(name: $n, userIds: $u) {
        ok error entity { id name users { totalCount } } } }]], { n = "Ops, \"EU\"", u = { "VXNlcjox", "VXNlcjoy" } })
      local g = c.data.groupCreate
      assert.is_true(g.ok)
      assert.equal(2, g.entity.users.totalCount)
      local upd = [[mutation($id: ID!, $a: [ID], $r: [ID], $all: [ID]) { groupUpdate(id: $id, addedUserIds: $a,
        removedUserIds: $r, userIds: $all) { ok error entity { users { edges { node { id } } } } } }]]
      local _, u = s:graphql(upd, { id = g.entity.id, a = { "VXNlcjoz", "VXNlcjox" }, r = { "VXNlcjoy" } })
      assert.is_true(u.data.groupUpdate.ok)
      local ids = {}
      for _, e in ipairs(u.data.groupUpdate.entity.users.edges) do ids[#ids + 1] = e.node.id end
      assert.same({ "VXNlcjox", "VXNlcjoz" }, ids)
      _, u = s:graphql(upd, { id = g.entity.id, all = { "VXNlcjo0" } })
      assert.equal(1, #u.data.groupUpdate.entity.users.edges)
      local _, d = s:graphql("mutation($id: ID!) { groupDelete(id: $id) { ok error } }", { id = g.entity.id })
      assert.is_true(d.data.groupDelete.ok)
      _, d = s:graphql("mutation($id: ID!) { groupDelete(id: $id) { ok error } }", { id = g.entity.id })
      assert.is_false(d.data.groupDelete.ok)
      assert.matches("does not exist", d.data.groupDelete.error)
    end)

    it("reports a missing id in the payload, not as a GraphQL error", function()
      local status, body = s:graphql('mutation { groupUpdate(id: "R3JvdXA6OTk5", name: "x") { ok error entity { id } } }')
      assert.equal(200, status)
      assert.is_nil(body.errors)
      assert.same({ ok = false, error = "Field 'id' Group with id 'R3JvdXA6OTk5' does not exist.", entity = cjson.null },
        body.data.groupUpdate)
      _, body = s:graphql('mutation { groupUpdate(id: "R3JvdXA6MQ==", addedUserIds: ["VXNlcjo5OTk="]) { ok error } }')
      assert.is_false(body.data.groupUpdate.ok)
      assert.matches("User with id 'VXNlcjo5OTk=' does not exist", body.data.groupUpdate.error)
    end)

    it("creates, finds by name, updates and deletes remote networks (names need not be unique)", function()
      local create = "mutation($n: String!) { remoteNetworkCreate(name: $n, location: AZURE) { ok entity { id name location } } }"
      local _, a = s:graphql(create, { n = "Lab" })
      local _, b = s:graphql(create, { n = "Lab" })
      assert.is_true(a.data.remoteNetworkCreate.ok and b.data.remoteNetworkCreate.ok)
      local _, f = s:graphql('{ remoteNetwork(name: "Lab") { id } }')
      assert.equal(a.data.remoteNetworkCreate.entity.id, f.data.remoteNetwork.id)
      local _, u = s:graphql("mutation($id: ID!) { remoteNetworkUpdate(id: $id, name: \"Lab 2\") { ok entity { name location } } }",
        { id = b.data.remoteNetworkCreate.entity.id })
      assert.same({ name = "Lab 2", location = "AZURE" }, u.data.remoteNetworkUpdate.entity)
      for _, x in ipairs{ a, b } do
        local _, d = s:graphql("mutation($id: ID!) { remoteNetworkDelete(id: $id) { ok } }", { id = x.data.remoteNetworkCreate.entity.id })
        assert.is_true(d.data.remoteNetworkDelete.ok)
      end
    end)

    it("creates users and refuses a duplicate email in another case", function()
      local doc = "mutation($e: String!) { userCreate(email: $e, firstName: \"Ève\") { ok error entity { email firstName } } }"
      local _, a = s:graphql(doc, { e = "New.Person@Example.com" })
      assert.is_true(a.data.userCreate.ok)
      local _, b = s:graphql(doc, { e = "new.person@example.COM" })
      assert.is_false(b.data.userCreate.ok)
      assert.matches("already exists", b.data.userCreate.error)
    end)

    it("gives a clear execution error for what it does not know", function()
      local status, body = s:graphql('{ remoteNetwork { id } }')
      assert.equal(200, status)
      assert.matches("id or its name", body.errors[1].message)
    end)
  end)

  describe("request log", function()
    it("records operation, type, status, root fields and aliases", function()
      s:graphql("query Two { a: users(first: 1) { totalCount } b: groups { totalCount } }", nil, {})
      s:graphql("mutation M($n: String!) { remoteNetworkCreate(name: $n) { ok } }", { n = "Log" })
      s:graphql("{ users { totalCount } }", nil, { token = "bad" })
      local log = s:requests()
      assert.equal(3, #log)
      assert.equal("Two", log[1].operation)
      assert.equal("query", log[1].type)
      assert.same({ "users", "groups" }, log[1].fields)
      assert.equal(2, log[1].aliases)
      assert.equal(200, log[1].status)
      assert.equal("mutation", log[2].type)
      assert.same({ n = "Log" }, log[2].variables)
      assert.equal(401, log[3].status)
      s:reset()
      assert.equal(0, #s:requests())
    end)

    it("counts the requests of a type, their root fields in all and by name with count()", function()
      s:graphql("query Two { a: users(first: 1) { totalCount } b: users { totalCount } }", nil, {})
      s:graphql("{ groups { totalCount } }")
      s:graphql("mutation M($n: String!) { remoteNetworkCreate(name: $n) { ok } }", { n = "Counted" })
      local n, aliases, fields = s:count("query")
      assert.equal(2, n)
      assert.equal(3, aliases)   -- root fields, aliased or not
      assert.same({ users = 2, groups = 1 }, fields)
      n, aliases, fields = s:count("mutation")
      assert.equal(1, n)
      assert.equal(1, aliases)
      assert.same({ remoteNetworkCreate = 1 }, fields)
      s:reset()
      assert.equal(0, (s:count("query")))
    end)
  end)

  describe("faults", function()
    local Q = "query Q { users(first: 1) { totalCount } }"

    it("answers 5xx for count requests, then recovers", function()
      s:fault{ status = 503, count = 2 }
      assert.equal(503, (s:graphql(Q)))
      assert.equal(503, (s:graphql(Q)))
      assert.equal(200, (s:graphql(Q)))
      s:fault{ status = 500, body = { errors = { { message = "'NoneType' object has no attribute 'items'" } } } }
      local status, body = s:graphql(Q)
      assert.equal(500, status)
      assert.matches("NoneType", body.errors[1].message)
    end)

    it("answers 429 with or without Retry-After", function()
      s:fault{ status = 429, retryAfter = 7 }
      local status, _, res = s:graphql(Q)
      assert.equal(429, status)
      assert.equal("7", res.headers["retry-after"])
      s:fault{ status = 429 }
      status, _, res = s:graphql(Q)
      assert.equal(429, status)
      assert.is_nil(res.headers["retry-after"])
    end)

    it("answers an HTML page with 200", function()
      s:fault{ html = true, status = 200 }
      local status, body, res = s:graphql(Q)
      assert.equal(200, status)
      assert.is_string(body)
      assert.matches("text/html", res.headers["content-type"])
    end)

    it("matches by operation type, operation name or root field", function()
      s:fault{ status = 502, match = "mutation" }
      s:fault{ status = 503, match = "Other" }
      assert.equal(200, (s:graphql(Q)))
      assert.equal(503, (s:graphql("query Other { groups { totalCount } }")))
      assert.equal(502, (s:graphql('mutation { remoteNetworkCreate(name: "F") { ok } }')))
      s:fault{ status = 500, match = "groups" }
      assert.equal(200, (s:graphql(Q)))
      assert.equal(500, (s:graphql("{ groups { totalCount } }")))
    end)

    it("drops the connection before processing", function()
      s:fault{ drop = "before", match = "mutation" }
      local status = s:graphql('mutation { remoteNetworkCreate(name: "Dropped before") { ok } }')
      assert.is_nil(status)
      local _, body = s:graphql('{ remoteNetworks(filter: {name: {eq: "Dropped before"}}) { totalCount } }')
      assert.equal(0, body.data.remoteNetworks.totalCount)
    end)

    it("drops the connection after processing (the lost response)", function()
      s:fault{ drop = "after", match = "remoteNetworkCreate" }
      local status = s:graphql('mutation { remoteNetworkCreate(name: "Dropped after") { ok } }')
      assert.is_nil(status)
      local _, body = s:graphql('{ remoteNetworks(filter: {name: {eq: "Dropped after"}}) { totalCount } }')
      assert.equal(1, body.data.remoteNetworks.totalCount)
      assert.equal("drop-after", s:requests()[1].fault)
    end)

    it("delays a response", function()
      s:fault{ delayMs = 300 }
      local t0 = os.time()
      local res = s:request{ body = cjson.encode{ query = Q }, timeout = 0.1, headers = { ["X-API-KEY"] = "sekret" } }
      assert.is_nil(res.status) -- timed out
      assert.equal(28, res.curl_exit)
      assert.is_true(os.time() - t0 < 5)
    end)

    it("answers 200 with a GraphQL error and null data", function()
      s:fault{ graphqlError = "boom" }
      local status, body = s:graphql(Q)
      assert.equal(200, status)
      assert.equal("boom", body.errors[1].message)
      assert.equal(cjson.null, body.data)
    end)
  end)
end)

describe("simulator rate limits #integration", function()
  it("answers 429 with Retry-After and does not execute the request", function()
    local s = sim.start{ rate_limit = "3:1" }
    finally(function() s:stop() end)
    for _ = 1, 3 do assert.equal(200, (s:graphql("{ users { totalCount } }"))) end
    local status, _, res = s:graphql("{ users { totalCount } }")
    assert.equal(429, status)
    local wait = tonumber(res.headers["retry-after"])
    assert.is_true(wait >= 1 and wait <= 60 and wait == math.floor(wait))
    assert.equal(200, (s:graphql('mutation { remoteNetworkCreate(name: "one") { ok } }')))
    assert.equal(429, (s:graphql('mutation { remoteNetworkCreate(name: "two") { ok } }')))
    local st = s:state()
    assert.equal(1, #st.tables.remoteNetworks)
  end)

  it("scales the window with time_scale and frees slots", function()
    local s = sim.start{ rate_limit = "2:2", time_scale = 60 } -- a 1 s window
    finally(function() s:stop() end)
    assert.equal(200, (s:graphql("{ users { totalCount } }")))
    assert.equal(200, (s:graphql("{ users { totalCount } }")))
    local status, _, res = s:graphql("{ users { totalCount } }")
    assert.equal(429, status)
    assert.is_true(tonumber(res.headers["retry-after"]) <= 1)
    os.execute("sleep 1.1")
    assert.equal(200, (s:graphql("{ users { totalCount } }")))
  end)
end)

describe("simulator state and latency #integration", function()
  it("saves state after mutations and loads it on restart", function()
    local path = os.tmpname()
    os.remove(path)
    local s = sim.start{ state = path, rate_limit = "off" }
    s:graphql('mutation { remoteNetworkCreate(name: "Kept") { ok } }')
    s:stop()
    s = sim.start{ state = path, rate_limit = "off" }
    finally(function() s:stop(); os.remove(path) end)
    local _, body = s:graphql('{ remoteNetwork(name: "Kept") { name } }')
    assert.equal("Kept", body.data.remoteNetwork.name)
  end)

  it("delays every response by latency_ms", function()
    local s = sim.start{ latency_ms = 1200, rate_limit = "off" }
    finally(function() s:stop() end)
    local res = s:request{ body = "{}", timeout = 0.5 }
    assert.is_nil(res.status)
  end)
end)

describe("simulator state round trip #integration", function()
  local function count(text, pat)
    return select(2, text:gsub(pat, ""))
  end

  it("loads its own state() back with empty lists still lists", function()
    local s = sim.start{ seed = SEED, rate_limit = "off" }
    finally(function() s:stop() end)
    local before = s:state_text()
    -- empty tables (no devices yet) and empty record lists (a group without members)
    assert.is_true(count(before, '"devices":%[%]') == 1)
    assert.is_true(count(before, '"userIds":%[%]') >= 1)
    local st = s:state()
    assert.equal(0, #st.tables.devices)
    assert.same({ ok = true }, s:load(st))
    local after = s:state_text()
    assert.equal(count(before, "%[%]"), count(after, "%[%]"))
    assert.equal(count(before, "{}"), count(after, "{}"))
    local _, body = s:graphql('{ groups(filter: { name: { eq: "Sales, Americas" } }) '
      .. '{ edges { node { name users { totalCount } } } } devices { totalCount } }')
    assert.is_nil(body.errors)
    assert.equal(0, body.data.groups.edges[1].node.users.totalCount)
    assert.equal(0, body.data.devices.totalCount)
    -- a mutation on the reloaded state still works on the emptied lists
    local gid = st.tables.groups[3].id
    local uid = st.tables.users[1].id
    local _, upd = s:graphql("mutation($id: ID!, $u: [ID]) { groupUpdate(id: $id, addedUserIds: $u) { ok error } }",
      { id = gid, u = { uid } })
    assert.is_true(upd.data.groupUpdate.ok)
  end)

  it("loads the raw state_text() byte for byte", function()
    local s = sim.start{ seed = SEED, rate_limit = "off" }
    finally(function() s:stop() end)
    s:graphql('mutation { remoteNetworkCreate(name: "Added") { ok } }')
    local text = s:state_text()
    s:load({ users = {} })
    assert.are_not.equal(text, s:state_text())
    s:load(text)
    assert.equal(text, s:state_text())
  end)

  it("refuses a malformed JSON string with the simulator's 400", function()
    local s = sim.start{ rate_limit = "off" }
    finally(function() s:stop() end)
    local ok, err = pcall(s.load, s, "{not json")
    assert.is_false(ok)
    assert.matches("400", tostring(err))
  end)
end)

describe("simulator generators #integration", function()
  local root = sim.root()

  local function run(cmd)
    local p = io.popen(cmd, "r")
    local out = p:read("a")
    assert.is_true(p:close())
    return out
  end

  it("makes the same tenant bytes from the same arguments", function()
    local cmd = "node " .. root .. "/spec/sim/seed.mjs --users 300 --groups 20 --networks 3 --rng-seed 7"
    local a, b = run(cmd), run(cmd)
    assert.equal(a, b)
    assert.are_not.equal(a, run(cmd:gsub("seed 7", "seed 8")))
    local t = cjson.decode(a)
    assert.equal(300, #t.users)
    assert.equal(20, #t.groups)
    local big = 0
    for _, g in ipairs(t.groups) do if #g.members >= 150 then big = big + 1 end end
    assert.is_true(big >= 1)
    local mixed = 0
    for _, u in ipairs(t.users) do if u.email ~= u.email:lower() then mixed = mixed + 1 end end
    assert.is_true(mixed > 0)
  end)

  it("makes a members CSV the simulator tenant can be checked against", function()
    local tenant = os.tmpname()
    finally(function() os.remove(tenant) end)
    run("node " .. root .. "/spec/sim/seed.mjs --users 200 --groups 10 --rng-seed 3 --out " .. tenant)
    local cmd = "node " .. root .. "/spec/sim/members-csv.mjs --tenant " .. tenant ..
      " --rows 50 --groups 3 --new-groups 1 --unknown-users 2 --rng-seed 5"
    local csv = run(cmd)
    assert.equal(csv, run(cmd))
    assert.equal("group,email\r\n", csv:sub(1, 13))
    local rows = select(2, csv:gsub("\r\n", "")) - 1
    assert.equal(50, rows)
    assert.matches('"New, ""imported"" group 1', csv, 1, true)
    assert.matches("@Unknown.Example", csv, 1, true)
    local s = sim.start{ seed = tenant, rate_limit = "off" }
    finally(function() s:stop() end)
    local _, body = s:graphql("{ users { totalCount } groups { totalCount } }")
    assert.equal(200, body.data.users.totalCount)
    assert.equal(10, body.data.groups.totalCount)
  end)
end)
