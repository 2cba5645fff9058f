// A tiny HTTP server for the transport specs (no dependencies).
//
//   node spec/integration/http_server.mjs [--port 0]
//
// Prints its base URL (http://127.0.0.1:PORT/) as the first line of stdout and
// its pid as the second, then serves until killed. Routes:
//   GET  /stats            {"connections": N, "requests": N}  (since start)
//   ANY  /echo             {"method","url","headers","body"} of the request
//   ANY  /redirect/CODE    CODE redirect to /echo (308 keeps POST and its body)
//   GET  /gzip             a gzip-encoded JSON body when the client accepts gzip
//   GET  /headers          custom and repeated response headers
//   ANY  /slow?ms=N        answers after N milliseconds
//   ANY  /drop             reads the whole request, then closes the socket unanswered
//   ANY  /status/CODE      an empty response with that status
//   ANY  /to?code=C&url=U  a C redirect (default 307) to the absolute or relative URL U
//   GET  /bomb?mb=N        N MiB of zeros (default 20), gzip-encoded (a few KiB on the wire)
//   GET  /big?kb=N         N KiB of plain body (default 1024)
import http from "node:http";
import zlib from "node:zlib";

const args = process.argv.slice(2);
const portIndex = args.indexOf("--port");
const port = portIndex >= 0 ? Number(args[portIndex + 1]) : 0;

let connections = 0;
let requests = 0;

function json(res, status, value, extra = {}) {
  const body = JSON.stringify(value);
  res.writeHead(status, { "Content-Type": "application/json", ...extra });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    requests += 1;
    const body = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url, "http://127.0.0.1");
    const path = url.pathname;
    if (path === "/stats") {
      return json(res, 200, { connections, requests });
    }
    if (path === "/echo") {
      return json(res, 200, { method: req.method, url: req.url, headers: req.headers, body });
    }
    let m = path.match(/^\/redirect\/(\d{3})$/);
    if (m) {
      res.writeHead(Number(m[1]), { Location: "/echo?redirected=1" });
      return res.end();
    }
    if (path === "/gzip") {
      const payload = JSON.stringify({ compressed: true, filler: "x".repeat(2000) });
      if (/\bgzip\b/.test(req.headers["accept-encoding"] || "")) {
        res.writeHead(200, { "Content-Type": "application/json", "Content-Encoding": "gzip" });
        return res.end(zlib.gzipSync(payload));
      }
      res.writeHead(200, { "Content-Type": "application/json" });
      return res.end(payload);
    }
    if (path === "/headers") {
      res.setHeader("X-Request-Id", "req-123");
      res.setHeader("X-Mixed-Case", "Value With Spaces");
      res.setHeader("Set-Cookie", ["a=1", "b=2"]);
      res.setHeader("Retry-After", "7");
      return json(res, 200, { ok: true });
    }
    if (path === "/slow") {
      const ms = Number(url.searchParams.get("ms") || "1000");
      const timer = setTimeout(() => json(res, 200, { slow: true }), ms);
      res.on("close", () => clearTimeout(timer));
      return undefined;
    }
    if (path === "/drop") {
      return req.socket.destroy();
    }
    if (path === "/to") {
      res.writeHead(Number(url.searchParams.get("code") || "307"),
        { Location: url.searchParams.get("url") || "/echo" });
      return res.end();
    }
    if (path === "/bomb") {
      const mb = Number(url.searchParams.get("mb") || "20");
      const gz = zlib.gzipSync(Buffer.alloc(mb * 1024 * 1024));
      res.writeHead(200, { "Content-Type": "application/json", "Content-Encoding": "gzip" });
      return res.end(gz);
    }
    if (path === "/big") {
      const kb = Number(url.searchParams.get("kb") || "1024");
      res.writeHead(200, { "Content-Type": "application/json" });
      return res.end("x".repeat(kb * 1024));
    }
    m = path.match(/^\/status\/(\d{3})$/);
    if (m) {
      res.writeHead(Number(m[1]));
      return res.end();
    }
    return json(res, 404, { error: "no such route" });
  });
});

server.on("connection", () => { connections += 1; });
server.keepAliveTimeout = 30000;
server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`http://127.0.0.1:${server.address().port}/\n${process.pid}\n`);
});
process.on("SIGTERM", () => process.exit(0));
