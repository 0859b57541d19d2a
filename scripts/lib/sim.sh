# Sourced by the bench scripts: start a simulator and wait for its address.
# start_sim OUT_FILE SIM_ARGS... — starts `$sim_bin sim SIM_ARGS...` in the background, its
# first line going to OUT_FILE; sets `sim_pid` and `url` (exits 1 if it does not start).
start_sim() {
    local out=$1
    shift
    "$sim_bin" sim "$@" >"$out" 2>/dev/null &
    sim_pid=$!
    url=
    for _ in $(seq 1 200); do
        url=$(sed -n 's/^listening on //p' "$out" | head -n 1)
        [ -n "$url" ] && return 0
        sleep 0.05
    done
    echo "the simulator did not start" >&2
    exit 1
}

# sim_tmp — sets `tmp` to a new temporary folder and `sim_pid` to empty; at exit the folder is
# removed and the last simulator `start_sim` started is stopped.
sim_tmp() {
    tmp=$(mktemp -d)
    sim_pid=
    trap 'if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; fi; rm -rf "$tmp"' EXIT
}
