// The simulator's command line: --help and bad options.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SERVER = join(dirname(fileURLToPath(import.meta.url)), "..", "server.mjs");

test("--help prints every option on stdout and exits 0", () => {
  const r = spawnSync(process.execPath, [SERVER, "--help"], { encoding: "utf8" });
  assert.equal(r.status, 0);
  for (const opt of ["--port", "--token", "--seed", "--rate-limit", "--latency-ms", "--page-max", "--state", "--time-scale"]) {
    assert.match(r.stdout, new RegExp(opt));
  }
  assert.match(r.stdout, /test-token/);
  assert.equal(r.stderr, "");
});

test("an unknown option prints the usage on stderr and exits 2", () => {
  const r = spawnSync(process.execPath, [SERVER, "--bogus"], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown argument --bogus/);
  assert.equal(r.stdout, "");
});
