// Resolvers for the whole schema: root queries, mutations with the API's
// {ok, error, entity} payloads, and the field resolvers that turn stored ids
// into objects and Relay connections. attach() installs them on a schema
// built with buildSchema; a root field without a resolver answers with a
// clear execution error instead of crashing.
import { createHash, randomBytes } from "node:crypto";
import { GraphQLError } from "graphql";
import { connection, applyFilter } from "./connection.mjs";
import { KINDS, tableOfId, decodeId, accessEdge, addressOf, now, DEFAULT_PROTOCOLS } from "./store.mjs";

// ---------------------------------------------------------------------------
// Filters: filter input field -> accessor (default: the record's field)
// ---------------------------------------------------------------------------
const F = {
  users: {},
  groups: {},
  remoteNetworks: {},
  connectors: {},
  resources: {
    remoteNetworkId: (r) => r.remoteNetworkId,
    tags: {
      test: (r, op) => (op.and || []).every((c) =>
        r.tags.some((t) => t.key === c.key && (c.value == null || c.value.eq == null || t.value === c.value.eq))),
    },
  },
  securityPolicies: {},
  serviceAccounts: {},
  devices: {},
  serialNumbers: {}, // hasMatchedDevices: see Query.serialNumbers
  accessRequests: { resourceId: (r) => r.resourceId, userId: (r) => r.userId },
  access: { principalType: (e) => (tableOfId(e.principalId) === "groups" ? "GROUP" : "SERVICE_ACCOUNT") },
};

/** Paginate `items` after filtering them with args.filter. */
function page(ctx, items, args, filterFields, edgeOf) {
  return connection(applyFilter(items, args.filter, filterFields), args, ctx.pageMax, edgeOf);
}

// ---------------------------------------------------------------------------
// Mutation helpers
// ---------------------------------------------------------------------------
class Fail extends Error {}

function missing(field, table, id) {
  return new Fail(`Field '${field}' ${KINDS[table]} with id '${id}' does not exist.`);
}

/** The record `id` of `table`, or a Fail naming the argument. */
function need(ctx, table, field, id) {
  const rec = ctx.store.get(table, id);
  if (!rec) throw missing(field, table, id);
  return rec;
}

/** Check every id of a list argument before anything changes. */
function needAll(ctx, table, field, ids) {
  return (ids || []).map((id) => need(ctx, table, field, id));
}

/** Run a mutation body; a Fail becomes {ok: false, error, entity: null}. */
function mutation(fn) {
  return (src, args, ctx, info) => {
    ctx.mutated = true;
    try {
      const r = fn(args, ctx, info);
      return { ok: true, error: null, entity: null, ...r };
    } catch (e) {
      if (e instanceof Fail) return { ok: false, error: e.message, entity: null };
      throw e;
    }
  };
}

const has = (args, k) => Object.prototype.hasOwnProperty.call(args, k);

function nonNull(args, k) {
  if (has(args, k) && args[k] === null) throw new Fail(`Field '${k}' may not be null.`);
}

/** Apply the plain/added/removed set arguments to a list of ids. */
function editSet(current, args, plain, added, removed) {
  let out = current;
  if (has(args, plain)) out = [...new Set(args[plain] || [])];
  if (args[added]) {
    const s = new Set(out);
    out = out.concat(args[added].filter((id) => !s.has(id) && s.add(id)));
  }
  if (args[removed]) {
    const r = new Set(args[removed]);
    out = out.filter((id) => !r.has(id));
  }
  return out;
}

function checkAlias(args) {
  if (has(args, "alias") && args.alias !== null && args.alias.trim() === "") {
    throw new Fail("Field 'alias' may not be an empty string.");
  }
}

function checkProtocols(p) {
  if (p == null) return;
  for (const proto of ["tcp", "udp"]) {
    for (const r of p[proto].ports || []) {
      if (r.start < 1 || r.end > 65535 || r.start > r.end) {
        throw new Fail(`Invalid port range ${r.start}-${r.end} for ${proto.toUpperCase()}: ports are 1-65535 and start <= end.`);
      }
    }
  }
}

function normProtocols(p) {
  if (p == null) return DEFAULT_PROTOCOLS();
  const one = (x) => ({ policy: x.policy, ports: x.policy === "RESTRICTED" ? (x.ports || []).map((r) => ({ start: r.start, end: r.end })) : [] });
  return { allowIcmp: p.allowIcmp, tcp: one(p.tcp), udp: one(p.udp) };
}

/** Set access edges for principal `pid` so it reaches exactly/additionally/not these resources. */
function setPrincipalResources(ctx, pid, resourceIds, mode) {
  const want = new Set(resourceIds);
  for (const r of ctx.store.list("resources")) {
    const hasEdge = r.access.some((e) => e.principalId === pid);
    const inSet = want.has(r.id);
    if ((mode === "replace" || mode === "add") && inSet && !hasEdge) {
      r.access = r.access.concat([accessEdge(pid)]);
      ctx.store.touch(r);
    } else if (((mode === "replace" && !inSet) || (mode === "remove" && inSet)) && hasEdge) {
      r.access = r.access.filter((e) => e.principalId !== pid);
      ctx.store.touch(r);
    }
  }
}

function applySetArgs(ctx, pid, args, plain, added, removed) {
  if (has(args, plain)) setPrincipalResources(ctx, pid, args[plain] || [], "replace");
  if (args[added]) setPrincipalResources(ctx, pid, args[added], "add");
  if (args[removed]) setPrincipalResources(ctx, pid, args[removed], "remove");
}

function principal(ctx, field, id) {
  const t = tableOfId(id);
  const rec = t === "groups" || t === "serviceAccounts" ? ctx.store.get(t, id) : null;
  if (!rec) throw new Fail(`Field '${field}' Principal with id '${id}' does not exist.`);
  return rec;
}

/** Merge an AccessInput into an edge: omitted keeps, explicit null clears. */
function mergeAccess(ctx, edge, input) {
  const out = { ...edge };
  for (const k of ["securityPolicyId", "expiresAt", "approvalMode", "accessPolicy", "usageBasedAutolockDurationDays"]) {
    if (has(input, k)) out[k] = input[k];
  }
  if (out.securityPolicyId != null) need(ctx, "securityPolicies", "securityPolicyId", out.securityPolicyId);
  return out;
}

function fingerprint(text) {
  return createHash("sha256").update(text).digest("hex").replace(/(..)(?!$)/g, "$1:");
}

function secret() {
  return randomBytes(32).toString("base64url");
}

// ---------------------------------------------------------------------------
// Resources (all four kinds share one table and one set of rules)
// ---------------------------------------------------------------------------
const RESOURCE_FIELDS = [
  "name", "alias", "isVisible", "isBrowserShortcutEnabled", "isActive", "securityPolicyId", "approvalMode",
  "accessPolicy", "usageBasedAutolockDurationDays", "routingMode", "gatewayId", "upstream", "downstream",
  "requestHeaderRewrites", "tags", "remoteNetworkId",
];

function checkResourceRefs(ctx, args) {
  checkAlias(args);
  checkProtocols(args.protocols);
  if (args.remoteNetworkId != null) need(ctx, "remoteNetworks", "remoteNetworkId", args.remoteNetworkId);
  if (args.securityPolicyId != null) need(ctx, "securityPolicies", "securityPolicyId", args.securityPolicyId);
  if (args.gatewayId != null) need(ctx, "gateways", "gatewayId", args.gatewayId);
  for (const k of ["groupIds", "addedGroupIds", "removedGroupIds", "approverGroupIds", "addedApproverGroupIds", "removedApproverGroupIds"]) {
    needAll(ctx, "groups", k, args[k]);
  }
  for (const k of ["name", "address", "remoteNetworkId"]) nonNull(args, k);
}

function resourceCreate(kind) {
  return mutation((args, ctx) => {
    checkResourceRefs(ctx, args);
    const fields = { kind, address: addressOf(args.address), protocols: normProtocols(args.protocols) };
    for (const k of RESOURCE_FIELDS) if (has(args, k) && args[k] !== null) fields[k] = args[k];
    if (kind === "WebAppResource") fields.protocols = DEFAULT_PROTOCOLS();
    fields.access = [...new Set(args.groupIds || [])].map((g) => accessEdge(g));
    return { entity: ctx.store.create("resources", fields) };
  });
}

function resourceUpdate(kind) {
  return mutation((args, ctx) => {
    const r = need(ctx, "resources", "id", args.id);
    if (kind && r.kind !== kind) throw missing("id", "resources", args.id);
    checkResourceRefs(ctx, args);
    for (const k of RESOURCE_FIELDS) {
      if (!has(args, k)) continue;
      if (args[k] === null && ["isVisible", "isActive", "isBrowserShortcutEnabled"].includes(k)) continue;
      r[k] = args[k] === null && (k === "tags" || k === "requestHeaderRewrites") ? [] : args[k];
    }
    if (has(args, "address")) r.address = addressOf(args.address);
    if (has(args, "protocols")) r.protocols = normProtocols(args.protocols);
    if (has(args, "groupIds") || args.addedGroupIds || args.removedGroupIds) {
      const cur = r.access.filter((e) => tableOfId(e.principalId) === "groups").map((e) => e.principalId);
      const next = new Set(editSet(cur, args, "groupIds", "addedGroupIds", "removedGroupIds"));
      const kept = r.access.filter((e) => tableOfId(e.principalId) !== "groups" || next.has(e.principalId));
      const keptIds = new Set(kept.map((e) => e.principalId));
      r.access = kept.concat([...next].filter((g) => !keptIds.has(g)).map((g) => accessEdge(g)));
    }
    r.approverGroupIds = editSet(r.approverGroupIds, args, "approverGroupIds", "addedApproverGroupIds", "removedApproverGroupIds");
    ctx.store.touch(r);
    return { entity: r };
  });
}

// ---------------------------------------------------------------------------
// Root queries
// ---------------------------------------------------------------------------
function getter(table) {
  return (src, args, ctx) => ctx.store.get(table, args.id);
}

function lister(table) {
  return (src, args, ctx) => page(ctx, ctx.store.list(table), args, F[table]);
}

function byIdOrName(table, what) {
  return (src, args, ctx) => {
    if (args.id != null) return ctx.store.get(table, args.id);
    if (args.name != null) return ctx.store.list(table).find((r) => r.name === args.name) || null;
    throw new GraphQLError(`Give the ${what}'s id or its name.`);
  };
}

const Query = {
  accessRequest: getter("accessRequests"),
  accessRequests: lister("accessRequests"),
  certificateAuthority: (src, args, ctx) => {
    const t = tableOfId(args.id);
    return t === "x509CertificateAuthorities" || t === "sshCertificateAuthorities" ? ctx.store.get(t, args.id) : null;
  },
  certificateAuthorities: (src, args, ctx) =>
    page(ctx, ctx.store.list("x509CertificateAuthorities").concat(ctx.store.list("sshCertificateAuthorities")), args),
  connector: getter("connectors"),
  connectors: lister("connectors"),
  device: getter("devices"),
  devices: lister("devices"),
  devicePosture: (src, args, ctx) => {
    const d = ctx.store.get("devices", args.id);
    if (!d) return null;
    const check = (ok) => ({ isSatisfied: ok, detected: null });
    return {
      hardDriveEncryption: check(true), screenLockPasscode: check(true), firewall: check(d.osName !== "LINUX"),
      biometric: check(false), antivirus: check(false), osVersion: { isSatisfied: true, version: d.osVersion },
      manualVerification: { isVerified: d.isTrusted, value: null },
    };
  },
  dlpPolicy: getter("dlpPolicies"),
  dlpPolicies: lister("dlpPolicies"),
  dnsFilteringProfile: getter("dnsFilteringProfiles"),
  dnsFilteringProfiles: (src, args, ctx) => ctx.store.list("dnsFilteringProfiles"),
  eventsSyncOidcProviderUrl: () => "https://oidc.twingate.local/sim",
  gateway: getter("gateways"),
  gateways: lister("gateways"),
  group: getter("groups"),
  groups: lister("groups"),
  remoteNetwork: byIdOrName("remoteNetworks", "remote network"),
  remoteNetworks: lister("remoteNetworks"),
  resource: getter("resources"),
  resources: lister("resources"),
  securityPolicies: lister("securityPolicies"),
  securityPolicy: byIdOrName("securityPolicies", "security policy"),
  serviceAccount: getter("serviceAccounts"),
  serviceAccountKey: byIdOrName("serviceAccountKeys", "service account key"),
  serviceAccounts: lister("serviceAccounts"),
  user: getter("users"),
  users: lister("users"),
  webhook: getter("webhooks"),
  webhooks: lister("webhooks"),
};

// ---------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------
function deleter(table, cascade) {
  return mutation((args, ctx) => {
    const rec = need(ctx, table, "id", args.id);
    if (cascade) cascade(ctx, rec);
    ctx.store.remove(table, rec.id);
    return {};
  });
}

function dropPrincipal(ctx, id) {
  for (const r of ctx.store.list("resources")) {
    if (r.access.some((e) => e.principalId === id)) r.access = r.access.filter((e) => e.principalId !== id);
    if (r.approverGroupIds.includes(id)) r.approverGroupIds = r.approverGroupIds.filter((g) => g !== id);
  }
  for (const p of ctx.store.list("dnsFilteringProfiles")) {
    if (p.groupIds.includes(id)) p.groupIds = p.groupIds.filter((g) => g !== id);
  }
}

function dropResource(ctx, r) {
  for (const ar of ctx.store.list("accessRequests")) if (ar.resourceId === r.id) ctx.store.remove("accessRequests", ar.id);
}

function checkEditableGroup(g) {
  if (g.type === "SYSTEM") throw new Fail(`Group '${g.name}' is a system group and cannot be changed.`);
}

function setDeviceState(state, from) {
  return mutation((args, ctx) => {
    const d = need(ctx, "devices", "id", args.id);
    if (from && d.activeState !== from) throw new Fail(`Device with id '${args.id}' is not ${from.toLowerCase()}.`);
    d.activeState = state;
    return { entity: d };
  });
}

const USER_EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

const Mutation = {
  accessRequestApprove: mutation((args, ctx) => {
    need(ctx, "accessRequests", "id", args.id).status = "APPROVED";
    return {};
  }),
  accessRequestReject: mutation((args, ctx) => {
    need(ctx, "accessRequests", "id", args.id).status = "REJECTED";
    return {};
  }),

  connectorCreate: mutation((args, ctx) => {
    need(ctx, "remoteNetworks", "remoteNetworkId", args.remoteNetworkId);
    const n = ctx.store.next.connectors;
    return {
      entity: ctx.store.create("connectors", {
        name: args.name || `connector-${n}`,
        remoteNetworkId: args.remoteNetworkId,
        hasStatusNotificationsEnabled: args.hasStatusNotificationsEnabled ?? true,
      }),
    };
  }),
  connectorDelete: deleter("connectors"),
  connectorGenerateTokens: mutation((args, ctx) => {
    need(ctx, "connectors", "connectorId", args.connectorId);
    return { connectorTokens: { accessToken: secret(), refreshToken: secret() } };
  }),
  connectorUpdate: mutation((args, ctx) => {
    const c = need(ctx, "connectors", "id", args.id);
    if (args.name != null) c.name = args.name;
    if (args.hasStatusNotificationsEnabled != null) c.hasStatusNotificationsEnabled = args.hasStatusNotificationsEnabled;
    ctx.store.touch(c);
    return { entity: c };
  }),

  deviceArchive: setDeviceState("ARCHIVED"),
  deviceBlock: setDeviceState("BLOCKED"),
  deviceUnarchive: setDeviceState("ACTIVE", "ARCHIVED"),
  deviceUnblock: setDeviceState("ACTIVE", "BLOCKED"),
  deviceUpdate: mutation((args, ctx) => {
    const d = need(ctx, "devices", "id", args.id);
    d.isTrusted = args.isTrusted;
    return { entity: d };
  }),

  dnsFilteringProfileCreate: mutation((args, ctx) => ({
    entity: ctx.store.create("dnsFilteringProfiles", { name: args.name, priority: ctx.store.list("dnsFilteringProfiles").length + 1 }),
  })),
  dnsFilteringProfileDelete: deleter("dnsFilteringProfiles"),
  dnsFilteringProfileUpdate: mutation((args, ctx) => {
    const p = need(ctx, "dnsFilteringProfiles", "id", args.id);
    needAll(ctx, "groups", "groups", args.groups);
    for (const k of ["name", "priority", "fallbackMethod"]) if (args[k] != null) p[k] = args[k];
    for (const k of ["allowedDomains", "deniedDomains"]) if (has(args, k)) p[k] = args[k] || [];
    if (has(args, "groups")) p.groupIds = args.groups || [];
    for (const k of ["privacyCategoryConfig", "securityCategoryConfig", "contentCategoryConfig"]) {
      // a partial input keeps the stored flags; flags never set read as false (the output fields are non-null)
      if (has(args, k)) p[k] = args[k] === null ? null : { ...DNS_CATEGORY_DEFAULTS[k], ...(p[k] || {}), ...args[k] };
    }
    return { entity: p };
  }),

  gatewayCreate: mutation((args, ctx) => {
    need(ctx, "remoteNetworks", "remoteNetworkId", args.remoteNetworkId);
    need(ctx, "x509CertificateAuthorities", "x509CAId", args.x509CAId);
    if (args.sshCAId != null) need(ctx, "sshCertificateAuthorities", "sshCAId", args.sshCAId);
    const { address, remoteNetworkId, x509CAId } = args;
    return { entity: ctx.store.create("gateways", { address, remoteNetworkId, x509CAId, sshCAId: args.sshCAId ?? null }) };
  }),
  gatewayDelete: deleter("gateways"),
  gatewayUpdate: mutation((args, ctx) => {
    const g = need(ctx, "gateways", "id", args.id);
    if (args.remoteNetworkId != null) need(ctx, "remoteNetworks", "remoteNetworkId", args.remoteNetworkId);
    if (args.x509CAId != null) need(ctx, "x509CertificateAuthorities", "x509CAId", args.x509CAId);
    if (args.sshCAId != null) need(ctx, "sshCertificateAuthorities", "sshCAId", args.sshCAId);
    for (const k of ["address", "remoteNetworkId", "x509CAId"]) if (args[k] != null) g[k] = args[k];
    if (has(args, "sshCAId")) g.sshCAId = args.sshCAId;
    return { entity: g };
  }),

  groupCreate: mutation((args, ctx) => {
    needAll(ctx, "users", "userIds", args.userIds);
    needAll(ctx, "resources", "resourceIds", args.resourceIds);
    if (args.securityPolicyId != null) need(ctx, "securityPolicies", "securityPolicyId", args.securityPolicyId);
    const g = ctx.store.create("groups", {
      name: args.name,
      userIds: [...new Set(args.userIds || [])],
      securityPolicyId: args.securityPolicyId ?? ctx.store.defaultPolicy().id,
    });
    if (args.resourceIds) setPrincipalResources(ctx, g.id, args.resourceIds, "add");
    return { entity: g };
  }),
  groupDelete: deleter("groups", (ctx, g) => {
    checkEditableGroup(g);
    dropPrincipal(ctx, g.id);
  }),
  groupUpdate: mutation((args, ctx) => {
    const g = need(ctx, "groups", "id", args.id);
    checkEditableGroup(g);
    nonNull(args, "name");
    for (const k of ["userIds", "addedUserIds", "removedUserIds"]) needAll(ctx, "users", k, args[k]);
    for (const k of ["resourceIds", "addedResourceIds", "removedResourceIds"]) needAll(ctx, "resources", k, args[k]);
    if (args.securityPolicyId != null) need(ctx, "securityPolicies", "securityPolicyId", args.securityPolicyId);
    if (g.type === "SYNCED" && (has(args, "userIds") || args.addedUserIds?.length || args.removedUserIds?.length)) {
      throw new Fail(`Group '${g.name}' is synced from an identity provider; its members cannot be changed.`);
    }
    if (args.name != null) g.name = args.name;
    if (args.isActive != null) g.isActive = args.isActive;
    if (has(args, "securityPolicyId")) g.securityPolicyId = args.securityPolicyId ?? ctx.store.defaultPolicy().id;
    g.userIds = editSet(g.userIds, args, "userIds", "addedUserIds", "removedUserIds");
    applySetArgs(ctx, g.id, args, "resourceIds", "addedResourceIds", "removedResourceIds");
    ctx.store.touch(g);
    return { entity: g };
  }),

  kubernetesResourceCreate: resourceCreate("KubernetesResource"),
  kubernetesResourceUpdate: resourceUpdate("KubernetesResource"),
  sshResourceCreate: resourceCreate("SSHResource"),
  sshResourceUpdate: resourceUpdate("SSHResource"),
  webAppResourceCreate: resourceCreate("WebAppResource"),
  webAppResourceUpdate: resourceUpdate("WebAppResource"),
  resourceCreate: resourceCreate("NetworkResource"),
  resourceUpdate: resourceUpdate("NetworkResource"),
  resourceDelete: deleter("resources", dropResource),

  remoteNetworkCreate: mutation((args, ctx) => {
    const fields = { name: args.name };
    for (const k of ["isActive", "location", "networkType"]) if (args[k] != null) fields[k] = args[k];
    return { entity: ctx.store.create("remoteNetworks", fields) };
  }),
  remoteNetworkDelete: deleter("remoteNetworks", (ctx, n) => {
    for (const c of ctx.store.list("connectors")) if (c.remoteNetworkId === n.id) ctx.store.remove("connectors", c.id);
    for (const g of ctx.store.list("gateways")) if (g.remoteNetworkId === n.id) ctx.store.remove("gateways", g.id);
    for (const r of ctx.store.list("resources")) {
      if (r.remoteNetworkId === n.id) {
        dropResource(ctx, r);
        ctx.store.remove("resources", r.id);
      }
    }
  }),
  remoteNetworkUpdate: mutation((args, ctx) => {
    const n = need(ctx, "remoteNetworks", "id", args.id);
    for (const k of ["name", "isActive", "location"]) if (args[k] != null) n[k] = args[k];
    ctx.store.touch(n);
    return { entity: n };
  }),

  resourceAccessAdd: mutation((args, ctx) => {
    const r = need(ctx, "resources", "resourceId", args.resourceId);
    const edges = r.access.slice();
    const updates = args.access.map((a) => [principal(ctx, "principalId", a.principalId), a]);
    for (const [p, a] of updates) {
      const i = edges.findIndex((e) => e.principalId === p.id);
      if (i >= 0) edges[i] = mergeAccess(ctx, edges[i], a);
      else edges.push(mergeAccess(ctx, accessEdge(p.id), a));
    }
    r.access = edges;
    ctx.store.touch(r);
    return { entity: r };
  }),
  resourceAccessRemove: mutation((args, ctx) => {
    const r = need(ctx, "resources", "resourceId", args.resourceId);
    args.principalIds.forEach((id) => principal(ctx, "principalIds", id));
    const gone = new Set(args.principalIds);
    r.access = r.access.filter((e) => !gone.has(e.principalId));
    ctx.store.touch(r);
    return { entity: r };
  }),
  resourceAccessSet: mutation((args, ctx) => {
    const r = need(ctx, "resources", "resourceId", args.resourceId);
    const edges = [];
    for (const a of args.access) {
      principal(ctx, "principalId", a.principalId);
      const e = mergeAccess(ctx, accessEdge(a.principalId), a);
      const i = edges.findIndex((x) => x.principalId === a.principalId);
      if (i >= 0) edges[i] = e;
      else edges.push(e);
    }
    r.access = edges;
    ctx.store.touch(r);
    return { entity: r };
  }),

  securityPolicyUpdate: mutation((args, ctx) => {
    const p = need(ctx, "securityPolicies", "id", args.id);
    for (const k of ["groupIds", "addedGroupIds", "removedGroupIds"]) needAll(ctx, "groups", k, args[k]);
    const cur = ctx.store.list("groups").filter((g) => g.securityPolicyId === p.id).map((g) => g.id);
    const next = new Set(editSet(cur, args, "groupIds", "addedGroupIds", "removedGroupIds"));
    const fallback = ctx.store.defaultPolicy().id;
    for (const g of ctx.store.list("groups")) {
      if (next.has(g.id)) g.securityPolicyId = p.id;
      else if (g.securityPolicyId === p.id) g.securityPolicyId = fallback;
    }
    ctx.store.touch(p);
    return { entity: p };
  }),

  serialNumbersCreate: mutation((args, ctx) => {
    const existing = new Map(ctx.store.list("serialNumbers").map((s) => [s.serialNumber, s]));
    const entities = [];
    for (const sn of args.serialNumbers) {
      if (!sn.trim()) throw new Fail("Serial numbers may not be empty.");
      let rec = existing.get(sn);
      if (!rec) {
        rec = ctx.store.create("serialNumbers", { serialNumber: sn });
        existing.set(sn, rec);
      }
      if (!entities.includes(rec)) entities.push(rec);
    }
    return { entities };
  }),
  serialNumbersDelete: mutation((args, ctx) => {
    const gone = new Set(args.serialNumbers);
    for (const s of ctx.store.list("serialNumbers")) if (gone.has(s.serialNumber)) ctx.store.remove("serialNumbers", s.id);
    return {};
  }),

  serviceAccountCreate: mutation((args, ctx) => {
    needAll(ctx, "resources", "resourceIds", args.resourceIds);
    const sa = ctx.store.create("serviceAccounts", { name: args.name });
    if (args.resourceIds) setPrincipalResources(ctx, sa.id, args.resourceIds, "add");
    return { entity: sa };
  }),
  serviceAccountDelete: deleter("serviceAccounts", (ctx, sa) => {
    dropPrincipal(ctx, sa.id);
    for (const k of ctx.store.list("serviceAccountKeys")) if (k.serviceAccountId === sa.id) ctx.store.remove("serviceAccountKeys", k.id);
  }),
  serviceAccountKeyCreate: mutation((args, ctx) => {
    need(ctx, "serviceAccounts", "serviceAccountId", args.serviceAccountId);
    if (args.expirationTime < 0 || args.expirationTime > 365) throw new Fail("Field 'expirationTime' must be between 0 and 365 days.");
    const expiresAt = args.expirationTime === 0 ? null : new Date(Date.now() + args.expirationTime * 86400000).toISOString();
    const n = ctx.store.next.serviceAccountKeys;
    const key = ctx.store.create("serviceAccountKeys", {
      name: args.name || `key-${n}`, serviceAccountId: args.serviceAccountId, expiresAt, revokedAt: null,
    });
    return { entity: key, token: secret() };
  }),
  serviceAccountKeyDelete: mutation((args, ctx) => {
    const k = need(ctx, "serviceAccountKeys", "id", args.id);
    if (!k.revokedAt && !(k.expiresAt && k.expiresAt < now())) throw new Fail("An active key must be revoked before it is deleted.");
    ctx.store.remove("serviceAccountKeys", k.id);
    return {};
  }),
  serviceAccountKeyRevoke: mutation((args, ctx) => {
    const k = need(ctx, "serviceAccountKeys", "id", args.id);
    if (!k.revokedAt) k.revokedAt = now();
    ctx.store.touch(k);
    return { entity: k };
  }),
  serviceAccountKeyUpdate: mutation((args, ctx) => {
    const k = need(ctx, "serviceAccountKeys", "id", args.id);
    k.name = args.name;
    ctx.store.touch(k);
    return { entity: k };
  }),
  serviceAccountUpdate: mutation((args, ctx) => {
    const sa = need(ctx, "serviceAccounts", "id", args.id);
    nonNull(args, "name");
    for (const k of ["resourceIds", "addedResourceIds", "removedResourceIds"]) needAll(ctx, "resources", k, args[k]);
    if (args.name != null) sa.name = args.name;
    applySetArgs(ctx, sa.id, args, "resourceIds", "addedResourceIds", "removedResourceIds");
    ctx.store.touch(sa);
    return { entity: sa };
  }),

  sshCertificateAuthorityCreate: mutation((args, ctx) => ({
    entity: ctx.store.create("sshCertificateAuthorities", { name: args.name, fingerprint: fingerprint(args.publicKey) }),
  })),
  sshCertificateAuthorityDelete: deleter("sshCertificateAuthorities", (ctx, ca) => {
    if (ctx.store.list("gateways").some((g) => g.sshCAId === ca.id)) throw new Fail("The certificate authority is used by a gateway.");
  }),
  x509CertificateAuthorityCreate: mutation((args, ctx) => ({
    entity: ctx.store.create("x509CertificateAuthorities", { name: args.name, fingerprint: fingerprint(args.certificate) }),
  })),
  x509CertificateAuthorityDelete: deleter("x509CertificateAuthorities", (ctx, ca) => {
    if (ctx.store.list("gateways").some((g) => g.x509CAId === ca.id)) throw new Fail("The certificate authority is used by a gateway.");
  }),

  userCreate: mutation((args, ctx) => {
    const email = args.email.trim();
    if (!USER_EMAIL.test(email)) throw new Fail(`'${args.email}' is not a valid email address.`);
    const lower = email.toLowerCase();
    if (ctx.store.list("users").some((u) => u.email && u.email.toLowerCase() === lower)) {
      throw new Fail(`User with email '${email}' already exists.`);
    }
    const u = ctx.store.create("users", {
      email, firstName: args.firstName ?? "", lastName: args.lastName ?? "", role: args.role ?? "MEMBER", state: "PENDING",
    });
    for (const g of ctx.store.list("groups")) if (g.type === "SYSTEM") g.userIds = g.userIds.concat([u.id]);
    return { entity: u };
  }),
  userDelete: deleter("users", (ctx, u) => {
    for (const g of ctx.store.list("groups")) if (ctx.store.members(g).has(u.id)) g.userIds = g.userIds.filter((id) => id !== u.id);
    for (const d of ctx.store.list("devices")) if (d.userId === u.id) ctx.store.remove("devices", d.id);
    for (const ar of ctx.store.list("accessRequests")) if (ar.userId === u.id) ctx.store.remove("accessRequests", ar.id);
  }),
  userDetailsUpdate: mutation((args, ctx) => {
    const u = need(ctx, "users", "id", args.id);
    for (const k of ["firstName", "lastName", "state"]) if (args[k] != null) u[k] = args[k];
    ctx.store.touch(u);
    return { entity: u };
  }),
  userResetMfa: mutation((args, ctx) => ({ entity: need(ctx, "users", "id", args.id) })),
  userRoleUpdate: mutation((args, ctx) => {
    const u = need(ctx, "users", "id", args.id);
    u.role = args.role;
    ctx.store.touch(u);
    return { entity: u };
  }),

  webhookCreate: mutation((args, ctx) => ({
    entity: ctx.store.create("webhooks", { name: args.name, url: args.url, lastSuccessfulAt: null, lastErrorAt: null }),
  })),
  webhookDelete: deleter("webhooks"),
  webhookUpdate: mutation((args, ctx) => {
    const w = need(ctx, "webhooks", "id", args.id);
    for (const k of ["name", "url"]) if (args[k] != null) w[k] = args[k];
    return { entity: w };
  }),
};

// ---------------------------------------------------------------------------
// Field resolvers
// ---------------------------------------------------------------------------
const ref = (table, key) => (src, args, ctx) => (src[key] == null ? null : ctx.store.get(table, src[key]));

function accessEdgeOf(ctx) {
  return (e, cursor) => ({
    cursor,
    node: ctx.store.getAny(e.principalId),
    securityPolicy: e.securityPolicyId ? ctx.store.get("securityPolicies", e.securityPolicyId) : null,
    expiresAt: e.expiresAt,
    approvalMode: e.approvalMode,
    accessPolicy: e.accessPolicy,
    usageBasedAutolockDurationDays: e.usageBasedAutolockDurationDays,
  });
}

const principalsOf = (table) => (src, args, ctx) =>
  page(ctx, src.access.filter((e) => tableOfId(e.principalId) === table).map((e) => ctx.store.get(table, e.principalId)).filter(Boolean), args, F[table]);

const resourceFields = {
  remoteNetwork: ref("remoteNetworks", "remoteNetworkId"),
  securityPolicy: ref("securityPolicies", "securityPolicyId"),
  gateway: ref("gateways", "gatewayId"),
  approverGroups: (src, args, ctx) => page(ctx, src.approverGroupIds.map((id) => ctx.store.get("groups", id)).filter(Boolean), args, F.groups),
  access: (src, args, ctx) => page(ctx, src.access.filter((e) => ctx.store.getAny(e.principalId)), args, F.access, accessEdgeOf(ctx)),
  groups: principalsOf("groups"),
  serviceAccounts: principalsOf("serviceAccounts"),
};

const resourcesOfPrincipal = (src, args, ctx) =>
  page(ctx, ctx.store.list("resources").filter((r) => r.access.some((e) => e.principalId === src.id)), args, F.resources);

const allFalse = (names) => Object.fromEntries(names.map((n) => [n, false]));
const DNS_CATEGORY_DEFAULTS = {
  privacyCategoryConfig: allFalse(["blockAdsAndTrackers", "blockAffiliate", "blockDisguisedTrackers"]),
  securityCategoryConfig: allFalse(["blockCryptojacking", "blockDnsRebinding", "blockDomainGenerationAlgorithms",
    "blockIdnHomographs", "blockNewlyRegisteredDomains", "blockParkedDomains", "blockTyposquatting",
    "enableGoogleSafeBrowsing", "enableThreatIntelligenceFeeds"]),
  contentCategoryConfig: allFalse(["blockAdultContent", "blockDating", "blockGambling", "blockGames", "blockPiracy",
    "blockSocialMedia", "blockStreaming", "enableSafeSearch", "enableYoutubeRestrictedMode"]),
};

const Types = {
  User: {
    isAdmin: (src) => src.role === "ADMIN",
    groups: (src, args, ctx) => page(ctx, ctx.store.list("groups").filter((g) => ctx.store.members(g).has(src.id)), args, F.groups),
    devices: (src, args, ctx) => page(ctx, ctx.store.list("devices").filter((d) => d.userId === src.id), args, F.devices),
  },
  Group: {
    securityPolicy: (src, args, ctx) => ctx.store.get("securityPolicies", src.securityPolicyId) || ctx.store.defaultPolicy(),
    users: (src, args, ctx) => page(ctx, src.userIds.map((id) => ctx.store.get("users", id)).filter(Boolean), args, F.users),
    resources: resourcesOfPrincipal,
  },
  RemoteNetwork: {
    connectors: (src, args, ctx) => page(ctx, ctx.store.list("connectors").filter((c) => c.remoteNetworkId === src.id), args, F.connectors),
    resources: (src, args, ctx) => page(ctx, ctx.store.list("resources").filter((r) => r.remoteNetworkId === src.id), args, F.resources),
    gateways: (src, args, ctx) => page(ctx, ctx.store.list("gateways").filter((g) => g.remoteNetworkId === src.id), args),
  },
  Connector: { remoteNetwork: ref("remoteNetworks", "remoteNetworkId") },
  NetworkResource: resourceFields,
  KubernetesResource: resourceFields,
  SSHResource: resourceFields,
  WebAppResource: resourceFields,
  Gateway: {
    remoteNetwork: ref("remoteNetworks", "remoteNetworkId"),
    x509CA: ref("x509CertificateAuthorities", "x509CAId"),
    sshCA: ref("sshCertificateAuthorities", "sshCAId"),
  },
  Device: { user: ref("users", "userId") },
  SerialNumber: {
    matchedDevices: (src, args, ctx) => ctx.store.list("devices").filter((d) => d.serialNumber === src.serialNumber),
  },
  SecurityPolicy: {
    groups: (src, args, ctx) => page(ctx, ctx.store.list("groups").filter((g) => g.securityPolicyId === src.id), args, F.groups),
  },
  ServiceAccount: {
    resources: resourcesOfPrincipal,
    keys: (src, args, ctx) => page(ctx, ctx.store.list("serviceAccountKeys").filter((k) => k.serviceAccountId === src.id), args),
  },
  ServiceAccountKey: {
    status: (src) => (src.revokedAt ? "REVOKED" : src.expiresAt && src.expiresAt < now() ? "EXPIRED" : "ACTIVE"),
    serviceAccount: ref("serviceAccounts", "serviceAccountId"),
  },
  AccessRequest: {
    user: ref("users", "userId"),
    resource: ref("resources", "resourceId"),
  },
  DnsFilteringProfile: {
    groups: (src, args, ctx) => page(ctx, src.groupIds.map((id) => ctx.store.get("groups", id)).filter(Boolean), args, F.groups),
  },
};

function typeOfRecord(rec) {
  if (rec && rec.kind) return rec.kind;
  const d = decodeId(rec && rec.id);
  return d ? d.prefix : undefined;
}

/**
 * Install every resolver on `schema` (from buildSchema). Root fields the
 * simulator does not implement raise a clear execution error.
 */
export function attach(schema) {
  const install = (typeName, map, rootFallback) => {
    const type = schema.getType(typeName);
    for (const [name, field] of Object.entries(type.getFields())) {
      if (map[name]) field.resolve = map[name];
      else if (rootFallback) {
        field.resolve = () => {
          throw new GraphQLError(`The simulator does not implement '${name}' yet.`);
        };
      }
    }
    for (const name of Object.keys(map)) {
      if (rootFallback && !type.getFields()[name]) throw new Error(`resolver for unknown field ${typeName}.${name}`);
    }
  };
  install(schema.getQueryType().name, Query, true);
  install(schema.getMutationType().name, Mutation, true);
  for (const [t, map] of Object.entries(Types)) install(t, map, false);
  for (const name of ["Resource", "Principal", "CertificateAuthority", "Node"]) {
    schema.getType(name).resolveType = typeOfRecord;
  }
  return schema;
}

/** Filter on SerialNumber.hasMatchedDevices needs the store: done here per call. */
Query.serialNumbers = (src, args, ctx) => {
  const serials = new Set(ctx.store.list("devices").map((d) => d.serialNumber));
  const fields = { hasMatchedDevices: (s) => serials.has(s.serialNumber) };
  return page(ctx, ctx.store.list("serialNumbers"), args, fields);
};
