#!/usr/bin/env bash
# bench/run.sh [--quick] [--pin] [--list] [--cluster|--wss] — sioserver (bench/servers/sio_bench.cpp) against Node's socket.io 4.8
# (bench/servers/node_bench.js), same protocol, same load, on this machine, over 127.0.0.1 only; then a cluster of two
# sioserver nodes (bench/servers/sio_cluster_bench.cpp, sioserver_redis.hpp) against two Node nodes
# (bench/servers/node_cluster_bench.js, @socket.io/redis-adapter), each pair with its own redis-server
# (bench/cluster_control.sh).
#
# Builds what it needs (build/loadgen, build/sio_bench, build/bench_unit_tests, build/thread_cost, build/floor_server),
# installs what is missing (Debian packages with apt-get when run as root, npm packages from the lockfile), then for
# every scenario runs the servers alternately (sio node sio node ...: ROUNDS rounds, a fresh server process each
# time) and reports the median of the rounds in bench/RESULTS.md, with bench/results.png (latency against offered
# rate).
# The floor: build/floor_server, built at every run from FLOOR_SRC (default ../shared/floor/floor_server.cpp beside
# the repository, never copied into it): a one-thread epoll relay doing the least work any server can do for the
# plain WebSocket scenarios (fan-out over ws, ack, connections). There each round runs sio, node, floor-A, floor-B
# (`--mode A`: one send() per recipient per message; `--mode B`: gathered per epoll wake-up), and the report gives
# the better of the two modes beside each row, with sio/floor and node/floor. Without FLOOR_SRC the bench runs
# without it (the floor column says n/a). No floor for polling, wss, the variants or the cluster (it has none of them).
#   full run : 3 rounds, fan-out C=100/1000/5000, fan-out over wss C=100/1000, fan-out C=1000 with connection state
#              recovery on (and its recovery-off twin), ack C=100, 10,000 connections, polling C=100,
#              cluster C=1000; with the floor                                                    (~20 min, < 25)
#   --quick  : 1 round, shorter phases, fan-out C=100/1000, fan-out over wss C=100, recovery C=1000, 2,000
#              connections, cluster C=500; with the floor                                        (~3 min, < 4)
#   both also run bench/thread_cost.cpp once per round (2,000 threads, 64 KiB stacks: what a thread per connection
#   itself costs here, no server, no load generator; its JSON line goes to the raw file like the load generator's)
#   --pin    : server on CPU 0, load generator on CPU 1 (default: the scheduler decides); in the cluster both
#              nodes and Redis on CPU 0
#   --list   : only write the exact load generator commands to bench/out/commands-<mode>.txt and print them
#   --cluster: only the cluster scenario; its report goes to bench/out/RESULTS-cluster-<mode>.md (raw data to
#              bench/out/raw-cluster-<mode>.jsonl), bench/RESULTS.md and the chart are left as they are
#   --wss    : only the fan-out over wss, the same way: bench/out/RESULTS-wss-<mode>.md, raw-wss-<mode>.jsonl
# Fan-out over wss: both servers serve https/wss with one self-signed certificate (EC P-256, for IP 127.0.0.1) that
# openssl makes into bench/out/tls/ at every run; the load generator's clients trust it as their CA
# (`--transport wss --ca`) and verify it in every handshake. The load is the WebSocket fan-out's, TLS under it.
# Raw results (one JSON line per measured phase) go to bench/out/raw-<mode>.jsonl, logs to bench/out/*.log.
#
# Variants: a variant is the same bench server with one feature switched on, under the same load (variant_env below
# gives its environment; "base" is none). `compare VARIANT ...` runs, in each round and for each server, the base
# and the variant back to back, in turn first (ABBA over the rounds), and the load generator labels their JSON lines
# "variant":"base"|VARIANT, "series":VARIANT, so report.mjs compares each variant with the base run beside it, not
# with the main table's rows (those are "series":"main"). Today: recovery (connection state recovery on,
# BENCH_RECOVERY=1 read by both servers) and admin (the admin UI's instrumentation in production mode,
# `--admin production`, with bench/admin_watch.mjs connected as the dashboard would be: run_case starts it after
# the server and stops it by its PID first). Another one is a branch in variant_env and a compare line below.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
ONLY_CLUSTER=0
ONLY_WSS=0
PIN=0
LIST=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --pin) PIN=1 ;;
    --list) LIST=1 ;;
    --cluster) ONLY_CLUSTER=1 ;;
    --wss) ONLY_WSS=1 ;;
    *) echo "usage: bash bench/run.sh [--quick] [--pin] [--list] [--cluster|--wss]" >&2; exit 2 ;;
  esac
done

BUILD=build
OUT=bench/out
MODE=$([ $QUICK = 1 ] && echo quick || echo full)
RUN=$MODE
[ $ONLY_CLUSTER = 1 ] && RUN=cluster-$MODE
[ $ONLY_WSS = 1 ] && RUN=wss-$MODE
if [ $ONLY_CLUSTER = 1 ] && [ $ONLY_WSS = 1 ]; then echo "bench/run.sh: --cluster or --wss, not both" >&2; exit 2; fi
TLS_DIR=$OUT/tls
RAW=$OUT/raw-$RUN.jsonl
LGLOG=$OUT/loadgen-$RUN.log
CMDS=$OUT/commands-$RUN.txt
T_START=$(date +%s)
FLOOR_SRC=${FLOOR_SRC:-../shared/floor/floor_server.cpp}  # relative to the repository's root (run.sh cd's there)
FLOOR=0                                                    # 1: the floor runs beside sio and node (see the header)
[ -f "$FLOOR_SRC" ] && FLOOR=1
mkdir -p "$BUILD" "$OUT"
: >"$CMDS"
if [ $LIST = 0 ]; then
  : >"$RAW"
  : >"$LGLOG"
fi

say() { printf '[bench %4ds] %s\n' $(( $(date +%s) - T_START )) "$*"; }

if [ $LIST = 0 ]; then
# ---- what the benchmark needs ----------------------------------------------------------------------------------------
need_debs=""
for p in g++ make pkg-config libcpp-httplib-dev picojson-dev doctest-dev gnuplot-nox util-linux \
         redis-server redis-tools libhiredis-dev libmsgpack-cxx-dev libssl-dev openssl; do
  dpkg -s "$p" >/dev/null 2>&1 || need_debs="$need_debs $p"
done
command -v node >/dev/null 2>&1 || need_debs="$need_debs nodejs"
command -v npm >/dev/null 2>&1 || need_debs="$need_debs npm"
if [ -n "$need_debs" ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian packages:$need_debs"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need_debs >/dev/null
  else
    echo "missing Debian packages. Run:  sudo apt-get install -y$need_debs" >&2
    exit 1
  fi
fi
if [ ! -f node_modules/socket.io/package.json ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund >/dev/null
fi

# ---- builds (in parallel; each only when its sources changed) --------------------------------------------------------
HTTPLIB="$(pkg-config --cflags --libs cpp-httplib)"
OPENSSL="$(pkg-config --libs openssl)"  # the load generator's wss clients, sio_bench's opt.tls
newer() { local target=$1; shift; [ ! -e "$target" ] && return 0; for s in "$@"; do [ "$s" -nt "$target" ] && return 0; done; return 1; }
pids=()
if newer $BUILD/loadgen bench/loadgen.cpp bench/loadgen_protocol.hpp; then
  # shellcheck disable=SC2086
  g++ -std=c++17 -O2 -g -Wall -Wextra -Wshadow -Wconversion -Wsign-conversion -Werror -Ibench -o $BUILD/loadgen \
    bench/loadgen.cpp $OPENSSL & pids+=($!)
fi
if newer $BUILD/sio_bench bench/servers/sio_bench.cpp sioserver.hpp sioserver_admin.hpp; then
  # shellcheck disable=SC2086
  # With the admin add-on compiled in (it does nothing until --admin): the admin variant is the same binary.
  g++ -std=c++17 -O2 -DNDEBUG -DSIO_BENCH_ADMIN -o $BUILD/sio_bench bench/servers/sio_bench.cpp $HTTPLIB -pthread \
    -lcrypt $OPENSSL & pids+=($!)
fi
# The C++ cluster node needs sioserver_redis.hpp; without it the cluster table has Node's column only.
if [ -f sioserver_redis.hpp ] &&
   newer $BUILD/sio_cluster_bench bench/servers/sio_cluster_bench.cpp sioserver.hpp sioserver_redis.hpp; then
  # shellcheck disable=SC2086
  g++ -std=c++17 -O2 -DNDEBUG -DMSGPACK_NO_BOOST -o $BUILD/sio_cluster_bench bench/servers/sio_cluster_bench.cpp \
    $HTTPLIB -lhiredis -pthread & pids+=($!)
fi
if newer $BUILD/bench_unit_tests bench/test_loadgen_protocol.cpp bench/loadgen_protocol.hpp; then
  g++ -std=c++17 -O2 -Ibench bench/test_loadgen_protocol.cpp -o $BUILD/bench_unit_tests & pids+=($!)
fi
if newer $BUILD/thread_cost bench/thread_cost.cpp; then
  g++ -std=c++17 -O2 -o $BUILD/thread_cost bench/thread_cost.cpp -pthread & pids+=($!)
fi
# The floor: from outside the repository, at every run when its source changed; without it, no floor column.
floor_pid=""
if [ $FLOOR = 0 ]; then
  say "no floor source at $FLOOR_SRC (set FLOOR_SRC): running without the floor, its column says n/a"
elif newer $BUILD/floor_server "$FLOOR_SRC"; then
  g++ -std=c++17 -O2 -DNDEBUG -o $BUILD/floor_server "$FLOOR_SRC" 2>"$OUT/floor-build.log" & floor_pid=$!
fi
if [ ${#pids[@]} -gt 0 ] || [ -n "$floor_pid" ]; then
  say "building ($(( ${#pids[@]} + (${#floor_pid} > 0) )) targets)"
  for p in "${pids[@]}"; do wait "$p"; done
fi
if [ -n "$floor_pid" ] && ! wait "$floor_pid"; then
  say "the floor did not build from $FLOOR_SRC ($OUT/floor-build.log): running without the floor"
  rm -f $BUILD/floor_server
  FLOOR=0
fi
$BUILD/bench_unit_tests >/dev/null || { echo "bench unit tests failed" >&2; exit 1; }

# ---- the certificate of the wss scenario: self-signed, for the address the clients dial, made fresh each run ------------
mkdir -p "$TLS_DIR"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=sioserver bench" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$TLS_DIR/key.pem" -out "$TLS_DIR/cert.pem" 2>"$OUT/openssl.log" ||
  { echo "openssl could not make the bench certificate:" >&2; cat "$OUT/openssl.log" >&2; exit 1; }

# ---- servers ---------------------------------------------------------------------------------------------------------
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
SERVER_CPU=()
LG_CPU=()
if [ $PIN = 1 ]; then SERVER_CPU=(taskset -c 0); LG_CPU=(taskset -c 1); fi

source bench/server_control.sh
source bench/cluster_control.sh
trap 'stop_server; stop_cluster' EXIT
trap 'stop_server; stop_cluster; exit 130' INT TERM
fi  # LIST

# variant_env VARIANT : sets VARIANT_ENV, the environment both bench servers get for VARIANT (see the header)
variant_env() {
  case "$1" in
    base) VARIANT_ENV=(); VARIANT_ARGS=() ;;
    recovery) VARIANT_ENV=(BENCH_RECOVERY=1); VARIANT_ARGS=() ;;  # connectionStateRecovery, the reference's defaults
    admin) VARIANT_ENV=(); VARIANT_ARGS=(--admin production) ;;   # instrument(io, {auth: false, mode: production})
    *) echo "bench/run.sh: unknown variant '$1'" >&2; return 1 ;;
  esac
}

# SERVER_TLS: the servers' certificate arguments while the wss scenario runs (both servers take the same ones)
SERVER_TLS=()
TLS_SERVER_ARGS=(--tls-cert "$TLS_DIR/cert.pem" --tls-key "$TLS_DIR/key.pem")

# run_case NAME VARIANT ROUND TIMEOUT loadgen-args... : one fresh server, one load generator run, results appended to RAW
run_case() {
  local name=$1 variant=$2 round=$3 limit=$4
  shift 4
  variant_env "$variant"
  local log="$OUT/server-$name.log"
  [ "$variant" = base ] || log="$OUT/server-$name-$variant.log"
  if [ "$name" = sio ]; then
    start_server "$log" "${SERVER_CPU[@]}" env "${VARIANT_ENV[@]}" $BUILD/sio_bench "${VARIANT_ARGS[@]}" "${SERVER_TLS[@]}"
  elif [ "$name" = floor-A ] || [ "$name" = floor-B ]; then  # (base only: no variants, no TLS)
    start_server "$log" "${SERVER_CPU[@]}" $BUILD/floor_server --mode "${name#floor-}"
  else
    start_server "$log" "${SERVER_CPU[@]}" env "${VARIANT_ENV[@]}" node bench/servers/node_bench.js "${VARIANT_ARGS[@]}" \
      "${SERVER_TLS[@]}"
  fi
  local watcher=""
  if [ "$variant" = admin ]; then  # an admin dashboard's client, connected for the whole run
    node bench/admin_watch.mjs "http://127.0.0.1:$PORT" >>"$OUT/admin-watch-$name.log" 2>&1 &
    watcher=$!
  fi
  sleep 0.3
  if ! timeout "$limit" "${LG_CPU[@]}" $BUILD/loadgen --port "$PORT" --server-pid "$SERVER_PID" --server-name "$name" \
        --round "$round" --variant "$variant" "$@" >>"$RAW" 2>>"$LGLOG"; then
    say "  $name ($variant) round $round: the load generator failed or timed out ($*)"
  fi
  stop_pid "$watcher"
  stop_server
}

# floor_serves loadgen-args... : whether the floor can serve this load (it is there, and the load is fan-out, ack or
# connections over plain WebSocket: no --transport but websocket)
floor_serves() {
  [ $FLOOR = 1 ] || return 1
  local prev="" a
  for a in "$@"; do
    [ "$prev" = --transport ] && [ "$a" != websocket ] && return 1
    [ "$prev" = --scenario ] && case "$a" in fanout|ack|connections) ;; *) return 1 ;; esac
    prev=$a
  done
  return 0
}

FLOOR_LISTED=0  # the floor's command line is in CMDS
# both TIMEOUT loadgen-args... : sio node [floor-A floor-B] sio node ... (ROUNDS rounds) with a fresh server each time;
# the floor when floor_serves
both() {
  local limit=$1
  shift
  local names="sio node"
  floor_serves "$@" && names="sio node floor-A floor-B"
  [ ${#SERVER_TLS[@]} = 0 ] ||
    echo "# the servers started as  build/sio_bench --port 0 ${SERVER_TLS[*]}  or  node bench/servers/node_bench.js --port 0 ${SERVER_TLS[*]}" >>"$CMDS"
  if [ "$names" != "sio node" ] && [ $FLOOR_LISTED = 0 ]; then
    echo "# floor-A / floor-B: g++ -std=c++17 -O2 -DNDEBUG -o build/floor_server $FLOOR_SRC; build/floor_server --port 0 --mode A|B" >>"$CMDS"
    FLOOR_LISTED=1
  fi
  echo "build/loadgen --port PORT --server-pid PID --server-name ${names// /|} --round N --variant base $*" >>"$CMDS"
  [ $LIST = 1 ] && return 0
  for r in $(seq 1 "$ROUNDS"); do
    for s in $names; do run_case "$s" base "$r" "$limit" "$@"; done
  done
}

# wss_both TIMEOUT loadgen-args... : `both` with the servers on https/wss and the clients over TLS, trusting the cert
wss_both() {
  local limit=$1
  shift
  SERVER_TLS=("${TLS_SERVER_ARGS[@]}")
  both "$limit" --transport wss --ca "$TLS_DIR/cert.pem" "$@"
  SERVER_TLS=()
}

# compare VARIANT TIMEOUT loadgen-args... : per round, sio base + sio VARIANT, then node base + node VARIANT (the
# variant first in even rounds), each on a fresh server; the lines are labelled --series VARIANT
compare() {
  local variant=$1 limit=$2
  shift 2
  variant_env "$variant"
  echo "build/loadgen --port PORT --server-pid PID --server-name sio|node --round N --variant base --series $variant $*" >>"$CMDS"
  echo "# $variant: the servers started as  ${VARIANT_ENV[*]} build/sio_bench --port 0 ${VARIANT_ARGS[*]}  (or node bench/servers/node_bench.js)" >>"$CMDS"
  echo "build/loadgen --port PORT --server-pid PID --server-name sio|node --round N --variant $variant --series $variant $*" >>"$CMDS"
  [ $LIST = 1 ] && return 0
  local order
  for r in $(seq 1 "$ROUNDS"); do
    order="base $variant"
    [ $((r % 2)) = 0 ] && order="$variant base"
    for s in sio node; do
      for v in $order; do run_case "$s" "$v" "$r" "$limit" --series "$variant" "$@"; done
    done
  done
}

# run_cluster_case NAME ROUND TIMEOUT loadgen-args... : a fresh Redis and two fresh nodes, one load generator run
# (clients alternate between node A and node B; the emitter is on A), results appended to RAW
run_cluster_case() {
  local name=$1 round=$2 limit=$3
  shift 3
  local node_cmd=(node bench/servers/node_cluster_bench.js)
  [ "$name" = sio ] && node_cmd=($BUILD/sio_cluster_bench)
  [ "$CLUSTER_ADAPTER" = streams ] && node_cmd+=(--adapter streams)
  if ! start_cluster "$OUT/cluster-$name" "${node_cmd[@]}"; then
    say "  $name round $round: the cluster did not start (logs: $OUT/cluster-$name-*.log)"
    return 0
  fi
  if ! timeout "$limit" "${LG_CPU[@]}" $BUILD/loadgen --port "$NODE_A_PORT" --port2 "$NODE_B_PORT" \
        --server-pid "$NODE_A_PID" --server-pid2 "$NODE_B_PID" --redis-pid "$REDIS_PID" --server-name "$name" \
        --round "$round" --scenario cluster --variant "$CLUSTER_ADAPTER" --series "$CLUSTER_SERIES" "$@" \
        >>"$RAW" 2>>"$LGLOG"; then
    say "  $name cluster round $round: the load generator failed or timed out ($*)"
  fi
  stop_cluster
}

# cluster_both TIMEOUT loadgen-args... : sio pair, node pair, ... (ROUNDS rounds), each case on fresh processes
cluster_both() {
  local limit=$1
  shift
  echo "build/loadgen --port PORT_A --port2 PORT_B --server-pid PID_A --server-pid2 PID_B --redis-pid REDIS_PID" \
    "--server-name sio|node --round N --scenario cluster $*" >>"$CMDS"
  [ $LIST = 1 ] && return 0
  local names="sio node"
  if [ ! -f sioserver_redis.hpp ] || [ ! -x $BUILD/sio_cluster_bench ]; then
    say "  no sioserver_redis.hpp here: the cluster runs the Node pair only"
    names=node
  fi
  for r in $(seq 1 "$ROUNDS"); do
    for s in $names; do run_cluster_case "$s" "$r" "$limit" "$@"; done
  done
}

# thread_cost : what the thread-per-connection model itself costs here (bench/thread_cost.cpp: THREAD_COST_N threads
# with sio_bench's 64 KiB stacks start, answer one message at a time, end), ROUNDS times, one JSON line each to RAW.
# Not pinned under --pin: its client side is in the same process as its threads.
THREAD_COST_N=2000
THREAD_COST_STACK_KB=64
thread_cost() {
  echo "# thread_cost: g++ -std=c++17 -O2 -o build/thread_cost bench/thread_cost.cpp -pthread; once per round:" >>"$CMDS"
  echo "build/thread_cost --json $THREAD_COST_N $THREAD_COST_STACK_KB" >>"$CMDS"
  [ $LIST = 1 ] && return 0
  for r in $(seq 1 "$ROUNDS"); do
    timeout 60 $BUILD/thread_cost --json $THREAD_COST_N $THREAD_COST_STACK_KB >>"$RAW" 2>>"$LGLOG" ||
      say "  thread_cost round $r: failed or timed out (stderr in $LGLOG)"
  done
}

# ---- the scenarios ---------------------------------------------------------------------------------------------------
# Rates are messages emitted per second by the one emitting client; each is delivered to all C clients. The fixed
# rates (FIX_*) are ones both servers sustain on this machine; the sweep at C=1000 draws bench/results.png; window:W
# keeps W broadcasts in flight to find the delivered rate at saturation.
if [ $QUICK = 1 ]; then
  ROUNDS=1; PH=1.5; WARM=0.3; CONNS=2000; CLUSTER_C=500
  SWEEP_1000="5 10 20 40 80"
else
  ROUNDS=3; PH=3; WARM=0.5; CONNS=10000; CLUSTER_C=1000
  SWEEP_1000="5 10 20 40 60 80 100 120"
fi
FIX_100=100; FIX_1000=20; FIX_5000=4; FIX_POLL=50
W_100=64; W_1000=8; W_5000=2; W_POLL=16
# The cluster: half the clients on each node. A message reaches node B's half only after Redis, so saturation needs
# a deeper window than one node does (Node's pair: 16 in flight ~150k msg/s, 32 ~185k, 64 ~190k at C=500 here).
FIX_CLUSTER=20; W_CLUSTER=32

sweep=""
for r in $SWEEP_1000; do sweep="$sweep,rate:$r:$PH"; done
sweep=${sweep#,}

# fan-out over wss: the plain fan-out's phases at C=100 (and C=1000 in the full run)
wss_fanout() {
  [ $LIST = 1 ] || say "fan-out over wss C=100 (https/wss, the clients verify the certificate)"
  wss_both 90 --scenario fanout --clients 100 --warmup $WARM --phases "rate:$FIX_100:$PH,window:$W_100:$PH"
  if [ $QUICK = 0 ]; then
    [ $LIST = 1 ] || say "fan-out over wss C=1000"
    wss_both 120 --scenario fanout --clients 1000 --warmup $WARM --phases "rate:$FIX_1000:$PH,window:$W_1000:$PH"
  fi
}

if [ $ONLY_WSS = 1 ]; then
wss_fanout
elif [ $ONLY_CLUSTER = 0 ]; then
[ $LIST = 1 ] || say "fan-out C=100 ($ROUNDS rounds, the servers alternating)"
both 90 --scenario fanout --clients 100 --warmup $WARM --phases "rate:$FIX_100:$PH,window:$W_100:$PH"
[ $LIST = 1 ] || say "fan-out C=1000 (rate sweep for the chart, then saturation)"
both 200 --scenario fanout --clients 1000 --warmup $WARM --phases "$sweep,window:$W_1000:$PH"
wss_fanout
[ $LIST = 1 ] || say "fan-out C=1000, connection state recovery off / on (base and recovery back to back)"
compare recovery 90 --scenario fanout --clients 1000 --warmup $WARM --phases "rate:$FIX_1000:$PH,window:$W_1000:$PH"
compare admin 90 --scenario fanout --clients 1000 --warmup $WARM --phases "rate:$FIX_1000:$PH,window:$W_1000:$PH"
if [ $QUICK = 0 ]; then
  [ $LIST = 1 ] || say "fan-out C=5000"
  both 120 --scenario fanout --clients 5000 --warmup $WARM --phases "rate:$FIX_5000:$PH,window:$W_5000:$PH"
fi
[ $LIST = 1 ] || say "ack round-trip C=100"
both 60 --scenario ack --clients 100 --warmup $WARM --phases "ack:1:$PH"
[ $LIST = 1 ] || say "polling fan-out C=100"
both 90 --scenario fanout --transport polling --clients 100 --warmup $WARM --phases "rate:$FIX_POLL:$PH,window:$W_POLL:$PH"
[ $LIST = 1 ] || say "thread cost: $THREAD_COST_N threads, $THREAD_COST_STACK_KB KiB stacks (bench/thread_cost.cpp)"
thread_cost
[ $LIST = 1 ] || say "connections: $CONNS clients"
both 150 --scenario connections --clients $CONNS --concurrency 256 --idle 2 --release-timeout 30
fi  # ONLY_WSS, ONLY_CLUSTER
if [ $ONLY_WSS = 0 ]; then
  [ $LIST = 1 ] || say "cluster: two nodes + Redis per pair, C=$CLUSTER_C"
  CLUSTER_ADAPTER=base CLUSTER_SERIES=main
  cluster_both 90 --clients $CLUSTER_C --warmup $WARM --phases "rate:$FIX_CLUSTER:$PH,window:$W_CLUSTER:$PH"
  [ $LIST = 1 ] || say "cluster on the Redis Streams adapter (both pairs): two nodes + Redis per pair, C=$CLUSTER_C"
  CLUSTER_ADAPTER=streams CLUSTER_SERIES=streams
  cluster_both 90 --clients $CLUSTER_C --warmup $WARM --phases "rate:$FIX_CLUSTER:$PH,window:$W_CLUSTER:$PH"
fi

if [ $LIST = 1 ]; then cat "$CMDS"; exit 0; fi

# ---- the report --------------------------------------------------------------------------------------------------------
CMDLINE="bash bench/run.sh $*"
FLOOR_ARG=none  # what report.mjs says of the floor: its source, when it ran
[ $FLOOR = 1 ] && FLOOR_ARG=$FLOOR_SRC
if [ $ONLY_CLUSTER = 1 ] || [ $ONLY_WSS = 1 ]; then
  node bench/report.mjs --raw "$RAW" --mode "$MODE" --command "$CMDLINE" --pin "$PIN" \
    --elapsed "$(( $(date +%s) - T_START ))" --commands "$CMDS" --out "$OUT/RESULTS-$RUN.md" --dat "$OUT/latency-$RUN.dat"
  say "done in $(( $(date +%s) - T_START )) s: $OUT/RESULTS-$RUN.md (raw: $RAW)"
  exit 0
fi
node bench/report.mjs --raw "$RAW" --mode "$MODE" --command "$CMDLINE" --pin "$PIN" --floor "$FLOOR_ARG" \
  --elapsed "$(( $(date +%s) - T_START ))" --commands "$CMDS" --out bench/RESULTS.md --dat "$OUT/latency-$MODE.dat"
gnuplot -e "datafile='$OUT/latency-$MODE.dat'; outfile='bench/results.png'" bench/results.gp
say "done in $(( $(date +%s) - T_START )) s: bench/RESULTS.md, bench/results.png (raw: $RAW)"
