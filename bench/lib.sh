# Sourced by the bench/*.sh scripts: start and stop the simulator, read its
# request log. Needs $work (a scratch folder) and $latency (ms); sets $sim and
# exports TWINGATE_ENDPOINT.

start_sim() {  # $@: extra simulator options
  rm -f "$work/url"
  node spec/sim/server.mjs --port 0 --token bench-token --seed "$work/tenant.json" \
    --latency-ms "$latency" "$@" >"$work/url" 2>"$work/sim.log" &
  sim=$!
  until [ -s "$work/url" ]; do sleep 0.05; done
  TWINGATE_ENDPOINT=$(head -n 1 "$work/url")
  export TWINGATE_ENDPOINT
}

stop_sim() { kill "$sim" 2>/dev/null || true; wait "$sim" 2>/dev/null || true; sim=; }

reset_log() { curl -s -X POST "${TWINGATE_ENDPOINT%/api/graphql/}/_sim/reset" >/dev/null; }

# From the simulator's request log, on one line: READS WRITES MUTATIONS THROTTLED
# ANSWERED ROOT_FIELDS (reads and writes answered 200, the mutations those writes
# carried, 429s, all requests answered 200 and the root fields they carried).
sim_stats() {
  curl -s "${TWINGATE_ENDPOINT%/api/graphql/}/_sim/requests" | node -e '
    let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
      const log = JSON.parse(s), ok = log.filter(e => e.status === 200);
      const r = ok.filter(e => e.type === "query").length;
      const w = ok.filter(e => e.type === "mutation");
      const m = w.reduce((a, e) => a + (e.aliases || 0), 0);
      const t = log.filter(e => e.status === 429).length;
      const f = ok.reduce((a, e) => a + (e.aliases || 1), 0);
      console.log([r, w.length, m, t, ok.length, f].join(" "));
    });'
}
