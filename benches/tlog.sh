#!/usr/bin/env bash
# The log at scale (issue 16), on SQLite: N codes issued through the API, then
#  - tiles served vs /healthz (wrk, 32 connections, side by side in one run),
#  - the status list of N codes (its size), and
#  - a mirror, a backup from before the N approvals put back, and `gec log recover` of the N
#    missing entries from the mirror's folder and from the mirror served over HTTP.
# Usage: bash benches/tlog.sh [N] (default 100000). Needs wrk and python3. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}"
cargo build --release --locked --quiet
BIN="$PWD/target/release/gec"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
export GEC_DATA_DIR="$WORK/data"
unset DATABASE_URL
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
elapsed() { python3 -c "print(f'{$(date +%s.%N) - $1:.1f} s')"; }
serve() {
  PORT="$(free_port)"
  "$BIN" serve --bind "127.0.0.1:$PORT" >/dev/null 2>>"$WORK/server.err" &
  SERVER_PID=$!; PIDS+=("$SERVER_PID")
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  BASE="http://127.0.0.1:$PORT"
}
stop() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; }
rate() { wrk -t2 -c32 -d"${2:-10}s" --latency "$1" | awk '/Requests\/sec/ {r=$2} /99%/ {p=$2} END {printf "%s req/s, p99 %s", r, p}'; }

mkdir -p "$GEC_DATA_DIR"
python3 benches/rows.py "$WORK/rows.csv" "$N"
echo 'bulk-password-1' | "$BIN" accounts add --role regulator --username reg >/dev/null
"$BIN" import "$WORK/rows.csv" >/dev/null 2>&1
"$BIN" backup "$WORK/before.db" 2>/dev/null

serve
TOKEN="$(curl -fs -X POST "$BASE/api/v1/login" -H 'content-type: application/json' -d '{"username":"reg","password":"bulk-password-1"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')"
echo "approving all $N submissions through the API…"
FIRST_ID=1 COUNT="$N" THREADS=2 TOKEN="$TOKEN" timeout 900 wrk -t2 -c8 -d"$(( N / 300 + 30 ))s" -s benches/wrk/approve-all.lua "$BASE" | grep -E "^approved" || true
curl -fs "$BASE/log/checkpoint" | head -2 | tail -1 | sed 's/^/log size: /'

echo "== tiles vs /healthz (32 connections, 10 s each, one after the other)"
printf '%-40s %s\n' "GET /healthz" "$(rate "$BASE/healthz")"
printf '%-40s %s\n' "GET /log/tile/0/000 (full, 8 KiB)" "$(rate "$BASE/log/tile/0/000")"
SIZE="$(curl -fs "$BASE/log/checkpoint" | sed -n 2p)"
W=$(( SIZE % 256 )); P=$(( SIZE / 256 ))
INDEX="$(python3 -c 'import sys
n = int(sys.argv[1]); g = ["%03d" % (n % 1000)]; n //= 1000
while n: g.append("x%03d" % (n % 1000)); n //= 1000
print("/".join(reversed(g)))' "$P")"
printf '%-40s %s\n' "GET /log/tile/0/$INDEX.p/$W (partial)" "$(rate "$BASE/log/tile/0/$INDEX.p/$W")"
printf '%-40s %s\n' "GET /log/tile/entries/000 (full)" "$(rate "$BASE/log/tile/entries/000")"
printf '%-40s %s\n' "GET /log/checkpoint" "$(rate "$BASE/log/checkpoint")"
printf '%-40s %s\n' "GET /healthz (again)" "$(rate "$BASE/healthz")"
curl -fs -o "$WORK/entries.bin" "$BASE/log/tile/entries/000"
curl -fs -H 'Accept-Encoding: gzip' -o "$WORK/entries.gz" "$BASE/log/tile/entries/000"
echo "entry bundle of 256: $(stat -c %s "$WORK/entries.bin") bytes, $(stat -c %s "$WORK/entries.gz") gzipped"

echo "== the status list of $N codes"
start=$(date +%s.%N); curl -fs -o "$WORK/status.cose" "$BASE/.well-known/gec/status"
echo "first request (built and signed): $(elapsed "$start"), $(stat -c %s "$WORK/status.cose") bytes"
printf '%-40s %s\n' "GET /.well-known/gec/status (cached)" "$(rate "$BASE/.well-known/gec/status" 5)"

echo "== mirror, restore, recover"
start=$(date +%s.%N); "$BIN" log mirror --server "$BASE" --dir "$WORK/mirror" >/dev/null
echo "gec log mirror of $N entries (first copy): $(elapsed "$start")"
start=$(date +%s.%N); "$BIN" log mirror --server "$BASE" --dir "$WORK/mirror" >/dev/null
echo "gec log mirror again (nothing new): $(elapsed "$start")"
stop
cp "$GEC_DATA_DIR/gec.db" "$WORK/after.db"
rm -f "$GEC_DATA_DIR"/gec.db-wal "$GEC_DATA_DIR"/gec.db-shm
cp "$WORK/before.db" "$GEC_DATA_DIR/gec.db"
serve
echo "healthz after the restore: $(curl -fs "$BASE/healthz")"
stop
start=$(date +%s.%N); "$BIN" log recover --from "$WORK/mirror" >/dev/null 2>"$WORK/recover.err"
echo "gec log recover of $N entries from the mirror's folder: $(elapsed "$start")  ($(tail -1 "$WORK/recover.err"))"
rm -f "$GEC_DATA_DIR"/gec.db-wal "$GEC_DATA_DIR"/gec.db-shm
cp "$WORK/before.db" "$GEC_DATA_DIR/gec.db"
MPORT="$(free_port)"
(cd "$WORK/mirror" && python3 -m http.server "$MPORT" --bind 127.0.0.1 >/dev/null 2>&1) & PIDS+=($!)
sleep 1
start=$(date +%s.%N); "$BIN" log recover --from "http://127.0.0.1:$MPORT" >/dev/null 2>"$WORK/recover.err" || { cat "$WORK/recover.err"; exit 1; }
echo "gec log recover of $N entries from the mirror over HTTP: $(elapsed "$start")  ($(tail -1 "$WORK/recover.err"))"
serve
echo "healthz after the recovery: $(curl -fs "$BASE/healthz")"
stop
