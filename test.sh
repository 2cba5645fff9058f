#!/bin/sh
# Run every test of twingate-lua: installs what is missing (Debian packages, the
# simulator's npm packages), builds the program (plain and with ASan+UBSan), and runs
# CTest: the busted unit specs, the integration specs against the local simulator
# (each spec starts its own simulator on 127.0.0.1), again on the sanitizer build,
# and the simulator's own tests.
set -eu
cd "$(dirname "$0")"
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"
cd build
ctest --output-on-failure "$@"
