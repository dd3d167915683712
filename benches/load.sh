#!/usr/bin/env bash
# Measures the service under load, on loopback only, every step bounded in time, and prints each
# figure with its target. Usage:
#   bash benches/load.sh                         # SQLite in a temporary folder
#   bash benches/load.sh postgres://user@host/db # an empty PostgreSQL database
# Needs wrk (apt-get install wrk) and python3. Figures for BENCHMARKS.md come from this script.
set -euo pipefail
cd "$(dirname "$0")/.."
DB_URL="${1:-}"
DURATION="${DURATION:-10}"       # seconds per rate measurement
MIXED_DURATION="${MIXED_DURATION:-60}"
SUBMISSIONS="${SUBMISSIONS:-80000}"   # enough that the mixed load never runs out of submissions

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
cargo build --release --locked --quiet
BIN="$PWD/target/release/gec"
WORK="$(mktemp -d)"
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
export GEC_DATA_DIR="$WORK"
if [ -n "$DB_URL" ]; then export DATABASE_URL="$DB_URL"; else unset DATABASE_URL; fi
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
DB_NAME="${DB_URL:+PostgreSQL}"; DB_NAME="${DB_NAME:-SQLite}"

say() { printf '%-58s %s\n' "$1" "$2"; }
json() { python3 -c "import sys, json; print(json.load(sys.stdin)$1)"; }

echo "== preparing ($DB_NAME): accounts and $SUBMISSIONS submissions"
echo 'load-password-1' | "$BIN" accounts add --role regulator --username reg >/dev/null
echo 'load-password-1' | "$BIN" accounts add --role bank --username bank >/dev/null
python3 - "$WORK/rows.csv" "$SUBMISSIONS" <<'PY'
import random, sys
random.seed(7)
alpha = "0123456789ABCDEFGHJKLMNPQRTUWXY"; w = [1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28]
def uscc(n):
    s = "91500000MA" + "%07d" % n
    return s + alpha[(31 - sum(alpha.index(c) * w[i] for i, c in enumerate(s)) % 31) % 31]
carriers = ["electricity_kwh","raw_coal_t","washed_coal_t","coke_t","crude_oil_t","fuel_oil_t","gasoline_t","kerosene_t","diesel_t","lpg_t","natural_gas_m3","heat_gj"]
with open(sys.argv[1], "w") as f:
    f.write("uscc,name,industry_code,district,period,assessed_on,value_added_10k_cny," + ",".join(carriers) + ",waste_generated_t,waste_stock_utilized_t,waste_utilized_t\n")
    for n in range(int(sys.argv[2])):
        e = [""] * 12; e[0] = str(random.randint(10**5, 9*10**7)); e[10] = str(random.randint(0, 2*10**6))
        g = random.randint(0, 9000); u = random.randint(0, g)
        f.write(",".join([uscc(n), "企业%d" % n, ["3670","2614","3982","1310"][n % 4], ["渝北区","长寿区","璧山区"][n % 3], "2025", "2026-03-31", str(random.randint(500, 200000))] + e + [str(g), "0", str(u)]) + "\n")
PY
"$BIN" import "$WORK/rows.csv" >/dev/null 2>&1

"$BIN" serve --bind "127.0.0.1:$PORT" >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
login() { curl -fs -X POST "$BASE/api/v1/login" -H 'content-type: application/json' -d "{\"username\":\"$1\",\"password\":\"load-password-1\"}" | json "['token']"; }
TOKEN="$(login reg)"; BANK="$(login bank)"
FIRST_ID="$(curl -fs "$BASE/api/v1/assessments?status=submitted&limit=1" -H "Authorization: Bearer $TOKEN" | json "['items'][0]['id']")"

echo "== approvals (grade + sign + log append + store), $DURATION s, 8 connections"
APPROVALS=$((SUBMISSIONS / 2))
out="$(FIRST_ID=$FIRST_ID COUNT=$APPROVALS THREADS=2 TOKEN=$TOKEN wrk -t2 -c8 -d"${DURATION}s" -s benches/wrk/approve.lua "$BASE" 2>&1)"
approved="$(echo "$out" | awk '/^approved/ {print $2}')"
say "approvals per second ($DB_NAME)" "$(python3 -c "print(round($approved / $DURATION))") /s   (target ≥ 300)"

CODE="$(curl -fs "$BASE/api/v1/codes/0" | json "['url']")"
echo "== verify vs healthz, $DURATION s each, 32 connections, 2 threads"
rate() { echo "$1" | awk '/Requests\/sec/ {print $2}'; }
p99() { echo "$1" | awk '$1 == "99%" {print $2}'; }
health="$(wrk -t2 -c32 -d"${DURATION}s" --latency "$BASE/healthz")"
verify="$(CODE=$CODE wrk -t2 -c32 -d"${DURATION}s" --latency -s benches/wrk/verify.lua "$BASE/api/v1/verify")"
say "GET /healthz" "$(rate "$health") req/s, p99 $(p99 "$health")"
say "POST /api/v1/verify" "$(rate "$verify") req/s, p99 $(p99 "$verify")"
say "verify / healthz" "$(python3 -c "print(f'{$(rate "$verify") / $(rate "$health"):.0%}')")   (target ≥ 50 %, p99 ≤ 20 ms)"

echo "== bulk verification of 1,000 codes (median of 15 calls)"
python3 - "$BASE" "$BANK" "$CODE" <<'PY'
import json, statistics, sys, time, urllib.request
base, token, code = sys.argv[1:4]
body = json.dumps({"codes": [code] * 1000}).encode()
times = []
for _ in range(15):
    req = urllib.request.Request(base + "/api/v1/verify/bulk", data=body, headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
    start = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        results = json.load(r)["results"]
    times.append((time.perf_counter() - start) * 1000)
    assert len(results) == 1000 and all(x["valid"] for x in results)
print("%-58s %.1f ms   (target ≤ 100 ms)" % ("POST /api/v1/verify/bulk, 1,000 codes", statistics.median(times)))
PY

echo "== QR PNG over HTTP, cached, $DURATION s"
qr="$(wrk -t2 -c32 -d"${DURATION}s" "$BASE/api/v1/codes/0/qr.png")"
say "GET /api/v1/codes/0/qr.png (cached)" "$(rate "$qr") req/s   (target ≥ 2,000)"
first="$(curl -fs -o /dev/null -w '%{time_total}' "$BASE/api/v1/codes/1/qr.png")"
say "first render of a QR PNG over HTTP (whole request)" "$(python3 -c "print(f'{$first*1000:.1f} ms')")   (target ≤ 5 ms)"

echo "== mixed load: 64 clients, $MIXED_DURATION s (verify, scan pages, previews, approvals)"
PREVIEW="$(python3 -c "import json; print(json.dumps({'uscc':'91500000MA0000001'+'X','period':2025,'value_added_10k_cny':'1000','energy':[{'carrier':'electricity_kwh','quantity':'100000'}],'waste':{'generated_t':'0','stock_utilized_t':'0','utilized_t':'0'}}))")"
PREVIEW_USCC="$(python3 -c "
alpha='0123456789ABCDEFGHJKLMNPQRTUWXY'; w=[1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28]
s='91500000MA'+'%07d'%1; print(s+alpha[(31-sum(alpha.index(c)*w[i] for i,c in enumerate(s))%31)%31])")"
PREVIEW="${PREVIEW/91500000MA0000001X/$PREVIEW_USCC}"
mixed="$(FIRST_ID=$((FIRST_ID + APPROVALS)) COUNT=$((SUBMISSIONS - APPROVALS)) THREADS=2 TOKEN=$TOKEN CODE=$CODE PREVIEW=$PREVIEW \
  wrk -t2 -c64 -d"${MIXED_DURATION}s" --latency -s benches/wrk/mixed.lua "$BASE")"
say "mixed load" "$(rate "$mixed") req/s, p99 $(p99 "$mixed")"
say "mixed load: answers by status" "$(echo "$mixed" | awk '/^statuses/ {$1=""; print}')"
say "mixed load: 5xx answers" "$(echo "$mixed" | awk '/^server_errors/ {print $2}')   (target 0)"
say "\"database is locked\" in the server's log" "$(grep -c 'database is locked' "$WORK/server.err" || true)   (target 0)"
say "server resident memory, peak (VmHWM)" "$(awk '/VmHWM/ {printf "%.0f MB", $2/1024}' /proc/$SERVER_PID/status)   (target ≤ 150 MB)"
