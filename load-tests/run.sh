#!/usr/bin/env bash
# Runs one load scenario against a release `ercs` on loopback (see README.md).
#
#   load-tests/run.sh feed-resume          # 200 resumes from 0 on the seeded log
#   load-tests/run.sh as-of 150000         # 20 as_of readers at 150k events
#   load-tests/run.sh restart 1000000      # kill -9, then time until /readyz
#   load-tests/run.sh surge                # plan and approve 渝东北 (368 townships)
#   load-tests/run.sh mixed [EVENTS]       # dispatcher writes beside single reads, 60 s
#   load-tests/run.sh dashboard [EVENTS]   # /network, filtered lists, GIS bbox, 60 s
#   load-tests/run.sh feed [EVENTS]        # 1,000 feed subscribers while 50 writes/s, 30 s
#   load-tests/run.sh soak [EVENTS]        # mixed at half the budget for 10 minutes
#   load-tests/run.sh drill [EVENTS]       # the 72 h 万州 drill as fast as possible, hosted
#                                          # (from the seed, then on a copy of the live log)
#                                          # and headless: wall time and the service's memory
#
# Each writes its figures as JSON to $ERCS_LOAD_OUT (default $data/SCENARIO.json).
# Extra arguments after EVENTS go to the scenario (e.g. --writers 64 --rate 2000);
# $ERCS_LOAD_SECONDS and $ERCS_LOAD_CLIENTS replace the scenario's default
# duration and clients.
#
# Needs: cargo build --release -p ercs-server --bin ercs --example build-log --example load
set -euo pipefail
scenario=${1:?feed-resume, as-of, surge, mixed, dashboard, feed, soak, drill or restart}
events=${2:-0}
shift $(( $# < 2 ? $# : 2 ))
target=${CARGO_TARGET_DIR:-target}/release
data=${ERCS_LOAD_DIR:-/tmp/ercs-load-$events}
port=${ERCS_LOAD_PORT:-8181}
out=${ERCS_LOAD_OUT:-$data/$scenario.json}
base=http://127.0.0.1:$port

[ -e "$data/events.db" ] || "$target/examples/build-log" --data-dir "$data" --events "$events"

# The load generator is one client standing in for a city's many, with one
# token: the per-token and per-address limits would measure themselves.
start() {
  "$target/ercs" serve --listen "127.0.0.1:$port" --data-dir "$data" \
    --token-requests-per-second 0 --address-requests-per-second 0 --feed-connections-per-token 0 \
    >>"$data/serve.log" 2>&1 &
  pid=$!
}

# Seconds until /readyz answers 200 (at most 600).
until_ready() {
  local began=$(date +%s.%N)
  for _ in $(seq 1 60000); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" = 200 ]; then
      echo "$(date +%s.%N) - $began" | bc
      return 0
    fi
    sleep 0.01
  done
  echo "never ready" >&2
  return 1
}

# A server still answering here (an earlier run's, stopping) would take this
# run's load: refuse rather than measure it.
if curl -s -o /dev/null "$base/healthz"; then
  echo "something already answers on $base; stop it first" >&2
  exit 1
fi
start
# Waits for the stop (it saves the view and the command path's states), so the
# next run neither meets this server on the port nor races it in the directory.
trap 'kill $pid 2>/dev/null && wait $pid 2>/dev/null || true' EXIT
echo "ready after $(until_ready) s (pid $pid)"
case "$scenario" in
  feed-resume) "$target/examples/load" feed-resume --base "$base" --clients 200 --pid "$pid" ;;
  as-of) "$target/examples/load" as-of --base "$base" --clients 20 --pid "$pid" ;;
  surge) "$target/examples/load" surge --base "$base" --clients 1 --pid "$pid" ;;
  mixed) "$target/examples/load" mixed --base "$base" --clients "${ERCS_LOAD_CLIENTS:-64}" --seconds "${ERCS_LOAD_SECONDS:-60}" --pid "$pid" --out "$out" "$@" ;;
  dashboard) "$target/examples/load" dashboard --base "$base" --clients "${ERCS_LOAD_CLIENTS:-32}" --seconds "${ERCS_LOAD_SECONDS:-60}" --pid "$pid" --out "$out" "$@" ;;
  feed) "$target/examples/load" feed --base "$base" --clients "${ERCS_LOAD_CLIENTS:-1000}" --seconds "${ERCS_LOAD_SECONDS:-30}" --pid "$pid" --out "$out" "$@" ;;
  soak) "$target/examples/load" mixed --base "$base" --clients "${ERCS_LOAD_CLIENTS:-32}" --seconds "${ERCS_LOAD_SECONDS:-600}" --writers 16 --rate 1000 --read-rate 5000 --requests 10000000 --pid "$pid" --out "$out" "$@" ;;
  drill)
    token=$(grep -a '^  drill_director ' "$data/serve.log" | tail -1 | awk '{print $2}')
    rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
    json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
    echo "service alone: RSS $(rss) kB"
    for from in '"seed"' '{"live": {}}'; do
      began=$(date +%s.%N)
      id=$(curl -s -X POST "$base/api/v1/drills" -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/json' \
        -d "{\"script\": \"wanzhou-respiratory-outbreak\", \"speed\": \"max\", \"from\": $from}" | json "['drill']")
      started=$(date +%s.%N)
      until [ "$(curl -s "$base/api/v1/drills/$id" -H "Authorization: Bearer $token" | json "['state']")" = finished ]; do
        sleep 0.05
      done
      ended=$(date +%s.%N)
      echo "from $from: sandbox ready in $(echo "$started - $began" | bc) s, 47 steps over 72 h of drill time in $(echo "$ended - $started" | bc) s; RSS with the drill $(rss) kB"
      curl -s -X DELETE "$base/api/v1/drills/$id" -H "Authorization: Bearer $token" >/dev/null
      echo "  deleted: RSS $(rss) kB"
    done
    /usr/bin/time -f "headless (ercs drill run --speed max): %e s wall, %M kB max RSS" \
      "$target/ercs" drill run seeds/drills/wanzhou-respiratory-outbreak.json --speed max \
      --data-dir "$data/headless" >/dev/null
    ;;
  restart)
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    start
    echo "after kill -9: ready after $(until_ready) s"
    grep -o 'caught up[^"]*' "$data/serve.log" | tail -1 || true
    ;;
  *) echo "unknown scenario $scenario" >&2; exit 2 ;;
esac
