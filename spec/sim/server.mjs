#!/usr/bin/env node
// Local simulator of the Twingate Admin API (GraphQL), for twingate-lua's
// tests, benchmarks and demo. Usage and behaviour: README.md.
//
//   node spec/sim/server.mjs [--port 0] [--token TOKEN] [--seed FILE.json]
//        [--rate-limit READS:WRITES | off] [--latency-ms N] [--page-max N]
//        [--state FILE] [--time-scale F]
//
// The first line on stdout is the endpoint URL; it serves until killed.
import { createServer } from "node:http";
import { readFileSync, writeFileSync, renameSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSchema, parse, validate, execute, Kind } from "graphql";
import { attach } from "./lib/resolvers.mjs";
import { Store } from "./lib/store.mjs";
import { RateLimiter, Faults, inspect } from "./lib/http.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));

const USAGE =
  "usage: node server.mjs [--port 0] [--token TOKEN] [--seed FILE.json] [--rate-limit READS:WRITES|off]\n" +
  "                       [--latency-ms N] [--page-max N] [--state FILE] [--time-scale F]\n";

const HELP = USAGE + `
A local simulator of the Twingate Admin API for twingate-lua's tests, benchmarks and
demo. It prints its endpoint (http://127.0.0.1:PORT/api/graphql/) as the first line on
stdout and serves until killed. Details, the seed format and the /_sim/ control
endpoints (request log, fault injection): spec/sim/README.md.

  --port N                 port on 127.0.0.1 (default 0: any free port)
  --token TOKEN            the API key it accepts in X-API-KEY (default: test-token)
  --seed FILE.json         the tenant to start with (spec/sim/seed.mjs makes one)
  --rate-limit R:W | off   reads and writes a minute before HTTP 429 (default 60:20)
  --latency-ms N           delay every response by N ms (default 0)
  --page-max N             largest page a query may ask for (default 100; default page 50)
  --state FILE             load the state from FILE if it exists, save it after each mutation
  --time-scale F           run the rate-limit clock F times faster (default 1)
  -h, --help               this text
`;

function usage(msg) {
  if (msg) process.stderr.write(`server.mjs: ${msg}\n`);
  process.stderr.write(USAGE);
  process.exit(2);
}

function help() {
  process.stdout.write(HELP);
  process.exit(0);
}

function parseArgs(argv) {
  const o = { port: 0, token: "test-token", seed: null, rateLimit: { reads: 60, writes: 20 }, latencyMs: 0, pageMax: 100, state: null, timeScale: 1 };
  const num = (k, v, min) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min) usage(`${k} needs a number >= ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    const take = () => { i++; if (v === undefined) usage(`${k} needs a value`); return v; };
    switch (k) {
      case "--port": o.port = num(k, take(), 0); break;
      case "--token": o.token = take(); break;
      case "--seed": o.seed = take(); break;
      case "--state": o.state = take(); break;
      case "--latency-ms": o.latencyMs = num(k, take(), 0); break;
      case "--page-max": o.pageMax = num(k, take(), 1); break;
      case "--time-scale": o.timeScale = num(k, take(), Number.MIN_VALUE); break;
      case "--rate-limit": {
        const s = take();
        if (s === "off") o.rateLimit = null;
        else {
          const m = /^(\d+):(\d+)$/.exec(s);
          if (!m) usage("--rate-limit takes READS:WRITES or off");
          o.rateLimit = { reads: Number(m[1]), writes: Number(m[2]) };
        }
        break;
      }
      case "-h": case "--help": help(); break;
      default: usage(`unknown argument ${k}`);
    }
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const schema = attach(buildSchema(readFileSync(join(HERE, "schema.graphql"), "utf8")));

function loadStore() {
  if (opts.state && existsSync(opts.state)) return Store.fromJSON(JSON.parse(readFileSync(opts.state, "utf8")));
  if (opts.seed) return Store.fromSeed(JSON.parse(readFileSync(opts.seed, "utf8")));
  return Store.empty();
}

let store;
try {
  store = loadStore();
} catch (e) {
  process.stderr.write(`server.mjs: cannot load ${opts.state && existsSync(opts.state) ? "state" : "seed"}: ${e.message}\n`);
  process.exit(2);
}

function saveState() {
  if (!opts.state) return;
  const tmp = `${opts.state}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(store));
  renameSync(tmp, opts.state);
}
saveState();

const limiter = new RateLimiter(opts.rateLimit, 60000 / opts.timeScale, opts.timeScale);
const faults = new Faults();
let log = [];
let seq = 0;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function send(res, status, body, headers = {}) {
  const isText = typeof body === "string";
  const text = isText ? body : JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": isText && !headers["Content-Type"] ? "text/html; charset=utf-8" : "application/json",
    "Content-Length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

const gqlError = (message) => ({ errors: [{ message }] });

function htmlPage(status, title) {
  return `<!DOCTYPE html>\n<html><head><title>${status} ${title}</title></head>` +
    `<body><h1>${title}</h1><p>The page you were looking for does not exist.</p></body></html>\n`;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Process one GraphQL request; returns { status, body, headers, fault }. */
async function graphql(req, entry) {
  const raw = await readBody(req);
  if (req.method !== "POST") return { status: 405, body: gqlError("Only POST is supported."), headers: { Allow: "POST" } };
  if (req.headers["x-api-key"] !== opts.token) {
    return { status: 401, body: { errors: [{ message: "Unauthorized: missing or invalid API key (X-API-KEY)." }] } };
  }
  let payload;
  try {
    payload = JSON.parse(raw);
  } catch {
    return { status: 400, body: gqlError("The request body is not valid JSON.") };
  }
  if (!payload || typeof payload !== "object" || typeof payload.query !== "string") {
    return { status: 400, body: gqlError("The request body must be a JSON object with a 'query' string.") };
  }
  const variables = payload.variables ?? null;
  entry.variables = variables;
  let document = null;
  let syntaxError = null;
  try {
    document = parse(payload.query);
  } catch (e) {
    syntaxError = e;
  }
  const info = inspect(document, payload.operationName ?? null);
  Object.assign(entry, { operation: info.operation, type: info.type, fields: info.fields, aliases: info.fields.length });

  const rule = faults.take(info);
  if (rule) {
    entry.fault = Faults.describe(rule);
    if (rule.delayMs) await sleep(rule.delayMs);
    if (rule.drop === "before") return { drop: true };
    if (rule.html) return { status: rule.status || 200, body: htmlPage(rule.status || 200, "Not Found") };
    if (rule.graphqlError !== undefined) return { status: 200, body: { errors: [{ message: String(rule.graphqlError) }], data: null } };
    if (rule.status === 429) {
      return { status: 429, body: gqlError("Too many requests."), headers: rule.retryAfter != null ? { "Retry-After": String(rule.retryAfter) } : {} };
    }
    if (rule.status) {
      if (rule.body === undefined) return { status: rule.status, body: htmlPage(rule.status, "Server Error") };
      return typeof rule.body === "string"
        ? { status: rule.status, body: rule.body, headers: { "Content-Type": "text/plain; charset=utf-8" } }
        : { status: rule.status, body: rule.body };
    }
  }
  const wait = limiter.take(info.type === "mutation" ? "writes" : "reads");
  if (wait !== null) {
    return { status: 429, body: gqlError("Rate limit exceeded; retry later."), headers: { "Retry-After": wait } };
  }
  const result = run(document, syntaxError, variables, payload.operationName ?? null);
  return { ...result, dropAfter: rule && rule.drop === "after" };
}

function run(document, syntaxError, variables, operationName) {
  if (syntaxError) return { status: 400, body: { errors: [syntaxError.toJSON()] } };
  const errors = validate(schema, document);
  if (errors.length) return { status: 400, body: { errors: errors.map((e) => e.toJSON()) } };
  const ctx = { store, pageMax: opts.pageMax, mutated: false };
  let result;
  try {
    result = execute({ schema, document, variableValues: variables, operationName, contextValue: ctx });
  } catch (e) {
    return { status: 400, body: gqlError(e.message) };
  }
  if (ctx.mutated) saveState();
  const body = {};
  if (result.errors) body.errors = result.errors.map((e) => e.toJSON());
  if ("data" in result) body.data = result.data;
  // A request that could not start executing (bad variables, unknown operation) is a 400.
  return { status: "data" in result ? 200 : 400, body };
}

async function control(req, res, url) {
  const raw = await readBody(req);
  const route = `${req.method} ${url.pathname}`;
  let body;
  if (raw) {
    try {
      body = JSON.parse(raw);
    } catch {
      return send(res, 400, { error: "body is not JSON" });
    }
  }
  switch (route) {
    case "GET /_sim/requests": return send(res, 200, log);
    case "POST /_sim/reset":
      log = [];
      seq = 0;
      limiter.reset();
      return send(res, 200, { ok: true });
    case "POST /_sim/fault": {
      const err = Faults.check(body);
      if (err) return send(res, 400, { error: err });
      faults.add(body);
      return send(res, 200, { ok: true, queued: faults.rules.length });
    }
    case "GET /_sim/fault": return send(res, 200, faults.rules);
    case "DELETE /_sim/fault":
      faults.clear();
      return send(res, 200, { ok: true });
    case "GET /_sim/state": return send(res, 200, store);
    case "POST /_sim/state":
      try {
        store = body && body.tables ? Store.fromJSON(body) : Store.fromSeed(body || {});
      } catch (e) {
        return send(res, 400, { error: e.message });
      }
      saveState();
      return send(res, 200, { ok: true });
    default: return send(res, 404, { error: `no control endpoint ${route}` });
  }
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, "http://127.0.0.1");
    if (url.pathname.startsWith("/_sim/")) return await control(req, res, url);
    if (opts.latencyMs) await sleep(opts.latencyMs);
    if (url.pathname !== "/api/graphql/") {
      await readBody(req);
      return send(res, 404, htmlPage(404, "Not Found"));
    }
    const entry = { seq: ++seq, operation: null, type: null, status: null, fields: [], aliases: 0, variables: null, time: Date.now() / 1000, fault: null };
    log.push(entry);
    const r = await graphql(req, entry);
    if (r.drop) {
      req.socket.destroy();
      return;
    }
    entry.status = r.status;
    if (r.dropAfter) {
      req.socket.destroy();
      return;
    }
    send(res, r.status, r.body, r.headers);
  } catch (e) {
    process.stderr.write(`server.mjs: ${e.stack}\n`);
    if (!res.headersSent) send(res, 500, gqlError(`simulator bug: ${e.message}`));
  }
});
server.keepAliveTimeout = 30000;

server.listen(opts.port, "127.0.0.1", () => {
  process.stdout.write(`http://127.0.0.1:${server.address().port}/api/graphql/\n`);
});

function shutdown() {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
