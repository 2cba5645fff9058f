#!/bin/sh
# Install what building and testing twingate-lua needs, on Debian 12, idempotently:
# the Debian packages (only those missing, so a prepared machine needs no network)
# and the simulator's npm packages (npm ci, from spec/sim/package-lock.json).
set -eu
cd "$(dirname "$0")/.."

pkgs="build-essential cmake pkg-config lua5.4 liblua5.4-dev libcurl4-openssl-dev
      lua-cjson lua-cjson-dev lua-busted curl ca-certificates time"
# Node.js: any installed node >= 18 will do; otherwise take Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  pkgs="$pkgs nodejs npm"
fi

missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "install-deps: installing Debian packages:$missing" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The simulator's node_modules, exactly as locked.
if [ ! -d spec/sim/node_modules/graphql ] || [ spec/sim/package-lock.json -nt spec/sim/node_modules/.package-lock.json ]; then
  echo "install-deps: npm ci in spec/sim" >&2
  (cd spec/sim && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
