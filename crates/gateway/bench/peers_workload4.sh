#!/usr/bin/env bash
# Workload 4 of ../shared/peers (README there) with airisk's gateway in LiteLLM's place:
# the peers' std-only mock on 127.0.0.1:18081, wrk -t1 -c32 --latency with post.lua (a short
# one-message chat request, max_tokens 16). Same core layout as run_gateway.sh: direct runs put
# the mock on CPU 0 and wrk on CPU 1; proxied runs put the gateway on CPU 0, mock and wrk on CPU 1.
# The gateway is `gateway-bench gateway` (the same Gateway as `airisk gateway`: default policy,
# SQLite ledger, log_content hashes). Starts and stops every process it starts.
set -u
PEERS=${PEERS:-$(cd "$(dirname "$0")/../../../../shared/peers" 2>/dev/null && pwd)}
BENCH=${BENCH:-${CARGO_TARGET_DIR:-target}/release/gateway-bench}
RUNS=${RUNS:-3}; DUR=${DUR:-20s}; CONN=${CONN:-32}
[ -x "$BENCH" ] || { echo "build it: cargo build --release -p airisk-gateway --bin gateway-bench" >&2; exit 1; }
[ -x /tmp/mock_openai ] || rustc -O -o /tmp/mock_openai "$PEERS/mock_openai/main.rs"
PIDS=()
work=$(mktemp -d)
cleanup() { exec 3>&- 2>/dev/null; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
echo "wrk: $(wrk -v 2>&1 | head -1)"

if [ -z "${SKIP_DIRECT:-}" ]; then
  taskset -c 0 /tmp/mock_openai 127.0.0.1:18081 & PIDS+=($!)
  sleep 1
  for r in $(seq "$RUNS"); do
    echo "### direct run $r"
    taskset -c 1 wrk -t1 -c"$CONN" -d"$DUR" --latency -s "$PEERS/post.lua" http://127.0.0.1:18081/v1/chat/completions
  done
  kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null; PIDS=()
fi

taskset -c 1 /tmp/mock_openai 127.0.0.1:18081 & PIDS+=($!)
mkfifo "$work/in"
taskset -c 0 "$BENCH" gateway 127.0.0.1:18081 hashes 1 default < "$work/in" > "$work/out" & PIDS+=($!)
exec 3>"$work/in"   # the gateway runs until this closes
for i in $(seq 100); do grep -q LISTEN "$work/out" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -n 's/^LISTEN //p' "$work/out")
echo "airisk gateway on $addr"
curl -s -X POST -H 'Content-Type: application/json' -d '{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}' "http://$addr/v1/chat/completions" | head -c 300; echo
taskset -c 1 wrk -t1 -c"$CONN" -d5s -s "$PEERS/post.lua" "http://$addr/v1/chat/completions" > /dev/null   # warm-up
for r in $(seq "$RUNS"); do
  echo "### airisk gateway run $r"
  taskset -c 1 wrk -t1 -c"$CONN" -d"$DUR" --latency -s "$PEERS/post.lua" "http://$addr/v1/chat/completions"
  ps -o rss= -p "${PIDS[1]}" | awk '{printf "  gateway RSS %.0f MB\n", $1/1024}'
done
curl -s "http://$addr/metrics" | grep -E '^airisk_gateway_(ledger_records_total|requests_total)'
