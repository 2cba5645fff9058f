// Unit tests of the simulator's building blocks: node --test spec/sim/test/
import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "graphql";
import { connection, encodeCursor, applyFilter } from "../lib/connection.mjs";
import { RateLimiter, Faults, inspect } from "../lib/http.mjs";
import { Store, decodeId } from "../lib/store.mjs";

const items = Array.from({ length: 120 }, (_, i) => i);

test("connection pages with default 50, clamps to page max, ignores bad cursors", () => {
  const p1 = connection(items, {}, 100);
  assert.equal(p1.edges.length, 50);
  assert.equal(p1.pageInfo.hasNextPage, true);
  const p2 = connection(items, { first: 500, after: p1.pageInfo.endCursor }, 100);
  assert.equal(p2.edges.length, 70);
  assert.equal(p2.edges[0].node, 50);
  assert.equal(p2.pageInfo.hasNextPage, false);
  assert.equal(connection(items, { first: 2, after: "<nil>" }, 100).edges[0].node, 0);
  assert.equal(p2.edges[0].cursor, encodeCursor(50));
  const last = connection(items, { last: 5 }, 100);
  assert.deepEqual(last.edges.map((e) => e.node), [115, 116, 117, 118, 119]);
  assert.equal(last.pageInfo.hasPreviousPage, true);
});

test("filters AND their conditions", () => {
  const rows = [{ name: "Sales, EMEA" }, { name: "Sales, US" }, { name: "Ops" }];
  assert.equal(applyFilter(rows, { name: { startsWith: "Sales", ne: "Sales, US" } }).length, 1);
  assert.equal(applyFilter(rows, { name: { in: ["Ops", "x"] } })[0].name, "Ops");
  assert.throws(() => applyFilter(rows, { name: { regexp: "(" } }));
});

test("rate limiter counts a sliding window and gives Retry-After", () => {
  const rl = new RateLimiter({ reads: 2, writes: 1 }, 60000);
  assert.equal(rl.take("reads", 0), null);
  assert.equal(rl.take("reads", 1000), null);
  assert.equal(rl.take("reads", 2000), "58");
  assert.equal(rl.take("writes", 2000), null);
  assert.equal(rl.take("reads", 60001), null);
  assert.equal(RateLimiter.retryAfter(250, 60), "0.25");
  assert.equal(RateLimiter.retryAfter(10, 1), "1");
});

test("faults match and count down; bad rules are refused", () => {
  const f = new Faults();
  f.add({ status: 503, count: 2, match: "groups" });
  const info = { type: "query", operation: "Q", fields: ["groups"] };
  assert.equal(f.take({ ...info, fields: ["users"] }), null);
  assert.equal(f.take(info).status, 503);
  assert.equal(f.take(info).status, 503);
  assert.equal(f.take(info), null);
  assert.match(Faults.check({ status: 418 }), /status/);
  assert.match(Faults.check({ nope: 1 }), /unknown/);
  assert.equal(Faults.check({ drop: "after" }), null);
});

test("inspect resolves aliases and fragments", () => {
  const doc = parse("query Q { a: users { totalCount } ...F } fragment F on QueriesRoot { groups { totalCount } }");
  assert.deepEqual(inspect(doc, null), { operation: "Q", type: "query", fields: ["users", "groups"] });
});

test("seed references users by email in any case", () => {
  const s = Store.fromSeed({ users: [{ email: "A@B.co" }], groups: [{ name: "G", members: ["a@b.CO"] }] });
  const [g] = s.list("groups");
  assert.equal(g.userIds.length, 1);
  assert.deepEqual(decodeId(g.id), { prefix: "Group", n: 1 });
  assert.throws(() => Store.fromSeed({ groups: [{ name: "G", members: ["x@y.z"] }] }), /unknown user/);
});

test("seed keeps an explicit null lastHeartbeatAt (never reported) and defaults an omitted one to now", () => {
  const s = Store.fromSeed({ remoteNetworks: [{ name: "N", connectors: [
    { name: "never", state: "DEAD_NO_HEARTBEAT", lastHeartbeatAt: null },
    { name: "omitted" },
    { name: "given", lastHeartbeatAt: "2024-05-01T12:00:00.000Z" },
  ] }] });
  const by = Object.fromEntries(s.list("connectors").map((c) => [c.name, c]));
  assert.equal(by.never.lastHeartbeatAt, null);
  assert.equal(typeof by.omitted.lastHeartbeatAt, "string");
  assert.ok(Math.abs(Date.parse(by.omitted.lastHeartbeatAt) - Date.now()) < 60000);
  assert.equal(by.given.lastHeartbeatAt, "2024-05-01T12:00:00.000Z");
  // and it survives a state round trip
  const again = Store.fromJSON(JSON.parse(JSON.stringify(s.toJSON())));
  const never = again.list("connectors").find((c) => c.name === "never");
  assert.equal(never.lastHeartbeatAt, null);
});
