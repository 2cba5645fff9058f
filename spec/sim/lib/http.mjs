// HTTP-level behaviour of the simulator: rate limits, injected faults, and
// what the request log says about a document (operation, type, root fields).
import { Kind } from "graphql";

/**
 * Sliding-window limits on HTTP requests, reads and writes counted apart.
 * `limits` is { reads, writes } or null (off). take(kind) records a request
 * and returns null, or returns the Retry-After header value when the window
 * is full (the request must then not be executed).
 */
export class RateLimiter {
  constructor(limits, windowMs, timeScale = 1) {
    this.limits = limits;
    this.windowMs = windowMs;
    this.timeScale = timeScale;
    this.reset();
  }

  reset() {
    this.hits = { reads: [], writes: [] };
  }

  take(kind, t = Date.now()) {
    if (!this.limits) return null;
    const hits = this.hits[kind];
    while (hits.length && hits[0] <= t - this.windowMs) hits.shift();
    if (hits.length < this.limits[kind]) {
      hits.push(t);
      return null;
    }
    const ms = hits[hits.length - this.limits[kind]] + this.windowMs - t;
    return RateLimiter.retryAfter(ms, this.timeScale);
  }

  /**
   * Retry-After for a wait of `ms`: integer seconds (at least 1) at real
   * speed; with a time scale other than 1, seconds with up to 3 decimals
   * (at least 0.001), because compressed windows are shorter than 1 s.
   */
  static retryAfter(ms, timeScale) {
    if (timeScale === 1) return String(Math.max(1, Math.ceil(ms / 1000)));
    return String(Math.max(1, Math.ceil(ms)) / 1000);
  }
}

const FAULT_KEYS = new Set(["count", "match", "status", "body", "retryAfter", "html", "drop", "delayMs", "graphqlError"]);

/** Queue of fault rules; each applies to the next `count` matching requests. */
export class Faults {
  constructor() {
    this.rules = [];
  }

  /** An error message for a malformed rule, or null. */
  static check(rule) {
    if (!rule || typeof rule !== "object" || Array.isArray(rule)) return "a fault rule is a JSON object";
    for (const k of Object.keys(rule)) if (!FAULT_KEYS.has(k)) return `unknown fault key '${k}'`;
    if (rule.count !== undefined && !(Number.isInteger(rule.count) && rule.count >= 1)) return "count must be an integer >= 1";
    if (rule.match !== undefined && typeof rule.match !== "string") return "match must be a string";
    if (rule.drop !== undefined && rule.drop !== "before" && rule.drop !== "after") return "drop must be 'before' or 'after'";
    if (rule.delayMs !== undefined && !(typeof rule.delayMs === "number" && rule.delayMs >= 0)) return "delayMs must be a number >= 0";
    if (rule.html) {
      if (rule.status !== undefined && rule.status !== 200 && rule.status !== 404) return "an html fault has status 200 or 404";
    } else if (rule.status !== undefined && ![429, 500, 502, 503].includes(rule.status)) {
      return "status must be 429, 500, 502 or 503 (or html with 200/404)";
    }
    if (rule.retryAfter !== undefined && rule.status !== 429) return "retryAfter goes with status 429";
    const actions = ["status", "html", "drop", "delayMs", "graphqlError"].filter((k) => rule[k] !== undefined && rule[k] !== false);
    if (!actions.length) return "a fault rule needs one of status, html, drop, delayMs, graphqlError";
    return null;
  }

  static describe(rule) {
    if (rule.drop) return `drop-${rule.drop}`;
    if (rule.html) return `html-${rule.status || 200}`;
    if (rule.graphqlError !== undefined) return "graphql-error";
    if (rule.status) return `status-${rule.status}`;
    return "delay";
  }

  add(rule) {
    this.rules.push({ ...rule, count: rule.count ?? 1 });
  }

  clear() {
    this.rules = [];
  }

  /** The first rule matching the request `info` (uses up one of its count), or null. */
  take(info) {
    const i = this.rules.findIndex((r) =>
      r.match == null || r.match === info.type || r.match === info.operation || info.fields.includes(r.match));
    if (i < 0) return null;
    const rule = this.rules[i];
    if (--rule.count <= 0) this.rules.splice(i, 1);
    return rule;
  }
}

/**
 * What the log records about a parsed document: the operation's name, its
 * type and the names of its root fields (aliases resolved, fragments
 * expanded). An unparsable document counts as a query with no fields.
 */
export function inspect(document, operationName) {
  const out = { operation: null, type: "query", fields: [] };
  if (!document) return out;
  const ops = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const op = operationName ? ops.find((o) => o.name && o.name.value === operationName) : ops.length === 1 ? ops[0] : null;
  if (!op) return { ...out, operation: operationName };
  const fragments = new Map(
    document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  const walk = (sel, seen) => {
    for (const s of sel.selections) {
      if (s.kind === Kind.FIELD) out.fields.push(s.name.value);
      else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet, seen);
      else if (s.kind === Kind.FRAGMENT_SPREAD && fragments.has(s.name.value) && !seen.has(s.name.value)) {
        seen.add(s.name.value);
        walk(fragments.get(s.name.value).selectionSet, seen);
      }
    }
  };
  walk(op.selectionSet, new Set());
  out.type = op.operation;
  out.operation = op.name ? op.name.value : null;
  return out;
}
