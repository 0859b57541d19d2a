#!/usr/bin/env bash
# ONC server work of one manifest (#16, #17): runs MANIFEST (copied to a temporary folder)
# against a fresh `hydrofetch sim --product-window RULE` on 127.0.0.1 and prints the product
# requests it sent, the source files the simulator selected for each (`numFiles`, asked again
# with the same parameters), the archive listings and all API requests. One line.
#
# Usage: scripts/server-files.sh RULE MANIFEST [HYDROFETCH_BINARY]
#   e.g. scripts/server-files.sh start manifests/requests-seed.json
#   RULE: overlap or start. The binary defaults to target/release/hydrofetch (built if missing);
#   the simulator is always that default binary, so an older client can be compared.
set -euo pipefail
rule=$1
manifest=$2
root=$(cd "$(dirname "$0")/.." && pwd)
sim_bin="$root/target/release/hydrofetch"
[ -x "$sim_bin" ] || (cd "$root" && cargo build --quiet --release --bin hydrofetch)
bin=${3:-$sim_bin}
token=00000000-5113-4d30-8000-000000de0000 # the simulator's demo token
# shellcheck source=scripts/lib/sim.sh
. "$root/scripts/lib/sim.sh"
sim_tmp
cp "$manifest" "$tmp/"
start_sim "$tmp/sim.out" --product-window "$rule" --time-scale 0.001 \
    --cache-dir "$root/target/tmp/sim-cache-scripts" --request-log "$tmp/requests.log"
ONC_TOKEN=$token "$bin" run "$tmp/$(basename "$manifest")" --onc-url "$url" --quiet >/dev/null 2>&1 \
    || echo "(the run exited $?)"
python3 - "$tmp/requests.log" "$url" "$token" "$rule" "$(basename "$manifest")" <<'PY'
import json, sys, urllib.parse, urllib.request
log, url, token, rule, name = sys.argv[1:]
reqs = [json.loads(line) for line in open(log)]
products = [r for r in reqs if r["path"].endswith("dataProductDelivery/request")]
listings = sum(1 for r in reqs if r["path"].endswith("archivefile/device"))
total, spans = 0, []
for r in products:
    p = dict(r["params"])
    p["token"] = token
    answer = json.load(urllib.request.urlopen(
        url + "api/dataProductDelivery/request?" + urllib.parse.urlencode(p)))
    total += answer["numFiles"]
    spans.append(f"{p['dateFrom'][11:23]}..{p['dateTo'][11:23]} ({answer['numFiles']})")
print(f"{name} [{rule}]: {len(products)} product requests, {total} server files, "
      f"{listings} archive listings, {len(reqs)} API requests: " + "; ".join(spans))
PY
