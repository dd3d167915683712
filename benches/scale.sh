#!/usr/bin/env bash
# The public path as the data grows (issue 17), on SQLite: the scan page, verify and the QR image
# of a small database (1,000 firms with codes, a log of 1,000 entries; and the same behind 65,536
# padding entries, so that its codes are as long as the large one's) beside a large one
# (100,000 firms with codes, a log of 1,000,000 entries: 900,000 padding entries appended by
# `benches/fill_log.rs` through the store's append path, then the 100,000 codes issued through
# the API). Each rate: wrk, DURATION s; one code again and again at 32 connections (the kept
# page, answer and image), and 1,000 codes in rotation on one connection (scan pages and verify
# answers are kept for at most a second, so nearly every request of the rotation reads the
# database); and the first render of three QR images. Usage: bash benches/scale.sh. Needs wrk
# and python3. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10}"
ROTATE=1000
cargo build --release --locked --quiet
cargo bench --locked --no-run --bench fill_log 2>/dev/null
BIN="$PWD/target/release/gec"
FILL="$(ls -t target/release/deps/fill_log-* | grep -v '\.d$' | head -1)"
WORK="$(mktemp -d)"
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
unset DATABASE_URL
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rate() { awk '/Requests\/sec/ {r=$2} /50%/ {m=$2} /99%/ {p=$2} /^not_ok/ {n=$2} END {printf "%s req/s, p50 %s, p99 %s%s", r, m, p, (n > 0 ? ", " n " not 200" : "")}'; }

# case LABEL FIRMS PADDING: prepares a database, measures, prints one line per figure.
case_() {
  local label="$1" firms="$2" padding="$3"
  export GEC_DATA_DIR="$WORK/$label"; mkdir -p "$GEC_DATA_DIR"
  local started=$SECONDS
  if [ "$padding" -gt 0 ]; then
    GEC_FILL_DATABASE="sqlite://$GEC_DATA_DIR/gec.db?mode=rwc" GEC_FILL_ENTRIES="$padding" "$FILL" >/dev/null
  fi
  python3 benches/rows.py "$WORK/$label.csv" "$firms"
  echo 'scale-password-1' | "$BIN" accounts add --role regulator --username reg >/dev/null
  "$BIN" import "$WORK/$label.csv" >/dev/null 2>&1
  local port; port="$(free_port)"; BASE="http://127.0.0.1:$port"
  "$BIN" serve --bind "127.0.0.1:$port" >/dev/null 2>"$WORK/$label.err" &
  SERVER_PID=$!
  for _ in $(seq 150); do curl -fs "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  local token first
  token="$(curl -fs -X POST "$BASE/api/v1/login" -H 'content-type: application/json' -d '{"username":"reg","password":"scale-password-1"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')"
  first="$(curl -fs "$BASE/api/v1/assessments?status=submitted&limit=1" -H "Authorization: Bearer $token" | python3 -c 'import sys,json; print(json.load(sys.stdin)["items"][0]["id"])')"
  FIRST_ID="$first" COUNT="$firms" THREADS=2 TOKEN="$token" wrk -t2 -c8 -d"$(( firms / 400 + 15 ))s" -s benches/wrk/approve-all.lua "$BASE" | grep -E "^approved" | sed "s/^/$label: /"
  local size; size="$(curl -fs "$BASE/log/checkpoint" | sed -n 2p)"
  echo "$label: $(( size - padding )) firms with codes, log of $size entries, prepared in $(( SECONDS - started )) s"
  # ROTATE codes spread over the issued serials (padding first, then the codes).
  python3 - "$BASE" "$padding" "$(( size - padding ))" "$ROTATE" "$WORK/$label" <<'PY'
import http.client, json, sys, urllib.parse
base, padding, codes, rotate, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
host = urllib.parse.urlparse(base).netloc
conn = http.client.HTTPConnection(host)
urls = []
for k in range(rotate):
    serial = padding + k * codes // rotate
    conn.request("GET", "/api/v1/codes/%d" % serial)
    r = conn.getresponse(); body = r.read()
    assert r.status == 200, (serial, r.status, body[:200])
    urls.append((serial, json.loads(body)["url"]))
with open(out + ".scan", "w") as f:
    f.writelines("/c/%s\n" % u.split("/C/", 1)[1] for _, u in urls)
with open(out + ".verify", "w") as f:
    f.writelines(u + "\n" for _, u in urls)
with open(out + ".qr", "w") as f:
    f.writelines("/api/v1/codes/%d/qr.png\n" % s for s, _ in urls)
for kind in ("scan", "verify", "qr"):
    with open(out + "." + kind) as src, open(out + "." + kind + "1", "w") as one:
        one.write(src.readline())
PY
  local times=""
  for serial in $(( size - 1 )) $(( size - 2 )) $(( size - 3 )); do
    times="$times $(curl -fs -o /dev/null -w '%{time_total}' "$BASE/api/v1/codes/$serial/qr.png")"
  done
  printf '%-44s %s\n' "$label first render of a QR PNG (3 codes)" "$(python3 -c "import sys; print(' '.join(f'{float(t)*1000:.1f} ms' for t in sys.argv[1:]))" $times)"
  local w="wrk -t2 -c32 -d${DURATION}s --latency -s benches/wrk/many.lua $BASE"
  local one="wrk -t1 -c1 -d${DURATION}s --latency -s benches/wrk/many.lua $BASE"
  printf '%-44s %s\n' "$label GET /healthz" "$(wrk -t2 -c32 -d"${DURATION}s" --latency "$BASE/healthz" | rate)"
  printf '%-44s %s\n' "$label scan page, one code" "$(LINES="$WORK/$label.scan1" MODE=get $w | rate)"
  printf '%-44s %s\n' "$label verify, one code" "$(LINES="$WORK/$label.verify1" MODE=verify $w | rate)"
  printf '%-44s %s\n' "$label QR PNG, one code" "$(LINES="$WORK/$label.qr1" MODE=get $w | rate)"
  # One connection over ROTATE codes: each code comes round about once a second, so nearly
  # every scan page is rendered from the database and every verification reads its record.
  printf '%-44s %s\n' "$label scan page, $ROTATE codes, 1 connection" "$(LINES="$WORK/$label.scan" MODE=get $one | rate)"
  printf '%-44s %s\n' "$label verify, $ROTATE codes, 1 connection" "$(LINES="$WORK/$label.verify" MODE=verify $one | rate)"
  printf '%-44s %s\n' "$label GET /healthz (again)" "$(wrk -t2 -c32 -d"${DURATION}s" --latency "$BASE/healthz" | rate)"
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
}

case_ small 1000 0
# The same small database behind 65,536 padding entries: its codes' serials take as many bytes
# as the large one's (CBOR: 5 bytes from 65,536 on), so its codes, QR images and pages are as
# long, and the comparison with the large database is of the data alone.
case_ small-long 1000 65536
case_ large 100000 900000
