// Relay connections and collection filters, shared by every list field.
import { GraphQLError } from "graphql";

export const DEFAULT_PAGE = 50;

export function encodeCursor(i) {
  return Buffer.from(`arrayconnection:${i}`, "utf8").toString("base64");
}

/** Index in a cursor, or null when the cursor is not one of ours (then it is ignored). */
export function decodeCursor(c) {
  if (typeof c !== "string") return null;
  const m = /^arrayconnection:(\d+)$/.exec(Buffer.from(c, "base64").toString("utf8"));
  return m ? Number(m[1]) : null;
}

/**
 * A Relay connection over `items` (already filtered), as graphql-relay's
 * connectionFromArray does it, with the API's page sizes: 50 when neither
 * `first` nor `last` is given, and `first`/`last` clamped to `pageMax`.
 * `edgeOf(item, cursor)` builds an edge (default `{ cursor, node: item }`).
 */
export function connection(items, args, pageMax, edgeOf) {
  let { first, last } = args;
  const after = decodeCursor(args.after);
  const before = decodeCursor(args.before);
  if (first != null && first < 0) throw new GraphQLError("Argument 'first' must be a non-negative integer.");
  if (last != null && last < 0) throw new GraphQLError("Argument 'last' must be a non-negative integer.");
  if (first == null && last == null) first = DEFAULT_PAGE;
  if (first != null && first > pageMax) first = pageMax;
  if (last != null && last > pageMax) last = pageMax;
  const length = items.length;
  const lower = after != null ? after + 1 : 0;
  const upper = before != null ? Math.min(before, length) : length;
  let start = Math.max(lower, 0);
  let end = upper;
  if (first != null) end = Math.min(end, start + first);
  if (last != null) start = Math.max(start, end - last);
  const edges = [];
  for (let i = start; i < end; i++) {
    const cursor = encodeCursor(i);
    edges.push(edgeOf ? edgeOf(items[i], cursor) : { cursor, node: items[i] });
  }
  return {
    edges,
    pageInfo: {
      startCursor: edges.length ? edges[0].cursor : null,
      endCursor: edges.length ? edges[edges.length - 1].cursor : null,
      hasPreviousPage: last != null ? start > lower : false,
      hasNextPage: first != null ? end < upper : false,
    },
    totalCount: length,
  };
}

function regexpOf(src) {
  try {
    return new RegExp(src, "u");
  } catch (e) {
    throw new GraphQLError(`Invalid regular expression '${src}': ${e.message}`);
  }
}

/**
 * Does `value` satisfy the operator object `op` (StringFilterOperatorInput,
 * BooleanFilterOperatorInput, the enum `{in}` inputs, id `{eq, in}`)? Every
 * operator set in `op` must hold; null operators are ignored.
 */
export function matchOp(value, op) {
  if (op == null) return true;
  for (const [k, arg] of Object.entries(op)) {
    if (arg == null) continue;
    switch (k) {
      case "eq": if (value !== arg) return false; break;
      case "ne": if (value === arg) return false; break;
      case "startsWith": if (typeof value !== "string" || !value.startsWith(arg)) return false; break;
      case "endsWith": if (typeof value !== "string" || !value.endsWith(arg)) return false; break;
      case "contains": if (typeof value !== "string" || !value.includes(arg)) return false; break;
      case "regexp": if (typeof value !== "string" || !regexpOf(arg).test(value)) return false; break;
      case "in": if (!arg.includes(value)) return false; break;
      default: throw new GraphQLError(`Unsupported filter operator '${k}'.`);
    }
  }
  return true;
}

/**
 * Keep the items that match every field of `filter`. `fields` maps a filter
 * field name to an accessor (item -> value) or to a predicate factory
 * `{ test(item, op) }` for the special ones (tags).
 */
export function applyFilter(items, filter, fields = {}) {
  if (!filter) return items;
  const conds = Object.entries(filter).filter(([, op]) => op != null);
  if (!conds.length) return items;
  return items.filter((item) =>
    conds.every(([name, op]) => {
      const f = fields[name];
      if (f && typeof f === "object" && f.test) return f.test(item, op);
      const value = typeof f === "function" ? f(item) : item[name];
      return matchOp(value ?? null, op);
    }));
}
