// The simulator's state: one ordered table per kind of object, Relay ids,
// load/save as JSON, and loading a seed file (references by email/name).
//
// Records are plain JSON objects whose field names match the schema's scalar
// fields (name, createdAt, ...). Relations are stored as ids in fields that
// the schema does not have (userIds, remoteNetworkId, access, ...); the field
// resolvers in resolvers.mjs turn them into objects and connections.
// Arrays held in records are never mutated in place (always replaced), so
// caches keyed on them stay valid.

/** table name -> Relay type prefix of its ids */
export const KINDS = {
  users: "User",
  groups: "Group",
  remoteNetworks: "RemoteNetwork",
  connectors: "Connector",
  resources: "Resource",
  securityPolicies: "SecurityPolicy",
  serviceAccounts: "ServiceAccount",
  serviceAccountKeys: "ServiceAccountKey",
  devices: "Device",
  serialNumbers: "SerialNumber",
  accessRequests: "AccessRequest",
  gateways: "Gateway",
  x509CertificateAuthorities: "X509CertificateAuthority",
  sshCertificateAuthorities: "SSHCertificateAuthority",
  dnsFilteringProfiles: "DnsFilteringProfile",
  webhooks: "Webhook",
  dlpPolicies: "DlpPolicy",
};
const TABLE_OF_PREFIX = Object.fromEntries(Object.entries(KINDS).map(([t, p]) => [p, t]));

export function encodeId(prefix, n) {
  return Buffer.from(`${prefix}:${n}`, "utf8").toString("base64");
}

/** Decode a Relay id into { prefix, n }; null when it is not one. */
export function decodeId(id) {
  if (typeof id !== "string" || !/^[A-Za-z0-9+/]+=*$/.test(id)) return null;
  const s = Buffer.from(id, "base64").toString("utf8");
  const m = /^([A-Za-z0-9]+):(\d+)$/.exec(s);
  if (!m) return null;
  return { prefix: m[1], n: Number(m[2]) };
}

/** The table an id belongs to (by its prefix), or null. */
export function tableOfId(id) {
  const d = decodeId(id);
  return d ? TABLE_OF_PREFIX[d.prefix] || null : null;
}

export function now() {
  return new Date().toISOString();
}

const DEFAULT_PROTOCOLS = () => ({
  allowIcmp: true,
  tcp: { policy: "ALLOW_ALL", ports: [] },
  udp: { policy: "ALLOW_ALL", ports: [] },
});
export { DEFAULT_PROTOCOLS };

export class Store {
  constructor() {
    this.tables = {};
    this.next = {};
    for (const t of Object.keys(KINDS)) {
      this.tables[t] = new Map();
      this.next[t] = 1;
    }
    this.memberSets = new WeakMap();
  }

  /** A fresh store with the objects every tenant has (the default policy). */
  static empty() {
    const s = new Store();
    s.create("securityPolicies", { name: "Default Policy", policyType: "DEFAULT_RESOURCE" });
    return s;
  }

  /** Insert a record into `table`, giving it an id and timestamps. */
  create(table, fields) {
    const n = this.next[table]++;
    const t = fields.createdAt || now();
    const rec = { id: encodeId(KINDS[table], n), createdAt: t, updatedAt: fields.updatedAt || t };
    Object.assign(rec, defaults(table, this));
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) rec[k] = v;
    rec.id = encodeId(KINDS[table], n);
    this.tables[table].set(rec.id, rec);
    return rec;
  }

  get(table, id) {
    if (typeof id !== "string") return null;
    return this.tables[table].get(id) || null;
  }

  /** Any record by id, whatever its table; null when none. */
  getAny(id) {
    const t = tableOfId(id);
    return t ? this.get(t, id) : null;
  }

  list(table) {
    return Array.from(this.tables[table].values());
  }

  remove(table, id) {
    return this.tables[table].delete(id);
  }

  touch(rec) {
    rec.updatedAt = now();
  }

  defaultPolicy() {
    for (const p of this.tables.securityPolicies.values()) {
      if (p.policyType === "DEFAULT_RESOURCE") return p;
    }
    return this.create("securityPolicies", { name: "Default Policy", policyType: "DEFAULT_RESOURCE" });
  }

  /** Set view of a group's userIds (cached per array). */
  members(group) {
    let s = this.memberSets.get(group.userIds);
    if (!s) {
      s = new Set(group.userIds);
      this.memberSets.set(group.userIds, s);
    }
    return s;
  }

  toJSON() {
    const out = { version: 1, next: this.next, tables: {} };
    for (const [t, m] of Object.entries(this.tables)) out.tables[t] = Array.from(m.values());
    return out;
  }

  static fromJSON(obj) {
    const s = new Store();
    for (const t of Object.keys(KINDS)) {
      for (const rec of (obj.tables && obj.tables[t]) || []) s.tables[t].set(rec.id, rec);
      if (obj.next && obj.next[t]) s.next[t] = obj.next[t];
    }
    return s;
  }

  /**
   * Build a store from a seed file (format in README.md): users by email,
   * groups with members by email, remote networks with connectors and
   * resources, resources' access by group name, and so on.
   */
  static fromSeed(seed) {
    // Lua's cjson encodes an empty table as {}: treat any non-array as empty.
    const arr = (x) => (Array.isArray(x) ? x : []);
    const s = Store.empty();
    const byEmail = new Map();
    const groupByName = new Map();
    const saByName = new Map();
    const policyByName = new Map();
    for (const p of s.list("securityPolicies")) policyByName.set(p.name, p);
    const ref = (map, key, what) => {
      const r = map.get(what === "user" ? String(key).toLowerCase() : key);
      if (!r) throw new Error(`seed: unknown ${what} '${key}'`);
      return r;
    };
    for (const p of arr(seed.securityPolicies)) {
      if (policyByName.has(p.name)) continue;
      policyByName.set(p.name, s.create("securityPolicies", { name: p.name, policyType: p.policyType || "RESOURCE" }));
    }
    for (const u of arr(seed.users)) {
      const rec = s.create("users", {
        email: u.email,
        firstName: u.firstName ?? "",
        lastName: u.lastName ?? "",
        role: u.role || "MEMBER",
        state: u.state || "ACTIVE",
        type: u.type || "MANUAL",
        avatarUrl: u.avatarUrl ?? null,
        ...(u.createdAt ? { createdAt: u.createdAt, updatedAt: u.createdAt } : {}),
      });
      byEmail.set(String(u.email).toLowerCase(), rec);
    }
    if (seed.everyoneGroup) {
      s.create("groups", { name: "Everyone", type: "SYSTEM", userIds: s.list("users").map((u) => u.id) });
    }
    for (const g of arr(seed.groups)) {
      const members = [];
      const seen = new Set();
      for (const e of arr(g.members)) {
        const u = ref(byEmail, e, "user");
        if (!seen.has(u.id)) { seen.add(u.id); members.push(u.id); }
      }
      const rec = s.create("groups", {
        name: g.name,
        type: g.type || "MANUAL",
        isActive: g.isActive ?? true,
        originId: g.originId ?? null,
        securityPolicyId: g.securityPolicy ? ref(policyByName, g.securityPolicy, "security policy").id : s.defaultPolicy().id,
        userIds: members,
      });
      if (!groupByName.has(g.name)) groupByName.set(g.name, rec);
    }
    for (const sa of arr(seed.serviceAccounts)) {
      saByName.set(sa.name, s.create("serviceAccounts", { name: sa.name }));
    }
    for (const n of arr(seed.remoteNetworks)) {
      const net = s.create("remoteNetworks", {
        name: n.name,
        location: n.location || "OTHER",
        isActive: n.isActive ?? true,
        networkType: n.networkType || "REGULAR",
      });
      for (const c of arr(n.connectors)) {
        s.create("connectors", {
          name: c.name,
          remoteNetworkId: net.id,
          state: c.state || "ALIVE",
          // an explicit null is a connector that never reported; omitted means "just now"
          lastHeartbeatAt: c.lastHeartbeatAt === undefined ? now() : c.lastHeartbeatAt,
          hostname: c.hostname ?? null,
          version: c.version ?? null,
          publicIP: c.publicIP ?? null,
          privateIPs: arr(c.privateIPs),
          hasStatusNotificationsEnabled: c.hasStatusNotificationsEnabled ?? true,
        });
      }
      for (const r of arr(n.resources)) {
        const access = [];
        for (const gname of arr(r.groups)) access.push(accessEdge(ref(groupByName, gname, "group").id));
        for (const sname of arr(r.serviceAccounts)) access.push(accessEdge(ref(saByName, sname, "service account").id));
        s.create("resources", {
          kind: "NetworkResource",
          name: r.name,
          address: addressOf(r.address),
          alias: r.alias ?? null,
          remoteNetworkId: net.id,
          protocols: r.protocols || DEFAULT_PROTOCOLS(),
          isVisible: r.isVisible ?? true,
          isBrowserShortcutEnabled: r.isBrowserShortcutEnabled ?? false,
          tags: arr(r.tags),
          securityPolicyId: r.securityPolicy ? ref(policyByName, r.securityPolicy, "security policy").id : null,
          access,
        });
      }
    }
    for (const d of arr(seed.devices)) {
      s.create("devices", {
        name: d.name ?? null,
        userId: ref(byEmail, d.user, "user").id,
        activeState: d.activeState || "ACTIVE",
        isTrusted: d.isTrusted ?? false,
        deviceType: d.deviceType || "LAPTOP",
        osName: d.osName ?? "MAC_OS",
        osVersion: d.osVersion ?? null,
        clientVersion: d.clientVersion ?? null,
        hardwareModel: d.hardwareModel ?? null,
        manufacturerName: d.manufacturerName ?? null,
        hostname: d.hostname ?? null,
        username: d.username ?? null,
        serialNumber: d.serialNumber ?? null,
        internetSecurityConfiguration: d.internetSecurityConfiguration || "DEFAULT",
      });
    }
    for (const sn of arr(seed.serialNumbers)) s.create("serialNumbers", { serialNumber: sn });
    return s;
  }
}

/** A fresh access edge for principal `principalId` with every option unset. */
export function accessEdge(principalId, extra = {}) {
  return {
    principalId,
    securityPolicyId: null,
    expiresAt: null,
    approvalMode: null,
    accessPolicy: null,
    usageBasedAutolockDurationDays: null,
    ...extra,
  };
}

/** { type: IP|DNS, value } for an address string. */
export function addressOf(value) {
  const v = String(value);
  const ip = /^[0-9.]+(\/\d+)?$/.test(v) || /^[0-9a-fA-F:]+(\/\d+)?$/.test(v) && v.includes(":");
  return { type: ip ? "IP" : "DNS", value: v };
}

function defaults(table, store) {
  switch (table) {
    case "users":
      return { email: null, firstName: "", lastName: "", avatarUrl: null, state: "ACTIVE", role: "MEMBER", type: "MANUAL" };
    case "groups":
      return { isActive: true, type: "MANUAL", originId: null, securityPolicyId: store.defaultPolicy().id, userIds: [] };
    case "remoteNetworks":
      return { isActive: true, location: "OTHER", networkType: "REGULAR" };
    case "connectors":
      return {
        state: "DEAD_NO_HEARTBEAT", lastHeartbeatAt: null, hostname: null, version: null, publicIP: null,
        privateIPs: [], hasStatusNotificationsEnabled: true,
      };
    case "resources":
      return {
        kind: "NetworkResource", alias: null, isActive: true, isVisible: true, isBrowserShortcutEnabled: false,
        protocols: DEFAULT_PROTOCOLS(), securityPolicyId: null, tags: [], approvalMode: "AUTOMATIC", accessPolicy: null,
        approverGroupIds: [], access: [], usageBasedAutolockDurationDays: null, routingMode: null,
        gatewayId: null, upstream: null, downstream: null, requestHeaderRewrites: [], clusterRef: null,
      };
    case "devices":
      return { activeState: "ACTIVE", isTrusted: false, deviceType: "LAPTOP", internetSecurityConfiguration: "DEFAULT" };
    case "dnsFilteringProfiles":
      return {
        priority: 1, fallbackMethod: "AUTO", allowedDomains: [], deniedDomains: [], groupIds: [],
        privacyCategoryConfig: null, securityCategoryConfig: null, contentCategoryConfig: null,
      };
    default:
      return {};
  }
}
