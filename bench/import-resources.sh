#!/bin/sh
# Benchmark: import 2,000 resources into 20 networks with access for 50 groups, then
# change 10% of the rows and import again, against the simulator. Prints, per run,
# read and write requests, wall time, and the rate-limit floor (the least time the
# real API's limits, 60 reads and 20 writes a minute, allow for those requests:
# max(reads/60, writes/20) minutes), for
#   ours     scripts/import-resources.lua (field-level diff, batched mutations)
#   naive    bench/import-naive.lua (one mutation per row, every field, no diff)
# first with no rate limit, then ours under the real limits compressed in time
# (simulator --time-scale F, client --rate-limit 60:20/W with W = 60/F seconds),
# with the ratio of its wall time (scaled back to real time) to its floor.
# Environment: BENCH_TIME_SCALE (default 60), BENCH_LATENCY_MS (default 5),
# BENCH_BATCH_SIZE (default 10, the script's default).
# Prints numbers only; it asserts nothing.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null

scale=${BENCH_TIME_SCALE:-60}
latency=${BENCH_LATENCY_MS:-5}
bs=${BENCH_BATCH_SIZE:-10}
work=$(mktemp -d)
sim=
trap 'kill $sim 2>/dev/null || true; rm -rf "$work"' EXIT INT TERM

lua5.4 bench/import-gen.lua "$work" 2000 20 50 10

. bench/lib.sh

# counts READS WRITES MUTATIONS THROTTLED from the simulator's request log
counts() { sim_stats | awk '{ print $1, $2, $3, $4 }'; }

export TWINGATE_API_TOKEN=bench-token TWINGATE_LUA_DIR="$PWD/lua"
run() {  # $1 label, $2 client rate limit, $3 time scale of the run (1 = real time), rest: script and args
  label=$1; limit=$2; tscale=$3; shift 3
  reset_log
  start=$(date +%s.%N)
  env TWINGATE_RATE_LIMIT="$limit" build/twingate-lua -q "$@" >"$work/out" 2>"$work/err" || echo "  ($label exited $?)"
  end=$(date +%s.%N)
  set -- $(counts)
  reads=$1; writes=$2; muts=$3; throttled=$4
  awk -v l="$label" -v r="$reads" -v w="$writes" -v m="$muts" -v t="$throttled" -v a="$start" -v b="$end" -v s="$tscale" 'BEGIN {
    wall = b - a; floor = (r / 60 > w / 20 ? r / 60 : w / 20) * 60
    if (s == 1) printf "%-34s %6d %6d %9d %9.2f s %12s %10.1f s\n", l, r, w, m, wall, "-", floor
    else printf "%-34s %6d %6d %9d %9.2f s %10.1f s %10.1f s  ratio %.2f  (429s: %d)\n", l, r, w, m, wall, wall * s, floor, (floor ? wall * s / floor : 0), t
  }'
}

echo "import of 2,000 resources (20 networks, access for 50 groups), then 10% changed; simulator latency ${latency} ms, batch size ${bs}"
printf '%-34s %6s %6s %9s %11s %12s %12s\n' "" reads writes mutations "wall time" "real time" "limit floor"
start_sim --rate-limit off
run "ours: import (no limit)" off 1 scripts/import-resources.lua "$work/resources.csv" --yes --batch-size "$bs"
run "ours: 10% changed (no limit)" off 1 scripts/import-resources.lua "$work/resources-changed.csv" --yes --batch-size "$bs"
run "ours: unchanged re-run (no limit)" off 1 scripts/import-resources.lua "$work/resources-changed.csv" --yes --batch-size "$bs"
stop_sim
start_sim --rate-limit off
run "naive: import (no limit)" off 1 bench/import-naive.lua "$work/resources.csv"
run "naive: 10% changed (no limit)" off 1 bench/import-naive.lua "$work/resources-changed.csv"
stop_sim
window=$(awk -v s="$scale" 'BEGIN { print 60 / s }')
start_sim --rate-limit 60:20 --time-scale "$scale"
run "ours: import (60:20, x$scale)" "60:20/$window" "$scale" scripts/import-resources.lua "$work/resources.csv" --yes --batch-size "$bs"
run "ours: 10% changed (60:20, x$scale)" "60:20/$window" "$scale" scripts/import-resources.lua "$work/resources-changed.csv" --yes --batch-size "$bs"
stop_sim
echo
echo "real time = wall time x time scale; ratio = real time / limit floor (1.00 = at the floor)."
echo "naive's floor is what the same job costs when sent one mutation per row."
