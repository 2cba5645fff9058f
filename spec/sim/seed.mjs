#!/usr/bin/env node
// Generate a realistic tenant for the simulator, deterministically: the same
// arguments always give the same bytes. Format: README.md ("Seed files").
//
//   node spec/sim/seed.mjs [--users N] [--groups N] [--networks N]
//        [--members-per-group MIN:MAX] [--big-groups N] [--resources N] [--access-per-resource MIN:MAX]
//        [--rng-seed N] [--out tenant.json]
// --resources N spreads N resources evenly over the networks (default 2..8 per
// network); --access-per-resource gives each resource MIN..MAX group edges (default 0:4).
import { writeFileSync } from "node:fs";
import { rng, options, intOpt } from "./lib/gen.mjs";

const USAGE = "usage: node seed.mjs [--users N] [--groups N] [--networks N] [--members-per-group MIN:MAX] " +
  "[--big-groups N] [--resources N] [--access-per-resource MIN:MAX] [--rng-seed N] [--out tenant.json]";
const o = options(process.argv.slice(2), {
  users: "2000", groups: "200", networks: "10", membersPerGroup: "1:60", bigGroups: "", rngSeed: "1", out: "",
  resources: "", accessPerResource: "0:4",
}, USAGE);
const nUsers = intOpt(o, "users");
const nGroups = intOpt(o, "groups");
const nNetworks = intOpt(o, "networks");
const mm = /^(\d+):(\d+)$/.exec(o.membersPerGroup);
if (!mm || Number(mm[1]) > Number(mm[2])) {
  process.stderr.write("--members-per-group takes MIN:MAX\n");
  process.exit(2);
}
const [minM, maxM] = [Number(mm[1]), Number(mm[2])];
const am = /^(\d+):(\d+)$/.exec(o.accessPerResource);
if (!am || Number(am[1]) > Number(am[2])) {
  process.stderr.write("--access-per-resource takes MIN:MAX\n");
  process.exit(2);
}
const [minA, maxA] = [Number(am[1]), Number(am[2])];
const nResources = o.resources === "" ? null : intOpt(o, "resources");
const nBig = o.bigGroups === "" ? Math.ceil(nGroups / 10) : intOpt(o, "bigGroups");
const r = rng(intOpt(o, "rngSeed"));

// [display name, ascii form for the email]
const FIRST = [
  ["Zoë", "zoe"], ["José", "jose"], ["Ángel", "angel"], ["Björn", "bjorn"], ["Chloé", "chloe"], ["Dmitrïy", "dmitriy"],
  ["Émilie", "emilie"], ["François", "francois"], ["Günther", "gunther"], ["Håkon", "hakon"], ["Ísak", "isak"],
  ["Jürgen", "jurgen"], ["Łukasz", "lukasz"], ["María José", "mariajose"], ["Noémie", "noemie"], ["Øystein", "oystein"],
  ["Renée", "renee"], ["Søren", "soren"], ["Thérèse", "therese"], ["Ümit", "umit"], ["Yağmur", "yagmur"],
  ["Anna", "anna"], ["Ben", "ben"], ["Carla", "carla"], ["David", "david"], ["Eve", "eve"], ["Farah", "farah"],
  ["Grace", "grace"], ["Hiro", "hiro"], ["Ivan", "ivan"], ["Jamal", "jamal"], ["Kai", "kai"], ["Lena", "lena"],
  ["Mei", "mei"], ["Nia", "nia"], ["Omar", "omar"], ["Priya", "priya"], ["Quinn", "quinn"], ["Raj", "raj"],
  ["D'Andre", "dandre"], ["Mary-Kate", "marykate"], ["\"Bobby\" Robert", "robert"], ["Sam 🚀", "sam"], ["Ana 🌸", "ana"],
  ["李", "li"], ["Дарья", "darya"], ["Αλέξης", "alexis"],
];
const LAST = [
  ["O'Brien", "obrien"], ["D'Angelo", "dangelo"], ["Müller", "muller"], ["Núñez", "nunez"], ["Ørsted", "orsted"],
  ["García Márquez", "garciamarquez"], ["Smith, Jr.", "smith"], ["King, III", "king"], ["\"The Rock\" Johnson", "johnson"],
  ["Dupont", "dupont"], ["Kowalski", "kowalski"], ["Nakamura", "nakamura"], ["Okafor", "okafor"], ["Petrov", "petrov"],
  ["Rossi", "rossi"], ["Schmidt", "schmidt"], ["Tanaka", "tanaka"], ["Usman", "usman"], ["van der Berg", "vanderberg"],
  ["Wójcik", "wojcik"], ["Çelik", "celik"], ["Đorđević", "djordjevic"], ["Lefèvre", "lefevre"], ["Åberg", "aberg"],
  ["Nguyễn", "nguyen"], ["Brown 😀", "brown"], ["Lee", "lee"], ["Patel", "patel"], ["Silva", "silva"], ["王", "wang"],
];
const DOMAINS = ["Example.com", "example.com", "EXAMPLE.COM", "corp.example.org", "Sub.Example.Net"];
const ROLES = [["MEMBER", 90], ["ADMIN", 3], ["DEVOPS", 4], ["SUPPORT", 2], ["ACCESS_REVIEWER", 1]];
const STATES = [["ACTIVE", 92], ["DISABLED", 5], ["PENDING", 3]];

function weighted(list) {
  let x = r.int(1, list.reduce((a, [, w]) => a + w, 0));
  for (const [v, w] of list) if ((x -= w) <= 0) return v;
  return list[0][0];
}

function emailCase(local, domain) {
  switch (r.int(0, 3)) {
    case 0: return `${local}@${domain}`;
    case 1: return `${local.replace(/(^|\.)([a-z])/g, (m, p, c) => p + c.toUpperCase())}@${domain}`;
    case 2: return `${local.toUpperCase()}@${domain}`;
    default: return `${local}@${domain.toLowerCase()}`;
  }
}

const users = [];
for (let i = 0; i < nUsers; i++) {
  const [fn, fa] = r.pick(FIRST);
  const [ln, la] = r.pick(LAST);
  users.push({
    email: emailCase(`${fa}.${la}${i + 1}`, r.pick(DOMAINS)),
    firstName: fn,
    lastName: ln,
    role: weighted(ROLES),
    state: weighted(STATES),
  });
}

const TEAMS = [
  "Engineering", "Sales, EMEA", "Sales, Americas", "Support – Tier 1", "Support – Tier 2", "Finance & Legal",
  "The \"A\" Team", "O'Reilly Readers", "Zürich Office", "São Paulo Office", "Ops/SRE", "🚀 Launch Crew",
  "Data (read-only)", "R&D: Prototypes", "Contractors; external", "Ærø Field Team", "QA \\ Testing", "Design 🎨",
  "Marketing \"Growth\"", "Café Staff, Paris",
];
const groups = [];
const bigIdx = new Set(r.sample([...Array(nGroups).keys()], nBig));
for (let i = 0; i < nGroups; i++) {
  const big = bigIdx.has(i);
  const lo = big ? Math.min(150, nUsers) : Math.min(minM, nUsers);
  const hi = big ? Math.min(450, nUsers) : Math.min(maxM, nUsers);
  const members = r.sample(users, r.int(lo, hi)).map((u) => u.email);
  const synced = i % 20 === 19;
  groups.push({
    name: `${TEAMS[i % TEAMS.length]} ${Math.floor(i / TEAMS.length) + 1}`,
    type: synced ? "SYNCED" : "MANUAL",
    ...(synced ? { originId: `okta-${1000 + i}` } : {}),
    members,
  });
}

const LOCATIONS = ["AWS", "AZURE", "GOOGLE_CLOUD", "ON_PREMISE", "OTHER"];
const remoteNetworks = [];
for (let i = 0; i < nNetworks; i++) {
  const loc = LOCATIONS[i % LOCATIONS.length];
  const resources = [];
  const count = nResources === null ? r.int(2, 8)
    : Math.floor(nResources / nNetworks) + (i < nResources % nNetworks ? 1 : 0);
  for (let k = 0; k < count; k++) {
    resources.push({
      name: `${r.pick(["db", "wiki", "git", "ssh", "grafana", "k8s-api"])}-${i + 1}-${k + 1}`,
      address: r.chance(0.5) ? `10.${i}.${k}.0/24` : `svc${k + 1}.net${i + 1}.internal`,
      groups: groups.length ? r.sample(groups, Math.min(r.int(minA, maxA), groups.length)).map((g) => g.name) : [],
    });
  }
  remoteNetworks.push({
    name: `${loc === "ON_PREMISE" ? "Datacenter" : loc} ${["Prod", "Staging", "Dev", "Lab"][i % 4]} ${i + 1}`,
    location: loc,
    connectors: [{ name: `connector-${i + 1}-a`, state: "ALIVE" }, { name: `connector-${i + 1}-b`, state: r.pick(["ALIVE", "DEAD_NO_HEARTBEAT"]) }],
    resources,
  });
}

const text = JSON.stringify({ users, groups, remoteNetworks }, null, 1) + "\n";
if (o.out) writeFileSync(o.out, text);
else process.stdout.write(text);
