#!/usr/bin/env bash
# Wall time of 20 scattered padded events (15 s, clipped MAT, `dpo_spectralDataDownsample = 2`
# so that ONC processes on demand) at capacity 2, time scale 0.1 (#17). Prints one line per
# binary given, so a build of an older commit can be compared with this one in one run.
#
# Usage: scripts/bench-events.sh [HYDROFETCH_BINARY ...]   (default: target/release/hydrofetch)
# Build an older commit for comparison in its own target folder, e.g.
#   git worktree add /tmp/old COMMIT && CARGO_TARGET_DIR=/tmp/old-target cargo build --release \
#       --manifest-path /tmp/old/Cargo.toml --bin hydrofetch
# (sharing this checkout's target/ makes cargo take the older crates for current ones).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sim_bin="$root/target/release/hydrofetch"
[ -x "$sim_bin" ] || (cd "$root" && cargo build --quiet --release --bin hydrofetch)
[ $# -gt 0 ] || set -- "$sim_bin"
token=00000000-5113-4d30-8000-000000de0000 # the simulator's demo token
# shellcheck source=scripts/lib/sim.sh
. "$root/scripts/lib/sim.sh"
sim_tmp
python3 - "$tmp/events.json" <<'PY'
import datetime, json, sys
t0 = datetime.datetime(2024, 4, 1, 10, 0, 40)
requests = [{"deviceCode": "ICLISTENHF6324",
             "timestamp": (t0 + datetime.timedelta(seconds=433 * k)).strftime("%Y-%m-%dT%H:%M:%SZ"),
             "label": f"event {k}"} for k in range(20)]
json.dump({"defaults": {"pad_seconds": 15, "clip": True,
                        "data_product_options": {"dpo_spectralDataDownsample": 2}},
           "requests": requests}, open(sys.argv[1], "w"), indent=1)
PY
run_one() {
    local bin=$1 d t0 t1 rc products
    d=$(mktemp -d -p "$tmp")
    cp "$tmp/events.json" "$d/"
    start_sim "$d/sim.out" --capacity 2 --time-scale 0.1 \
        --cache-dir "$root/target/tmp/sim-cache-scripts"
    t0=$(date +%s.%N)
    rc=0
    ONC_TOKEN=$token "$bin" run "$d/events.json" --onc-url "$url" --quiet >"$d/out" 2>&1 || rc=$?
    t1=$(date +%s.%N)
    products=$(curl -s "${url}sim/log" | python3 -c \
        'import json,sys; d=json.load(sys.stdin); r=d["requests"] if isinstance(d,dict) else d; print(sum(1 for x in r if x["path"].endswith("dataProductDelivery/request")))')
    kill "$sim_pid" 2>/dev/null || true
    printf 'events, 20 × 30 s clipped, capacity 2: %s: exit %d, wall %.1f s, %d product requests\n' \
        "$bin" "$rc" "$(echo "$t1 - $t0" | bc)" "$products"
}
# A first, untimed pass fills the simulator's cache, so no binary pays for data generation.
run_one "$1" >/dev/null
for bin in "$@"; do
    run_one "$bin"
done
