#!/bin/sh
# The main job, end to end, against the local Twingate simulator:
#   1. install what is missing and build twingate-lua,
#   2. generate a realistic tenant (3,000 users, 200 groups; names with accents,
#      commas, quotes and emoji; emails in mixed case) and a membership CSV exported
#      "from HR" (4,000 rows over 60 groups, some new groups, a few unknown users),
#   3. start the simulator on 127.0.0.1 with the API's rate limits (60 reads and 20
#      writes a minute, compressed 20x in time so the demo takes seconds),
#   4. sync the CSV with --dry-run (prints the plan, changes nothing), then for real,
#      then once more to show that nothing is left to do.
# Everything it writes goes to ./demo/.
set -eu
cd "$(dirname "$0")"
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null

mkdir -p demo
node spec/sim/seed.mjs --users 3000 --groups 200 --networks 10 --rng-seed 7 --out demo/tenant.json
node spec/sim/members-csv.mjs --tenant demo/tenant.json --rows 4000 --groups 60 --new-groups 2 \
  --unknown-users 3 --rng-seed 7 --out demo/members.csv

rm -f demo/sim.url
node spec/sim/server.mjs --port 0 --token demo-token --seed demo/tenant.json --time-scale 20 \
  >demo/sim.url 2>demo/sim.log &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT INT TERM
i=0
until [ -s demo/sim.url ]; do
  i=$((i + 1)); [ $i -lt 100 ] || { echo "demo: the simulator did not start; see demo/sim.log" >&2; exit 1; }
  sleep 0.1
done

TWINGATE_ENDPOINT=$(head -n 1 demo/sim.url)
TWINGATE_API_TOKEN=demo-token
TWINGATE_RATE_LIMIT=60:20/3    # the API's 60 reads and 20 writes a minute, in 3 s windows
export TWINGATE_ENDPOINT TWINGATE_API_TOKEN TWINGATE_RATE_LIMIT
echo "demo: simulator at $TWINGATE_ENDPOINT"

run() {
  label=$1; shift
  # Each run starts with a fresh rate-limit minute, as if the runs were minutes apart
  # (the simulator counts requests across processes, as the API does).
  curl -s -X POST "${TWINGATE_ENDPOINT%/api/graphql/}/_sim/reset" >/dev/null
  echo
  echo "== $label: twingate-lua $*"
  rc=0
  build/twingate-lua "$@" >"demo/$label.txt" || rc=$?
  if [ "$(wc -l <"demo/$label.txt")" -gt 40 ]; then
    head -n 25 "demo/$label.txt"
    echo "   ... ($(wc -l <"demo/$label.txt") lines in all: demo/$label.txt)"
    tail -n 12 "demo/$label.txt"
  else
    cat "demo/$label.txt"
  fi
  case $rc in
    0) echo "(exit code 0: done)" ;;
    3) echo "(exit code 3: done, but some rows were skipped, as listed)" ;;
    *) echo "(exit code $rc: failed)"; exit "$rc" ;;
  esac
}
run 1-dry-run --dry-run scripts/sync-group-members.lua demo/members.csv --create-groups
run 2-apply scripts/sync-group-members.lua demo/members.csv --create-groups
run 3-again scripts/sync-group-members.lua demo/members.csv --create-groups
