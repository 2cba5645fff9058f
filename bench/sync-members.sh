#!/bin/sh
# Benchmark: sync 10,000 memberships over 300 groups and 5,000 users against the
# simulator, and print requests made, wall time and peak memory, for
#   ours   scripts/sync-group-members.lua
#   naive  bench/naive-sync.lua (one request per page per list, group by group, and
#          one mutation per row: how hand-written scripts and public CLIs do it)
# plus each one's rate-limit floor: the least time the real API's limits (60 reads,
# 20 writes a minute) allow for that many requests. Finally ours runs again under those
# limits (compressed in time by BENCH_TIME_SCALE) to show how close it gets to its floor.
# Environment: BENCH_LATENCY_MS (default 20) per response, BENCH_TIME_SCALE (default 6).
# Prints numbers only; it asserts nothing.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null

latency=${BENCH_LATENCY_MS:-20}
scale=${BENCH_TIME_SCALE:-6}
work=$(mktemp -d)
trap 'kill $sim 2>/dev/null || true; rm -rf "$work"' EXIT INT TERM
sim=

node spec/sim/seed.mjs --users 5000 --groups 300 --networks 5 --rng-seed 11 --out "$work/tenant.json"
node spec/sim/members-csv.mjs --tenant "$work/tenant.json" --rows 10000 --groups 300 --rng-seed 11 \
  --out "$work/members.csv"

. bench/lib.sh

# counts READS WRITES from the simulator's request log
counts() { sim_stats | awk '{ print $1, $2 }'; }

export TWINGATE_API_TOKEN=bench-token
run() {  # $1 key (ours, naive, limited), $2 rate limit, rest: script and args
  key=$1; limit=$2; shift 2
  /usr/bin/time -f "%e %M" -o "$work/time" env TWINGATE_RATE_LIMIT="$limit" \
    build/twingate-lua -q "$@" >"$work/$key.out" 2>"$work/$key.err" || true
  set -- $(cat "$work/time") $(counts)
  wall=$1; rss=$2; reads=$3; writes=$4
  floor=$(awk -v r="$reads" -v w="$writes" 'BEGIN { a = r / 60; b = w / 20; printf "%.1f", (a > b ? a : b) * 60 }')
  printf '%-22s %7d %7d %9.2f s %8.1f MiB %11s s\n' "$key" "$reads" "$writes" "$wall" \
    "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$floor"
  eval "${key}_floor=$floor ${key}_wall=$wall ${key}_writes=$writes"
}

echo "sync of 10,000 memberships (300 groups, 5,000 users), simulator latency ${latency} ms"
printf '%-22s %7s %7s %11s %12s %13s\n' "" reads writes "wall time" "peak RSS" "limit floor"
start_sim --rate-limit off; run ours off scripts/sync-group-members.lua "$work/members.csv"; stop_sim
start_sim --rate-limit off; run naive off bench/naive-sync.lua "$work/members.csv"; stop_sim
window=$(awk -v s="$scale" 'BEGIN { print 60 / s }')
start_sim --rate-limit 60:20 --time-scale "$scale"
run limited "60:20/$window" scripts/sync-group-members.lua "$work/members.csv"
stop_sim
echo
awk -v of="$ours_floor" -v nf="$naive_floor" -v ow="$ours_writes" -v nw="$naive_writes" \
    -v lw="$limited_wall" -v lf="$limited_floor" -v s="$scale" 'BEGIN {
  printf "naive/ours: %.1fx the writes, %.1fx the time the rate limits force\n", nw / (ow ? ow : 1), nf / (of ? of : 1)
  printf "limited = ours under the API limits, time compressed %dx: %.2f s, i.e. %.1f s at real speed; its floor %.1f s; ratio %.2f\n", s, lw, lw * s, lf, (lf ? lw * s / lf : 0)
}'
