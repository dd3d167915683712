#!/usr/bin/env bash
# 数据直连 on SQLite: a power company delivers monthly electricity readings through
# `POST /api/v1/readings` — BATCHES batches of 200,000 rows (the most one batch takes), new
# readings, then the first batch again (a replay: every row unchanged). Prints rows per second
# and the server's peak RSS. Usage: bash benches/readings.sh [BATCHES]   (target ≥ 50,000 rows/s)
set -euo pipefail
cd "$(dirname "$0")/.."
BATCHES="${1:-3}"
cargo build --release --locked --quiet
BIN="$PWD/target/release/gec"
WORK="$(mktemp -d)"
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
export GEC_DATA_DIR="$WORK"
unset DATABASE_URL
python3 - "$WORK" "$BATCHES" <<'PY'
import random, sys
work, batches = sys.argv[1], int(sys.argv[2])
chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
def uscc(n):
    s = f"91500000MA{n:07d}"
    t = sum(chars.index(c) * w for c, w in zip(s, weights))
    return s + chars[(31 - t % 31) % 31]
firm = 1
for b in range(batches):
    with open(f"{work}/batch{b}.csv", "w") as f:
        f.write("uscc,period,field,quantity,reference\r\n")
        rows = 0
        while rows < 200_000:
            u = uscc(firm)
            for m in range(1, 13):
                if rows == 200_000:
                    break
                f.write(f"{u},2025-{m:02d},electricity_kwh,{random.randint(10_000, 2_000_000)},DB-{firm:07d}\r\n")
                rows += 1
            firm += 1
PY
echo 'bench-password-1' | "$BIN" accounts add --role source --username grid --org 国网 --fields electricity_kwh >/dev/null
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$BIN" serve --bind "127.0.0.1:$PORT" >/dev/null 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
TOKEN="$(curl -fs -X POST "http://127.0.0.1:$PORT/api/v1/login" -H 'content-type: application/json' -d '{"username":"grid","password":"bench-password-1"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')"
deliver() {
  local file="$1" what="$2" start end
  start=$(date +%s.%N)
  curl -fs -X POST "http://127.0.0.1:$PORT/api/v1/readings" -H "authorization: Bearer $TOKEN" \
    -H 'content-type: text/csv' --data-binary "@$file" -o "$WORK/receipt.json"
  end=$(date +%s.%N)
  python3 - "$start" "$end" "$WORK/receipt.json" "$what" <<'PY'
import json, sys
start, end, path, what = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
r = json.load(open(path))["receipt"]
print(f"{what:<44} {r['rows']:>7} rows in {end - start:5.1f} s = {r['rows'] / (end - start):>8,.0f} rows/s "
      f"(new {r['created']}, unchanged {r['unchanged']})")
PY
}
for b in $(seq 0 $((BATCHES - 1))); do deliver "$WORK/batch$b.csv" "batch $((b + 1)) of new readings"; done
deliver "$WORK/batch0.csv" "batch 1 again (a replay)"
echo "server peak RSS: $(awk '/VmHWM/ {printf "%.0f MB", $2/1024}' /proc/$SERVER_PID/status)"
