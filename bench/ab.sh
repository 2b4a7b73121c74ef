#!/usr/bin/env bash
# bench/ab.sh REV [ROUNDS] — sioserver at git revision REV against the working tree, same load generator, the two
# server builds taking turns (old new, new old, ...; a fresh process for every case), over 127.0.0.1 only.
# A quick run (bench/run.sh --quick) measures each server once, minutes apart, and on a shared machine the same
# binary moves by more than 10% between such runs; taking turns puts the two builds under the same conditions.
# Prints the median of the rounds per case; raw lines go to bench/out/ab-raw.jsonl. Builds what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:?usage: bash bench/ab.sh REV [ROUNDS]}
ROUNDS=${2:-4}
BUILD=build
OLD=$BUILD/ab-old
NEW=$BUILD/ab-new  # not build/sio_bench: bench/run.sh builds that one with the admin add-on and would keep this one
OUT=bench/out
mkdir -p "$OLD/bench/servers" "$NEW" "$OUT"
HTTPLIB="$(pkg-config --cflags --libs cpp-httplib)"
OPENSSL="$(pkg-config --libs openssl)"  # sio_bench's --tls-cert, the load generator's --transport wss
git show "$REV:sioserver.hpp" >"$OLD/sioserver.hpp"
git show "$REV:bench/servers/sio_bench.cpp" >"$OLD/bench/servers/sio_bench.cpp"
g++ -std=c++17 -O2 -DNDEBUG -o "$OLD/sio_bench" "$OLD/bench/servers/sio_bench.cpp" $HTTPLIB -pthread $OPENSSL &
g++ -std=c++17 -O2 -DNDEBUG -o "$NEW/sio_bench" bench/servers/sio_bench.cpp $HTTPLIB -pthread $OPENSSL &
g++ -std=c++17 -O2 -g -Ibench -o $BUILD/loadgen bench/loadgen.cpp $OPENSSL &
wait
RAW=$OUT/ab-raw.jsonl
: >"$RAW"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
source bench/server_control.sh
trap stop_server EXIT
one() {  # label binary round loadgen-arguments...
  local label=$1 bin=$2 round=$3
  shift 3
  start_server $OUT/ab-server.log "$bin"
  sleep 0.3
  timeout 120 $BUILD/loadgen --port "$PORT" --server-pid "$SERVER_PID" --server-name "$label" --round "$round" "$@" \
    >>"$RAW" 2>>$OUT/ab-loadgen.log || echo "  $label round $round: the load generator failed ($*)" >&2
  stop_server
}
for r in $(seq 1 "$ROUNDS"); do
  order="old new"
  [ $((r % 2)) = 0 ] && order="new old"
  echo "round $r of $ROUNDS ($order)"
  for v in $order; do
    bin=$NEW/sio_bench
    [ "$v" = old ] && bin=$OLD/sio_bench
    one "$v" "$bin" "$r" --scenario fanout --clients 100 --warmup 0.3 --phases rate:100:1.5,window:64:1.5
    one "$v" "$bin" "$r" --scenario fanout --clients 1000 --warmup 0.3 --phases rate:20:1.5,window:8:1.5
    one "$v" "$bin" "$r" --scenario fanout --transport polling --clients 100 --warmup 0.3 --phases rate:50:1.5,window:16:1.5
    one "$v" "$bin" "$r" --scenario ack --clients 100 --warmup 0.3 --phases ack:1:1.5
  done
done
node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(JSON.parse);
const med = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const cases = new Map();
for (const r of rows) {
  const k = `${r.scenario} ${r.transport} C=${r.clients} ${r.phase === "rate" ? `fixed ${r.param} msg/s: p99 ms` : `${r.phase} ${r.param}: per s`}`;
  if (!cases.has(k)) cases.set(k, { old: [], new: [] });
  cases.get(k)[r.server].push(r.phase === "rate" ? r.p99_us / 1000 : r.delivered_per_s);
}
console.log(`| case | ${process.argv[2]} (median) | working tree (median) | new/old |\n|---|---|---|---|`);
for (const [k, v] of cases) {
  const o = med(v.old), n = med(v.new);
  console.log(`| ${k} | ${o.toFixed(k.endsWith("ms") ? 2 : 0)} | ${n.toFixed(k.endsWith("ms") ? 2 : 0)} | ${(n / o).toFixed(2)} |`);
}' "$RAW" "$REV"
