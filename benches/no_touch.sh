#!/usr/bin/env bash
# 无感申报 at scale on SQLite: N firms registered through `gec import` (their 2024 figures), a
# year of figures for 2025 delivered by two data sources through `POST /api/v1/readings` (the grid
# one yearly electricity reading per firm; the statistics bureau value added, waste generated and
# utilised), then `gec no-touch --year 2025` files every firm from the attested figures alone.
# Prints each step's time and the filing's peak RSS. Usage: bash benches/no_touch.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}"
cargo build --release --locked --quiet
BIN="$PWD/target/release/gec"
WORK="$(mktemp -d)"
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
export GEC_DATA_DIR="$WORK"
unset DATABASE_URL
took() { python3 -c "print(f'{$(date +%s.%N) - $1:.1f} s')"; }
python3 benches/rows.py "$WORK/rows.csv" "$N"
sed -i 's/,2025,2026-03-31,/,2024,2025-03-31,/' "$WORK/rows.csv"
start=$(date +%s.%N)
"$BIN" import "$WORK/rows.csv" >/dev/null 2>&1
printf '%-58s %s\n' "gec import of $N firms (their 2024 figures)" "$(took "$start")"
python3 - "$WORK" "$N" <<'PY'
import random, sys
work, n = sys.argv[1], int(sys.argv[2])
random.seed(7)
alpha = "0123456789ABCDEFGHJKLMNPQRTUWXY"; w = [1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28]
def uscc(i):
    s = "91500000MA" + "%07d" % i
    return s + alpha[(31 - sum(alpha.index(c) * w[k] for k, c in enumerate(s)) % 31) % 31]
head = "uscc,period,field,quantity,reference\r\n"
grid = [head]; stats = [[head]]
for i in range(n):
    u = uscc(i)
    grid.append(f"{u},2025,electricity_kwh,{random.randint(10**5, 9*10**7)},DB-{i:07d}\r\n")
    g = random.randint(0, 9000)
    for row in (f"{u},2025,value_added_10k_cny,{random.randint(500, 200000)},205-1-{i}\r\n",
                f"{u},2025,waste_generated_t,{g},205-1-{i}\r\n",
                f"{u},2025,waste_utilized_t,{random.randint(0, g)},205-1-{i}\r\n"):
        if len(stats[-1]) > 199_998:
            stats.append([head])
        stats[-1].append(row)
for b in range(0, len(grid) - 1, 200_000):
    open(f"{work}/grid{b // 200_000}.csv", "w").write(head + "".join(grid[1 + b:1 + b + 200_000]))
for k, part in enumerate(stats):
    open(f"{work}/stats{k}.csv", "w").write("".join(part))
PY
echo 'bench-password-1' | "$BIN" accounts add --role source --username grid --org 国网重庆市电力公司 --fields electricity_kwh >/dev/null
echo 'bench-password-1' | "$BIN" accounts add --role source --username stats --org 重庆市统计局 --fields value_added_10k_cny,waste_generated_t,waste_utilized_t >/dev/null
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$BIN" serve --bind "127.0.0.1:$PORT" >/dev/null 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
token() { curl -fs -X POST "http://127.0.0.1:$PORT/api/v1/login" -H 'content-type: application/json' -d "{\"username\":\"$1\",\"password\":\"bench-password-1\"}" | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])'; }
start=$(date +%s.%N)
for who in grid stats; do
  TOKEN="$(token $who)"
  for f in "$WORK"/$who*.csv; do
    curl -fs -X POST "http://127.0.0.1:$PORT/api/v1/readings" -H "authorization: Bearer $TOKEN" \
      -H 'content-type: text/csv' --data-binary "@$f" -o /dev/null
  done
done
printf '%-58s %s\n' "readings of $N firms delivered ($((N * 4)) rows)" "$(took "$start")"
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
start=$(date +%s.%N)
/usr/bin/time -f '%M' -o "$WORK/rss" "$BIN" no-touch --year 2025 >"$WORK/report.json" 2>"$WORK/no-touch.err"
printf '%-58s %s\n' "gec no-touch --year 2025 of $N firms" "$(took "$start")   ($(( $(cat "$WORK/rss") / 1024 )) MB peak RSS)"
tail -1 "$WORK/no-touch.err"
python3 -c "
import json; r = json.load(open('$WORK/report.json'))
print('filed:', len(r['filed']), ' incomplete:', len(r['incomplete']), ' already filed:', r['already_filed'])"
