#!/usr/bin/env bash
# Linear-time scale (#17): one device, N 5-minute MAT windows (default 105,120: 2024-01-01 plus
# 365 days) against `hydrofetch sim --tiny --time-scale 0`, so that only orchestration is
# measured. Prints one summary line:
#   run wall time and peak RSS (/usr/bin/time -v of the `hydrofetch run` child), bytes written
#   to the lockfile and the record of finished items over the final lockfile's size (strace of
#   a second, separate run: strace slows it down, so it is not timed), and the re-run: wall
#   time and HTTP requests (the simulator's request log).
#
# Usage: scripts/bench-scale.sh [ITEMS] [PROFILE]   (PROFILE: release (default) or dev)
#   e.g. scripts/bench-scale.sh 10000 dev   while developing.
# Targets: run <= 120 s, peak RSS <= 500 MiB, bytes <= 3x the lockfile, re-run 0 HTTP in <= 1 s.
set -euo pipefail

items=${1:-105120}
profile=${2:-release}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --quiet --profile "$profile" --bin hydrofetch
case $profile in dev) dir=debug ;; *) dir=$profile ;; esac
bin="$root/target/$dir/hydrofetch"

# shellcheck source=scripts/lib/sim.sh
. "$root/scripts/lib/sim.sh"
sim_tmp

token=0000aaaa-bench-token-1111bbbb
sim_bin=$bin
start_sim "$tmp/sim.out" --host 127.0.0.1 --port 0 --token "$token" --tiny --time-scale 0 \
    --run-ttl 86400 --capacity 8

end=$(date -u -d "2024-01-01T00:00:00Z + $((items * 5)) minutes" +%Y-%m-%dT%H:%M:%SZ)
manifest() {
    mkdir -p "$1"
    cat >"$1/scale.toml" <<TOML
version = 1
data_dir = "data"
[defaults]
device = "ICLISTENHF6324"
spectrogram_format = "mat"
data_product_options = { dpo_spectralDataDownsample = 2 }
[[range]]
start = "2024-01-01T00:00:00Z"
end = "$end"
spectrograms_per_batch = 6
TOML
}
hf() { ONC_URL="$url" ONC_TOKEN="$token" HYDROFETCH_LOG= "$bin" "$@"; }
api_requests() { curl -s "${url}sim/log" | { grep -o '"/api/' || true; } | wc -l; }

# 1. The timed run.
manifest "$tmp/a"
before=$(api_requests)
/usr/bin/time -v -o "$tmp/time.txt" env ONC_URL="$url" ONC_TOKEN="$token" \
    "$bin" run --json "$tmp/a/scale.toml" >"$tmp/run.json" 2>"$tmp/run.err" \
    || { tail -n 5 "$tmp/run.err" "$tmp/run.json" >&2; exit 1; }
run_http=$(( $(api_requests) - before ))
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time.txt")
rss_kib=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time.txt")
lock_size=$(stat -c %s "$tmp/a/scale.toml.lock")

# 2. The re-run: nothing to do.
before=$(api_requests)
t0=$(date +%s.%N)
hf run --json "$tmp/a/scale.toml" >/dev/null 2>&1
t1=$(date +%s.%N)
rerun_http=$(( $(api_requests) - before ))
rerun=$(echo "$t1 - $t0" | bc)

# 3. The same run under strace (not timed): bytes written to the lockfile (and its temporary
#    files) and to the record of finished items.
manifest "$tmp/b"
strace -f -qq -e trace=write,writev,pwrite64 -e signal=none -y -o "$tmp/strace.txt" \
    env ONC_URL="$url" ONC_TOKEN="$token" "$bin" run --json "$tmp/b/scale.toml" >/dev/null 2>&1
written=$(grep -E '<[^>]*scale\.toml\.lock(\.record|[^/>]*\.tmp)?>' "$tmp/strace.txt" \
    | grep -v '\.journal' | sed -n 's/.*= \([0-9]\+\)$/\1/p' | paste -sd+ | bc)
journal=$(grep -E '<[^>]*\.journal[^/>]*>' "$tmp/strace.txt" \
    | sed -n 's/.*= \([0-9]\+\)$/\1/p' | paste -sd+ | bc || true)
lock_b=$(stat -c %s "$tmp/b/scale.toml.lock")

printf 'scale, %s items (%s): run %s wall, peak RSS %d MiB, %d HTTP; lockfile %d bytes, lockfile+record writes %s bytes = %.2fx it (journal %s bytes); re-run %.3f s, %d HTTP\n' \
    "$items" "$profile" "$wall" $((rss_kib / 1024)) "$run_http" "$lock_size" "$written" \
    "$(echo "$written / $lock_b" | bc -l)" "${journal:-0}" "$rerun" "$rerun_http"
