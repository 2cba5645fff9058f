#!/usr/bin/env node
// Generate a group-membership CSV (columns group,email) for the sync job from
// a seed tenant, deterministically. Rows mix memberships that already exist
// and new ones, emails sometimes in another case than the tenant's, a few
// duplicate rows, and optionally groups that do not exist yet and emails of
// unknown users. RFC 4180: CRLF line ends, fields quoted where needed.
//
//   node spec/sim/members-csv.mjs --tenant tenant.json [--rows N] [--groups N]
//        [--new-groups N] [--unknown-users N] [--rng-seed N] [--out members.csv]
import { readFileSync, writeFileSync } from "node:fs";
import { rng, options, intOpt, recase, csvField } from "./lib/gen.mjs";

const USAGE = "usage: node members-csv.mjs --tenant tenant.json [--rows N] [--groups N] [--new-groups N] " +
  "[--unknown-users N] [--rng-seed N] [--out members.csv]";
const o = options(process.argv.slice(2), {
  tenant: "", rows: "200", groups: "10", newGroups: "0", unknownUsers: "0", rngSeed: "1", out: "",
}, USAGE);
if (!o.tenant) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}
const tenant = JSON.parse(readFileSync(o.tenant, "utf8"));
const nRows = intOpt(o, "rows");
const nNew = intOpt(o, "newGroups");
const nUnknown = intOpt(o, "unknownUsers");
const r = rng(intOpt(o, "rngSeed"));

// Only groups whose members can be edited (not SYNCED/SYSTEM), first by name.
const seen = new Set();
const editable = (tenant.groups || []).filter((g) => {
  if ((g.type || "MANUAL") !== "MANUAL" || seen.has(g.name)) return false;
  seen.add(g.name);
  return true;
});
const users = tenant.users || [];
if (!users.length) {
  process.stderr.write("members-csv: the tenant has no users\n");
  process.exit(2);
}
const chosen = r.sample(editable, intOpt(o, "groups")).map((g) => ({ name: g.name, members: g.members || [] }));
for (let i = 0; i < nNew; i++) chosen.push({ name: `New, "imported" group ${i + 1} ✨`, members: [] });
if (!chosen.length) {
  process.stderr.write("members-csv: no groups to use (--groups 0 and --new-groups 0?)\n");
  process.exit(2);
}

const rows = [];
const plain = Math.max(0, nRows - nUnknown);
for (let i = 0; i < plain; i++) {
  const g = chosen[i % chosen.length];
  let email;
  if (rows.length && r.chance(0.03)) {
    const [dg, de] = r.pick(rows); // a duplicate row, maybe in another case
    rows.push([dg, r.chance(0.5) ? recase(r, de) : de]);
    continue;
  }
  if (g.members.length && r.chance(0.5)) email = r.pick(g.members); // already a member
  else email = r.pick(users).email; // probably new
  if (r.chance(0.25)) email = recase(r, email);
  rows.push([g.name, email]);
}
for (let i = 0; i < nUnknown; i++) rows.push([r.pick(chosen).name, `No.Such.User${i + 1}@Unknown.Example`]);
r.shuffle(rows);

const text = ["group,email", ...rows.map(([g, e]) => `${csvField(g)},${csvField(e)}`)].join("\r\n") + "\r\n";
if (o.out) writeFileSync(o.out, text);
else process.stdout.write(text);
