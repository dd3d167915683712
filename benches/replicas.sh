#!/usr/bin/env bash
# One replica against three behind nginx, on one PostgreSQL, loopback only: the rates of
# GET /healthz, POST /api/v1/verify and the scan page GET /c/{code}, 32 connections, each step
# bounded in time. On this 2-core machine three replicas cannot be faster than one (they share
# the cores); the point is that nothing breaks and what it costs. Usage:
#   bash benches/replicas.sh postgres://user@127.0.0.1:5432/empty_db
# Needs wrk and nginx (apt-get install wrk nginx-light) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
DB_URL="${1:?an empty PostgreSQL database URL}"
DURATION="${DURATION:-10}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
[ -x "$NGINX" ] || { echo "nginx is needed: apt-get install nginx-light" >&2; exit 2; }
cargo build --release --locked --quiet
BIN="$PWD/target/release/gec"
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
export GEC_DATA_DIR="$WORK" DATABASE_URL="$DB_URL"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json() { python3 -c "import sys, json; print(json.load(sys.stdin)$1)"; }
say() { printf '%-44s %s\n' "$1" "$2"; }
rate() { echo "$1" | awk '/Requests\/sec/ {print $2}'; }
p99() { echo "$1" | awk '$1 == "99%" {print $2}'; }
errors() { echo "$1" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' '; }

echo 'load-password-1' | "$BIN" accounts add --role regulator --username reg >/dev/null
PORTS=()
for i in 1 2 3; do
  p="$(port)"; PORTS+=("$p")
  "$BIN" serve --bind "127.0.0.1:$p" --trusted-proxy 127.0.0.1 >"$WORK/gec$i.out" 2>"$WORK/gec$i.err" &
  PIDS+=($!)
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$p/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
done
ONE="http://127.0.0.1:${PORTS[0]}"
PROXY_PORT="$(port)"
cat >"$WORK/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/body; proxy_temp_path $WORK/proxy;
  fastcgi_temp_path $WORK/fcgi; uwsgi_temp_path $WORK/uwsgi; scgi_temp_path $WORK/scgi;
  upstream gec {
    least_conn;
    server 127.0.0.1:${PORTS[0]}; server 127.0.0.1:${PORTS[1]}; server 127.0.0.1:${PORTS[2]};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$PROXY_PORT;
    location / {
      proxy_pass http://gec; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
  }
}
CONF
"$NGINX" -c "$WORK/nginx.conf" -p "$WORK"
THREE="http://127.0.0.1:$PROXY_PORT"
for _ in $(seq 50); do curl -fs "$THREE/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

# One firm with a code, issued through the proxy.
TOKEN="$(curl -fs -X POST "$THREE/api/v1/login" -H 'content-type: application/json' -d '{"username":"reg","password":"load-password-1"}' | json "['token']")"
USCC="$(python3 -c "
alpha='0123456789ABCDEFGHJKLMNPQRTUWXY'; w=[1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28]
s='91500000MA0000001'; print(s + alpha[(31 - sum(alpha.index(c)*w[i] for i,c in enumerate(s)) % 31) % 31])")"
curl -fs -X POST "$THREE/api/v1/firms" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d "{\"uscc\":\"$USCC\",\"name\":\"压测企业\",\"industry_code\":\"3670\",\"district\":\"渝北区\"}" >/dev/null
ID="$(curl -fs -X POST "$THREE/api/v1/assessments" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d "{\"uscc\":\"$USCC\",\"period\":2025,\"value_added_10k_cny\":\"52000\",\"energy\":[{\"carrier\":\"electricity_kwh\",\"quantity\":\"41000000\"}],\"waste\":{\"generated_t\":\"3200\",\"stock_utilized_t\":\"0\",\"utilized_t\":\"3000\"}}" | json "['id']")"
URL="$(curl -fs -X POST "$THREE/api/v1/assessments/$ID/approve" -H "Authorization: Bearer $TOKEN" | json "['url']")"
SCAN="/c/${URL##*/C/}"

for target in "one replica|$ONE" "three replicas behind nginx|$THREE"; do
  name="${target%%|*}"; base="${target#*|}"
  echo "== $name, $DURATION s each, 32 connections, 2 threads"
  health="$(wrk -t2 -c32 -d"${DURATION}s" --latency "$base/healthz")"
  verify="$(CODE=$URL wrk -t2 -c32 -d"${DURATION}s" --latency -s benches/wrk/verify.lua "$base/api/v1/verify")"
  scan="$(wrk -t2 -c32 -d"${DURATION}s" --latency "$base$SCAN")"
  say "GET /healthz" "$(rate "$health") req/s, p99 $(p99 "$health") $(errors "$health")"
  say "POST /api/v1/verify" "$(rate "$verify") req/s, p99 $(p99 "$verify") $(errors "$verify")"
  say "GET /c/{code}" "$(rate "$scan") req/s, p99 $(p99 "$scan") $(errors "$scan")"
done
