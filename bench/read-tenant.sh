#!/bin/sh
# Benchmark: read a whole tenant (5,000 users, 300 groups with up to 400 members
# each, 2,000 resources with access edges) against the simulator with 100 ms of
# latency per response and no rate limit, and print requests made, wall time and
# peak memory for
#   ours   bench/read-ours.lua  (the module: include completes nested lists with
#          batched aliased queries)
#   naive  bench/read-naive.lua (one request per page per object, unbatched, nested
#          lists read object by object: how the public clients read)
# then the ratios naive/ours, and the time the real API's 60 reads a minute
# would force for each request count. Prints numbers only; asserts nothing.
# Environment: BENCH_LATENCY_MS (default 100), BENCH_USERS (5000), BENCH_GROUPS (300),
# BENCH_RESOURCES (2000), BENCH_SKIP_NAIVE=1 to run ours only.
set -eu
cd "$(dirname "$0")/.."
if [ ! -x build/twingate-lua ]; then
  cmake -S . -B build >/dev/null && cmake --build build -j "$(nproc)" >/dev/null
fi

latency=${BENCH_LATENCY_MS:-100}
nusers=${BENCH_USERS:-5000}
ngroups=${BENCH_GROUPS:-300}
nres=${BENCH_RESOURCES:-2000}
work=$(mktemp -d)
sim=
trap 'if [ -n "$sim" ]; then kill "$sim" 2>/dev/null || true; fi; rm -rf "$work"' EXIT INT TERM

node spec/sim/seed.mjs --users "$nusers" --groups "$ngroups" --networks 20 --members-per-group 1:400 \
  --big-groups 0 --resources "$nres" --access-per-resource 1:6 --rng-seed 7 --out "$work/tenant.json"

. bench/lib.sh

# requests answered 200, and the root fields they carried, from the simulator's log
counts() { sim_stats | awk '{ print $5, $6 }'; }

export TWINGATE_API_TOKEN=bench-token
# the working tree's Lua (the binary embeds the same files at build time)
export TWINGATE_LUA_DIR=./lua
run() {  # $1 key, $2 script
  key=$1
  start_sim --rate-limit off
  /usr/bin/time -f "%e %M" -o "$work/time" build/twingate-lua -q --rate-limit off "$2" >"$work/$key.out" \
    2>"$work/$key.err" || { echo "$key failed:"; cat "$work/$key.err"; }
  set -- $(tail -n 1 "$work/time") $(counts)
  stop_sim
  printf '%-6s %9d %11d %10.2f s %9.1f MiB %10.1f min\n' "$key" "$3" "$4" "$1" \
    "$(awk -v k="$2" 'BEGIN { print k / 1024 }')" "$(awk -v r="$3" 'BEGIN { print r / 60 }')"
  eval "${key}_req=$3 ${key}_wall=$1 ${key}_rss=$2"
  sed 's/^/       /' "$work/$key.out"
}

echo "read of a tenant: $nusers users, $ngroups groups (1..400 members), $nres resources (1..6 access edges)"
echo "simulator latency ${latency} ms, rate limit off, page size 100, batch size 25"
printf '%-6s %9s %11s %12s %13s %14s\n' "" requests "root fields" "wall time" "peak RSS" "60 reads/min"
run ours bench/read-ours.lua
if [ "${BENCH_SKIP_NAIVE:-0}" != 1 ]; then
  run naive bench/read-naive.lua
  awk -v nr="$naive_req" -v orq="$ours_req" -v nw="$naive_wall" -v ow="$ours_wall" -v nm="$naive_rss" -v om="$ours_rss" 'BEGIN {
    printf "naive/ours: %.1fx the requests, %.1fx the wall time, %.2fx the peak memory\n", nr / orq, nw / ow, nm / om
  }'
fi
