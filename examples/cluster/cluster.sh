#!/usr/bin/env bash
# make cluster: Redis, two sioserver chat nodes (chat_node.cpp), one Node chat node (node_node.mjs) and a balancer
# in front of them (nginx from nginx.conf, or HAProxy from haproxy.cfg), all in the foreground, from configs written
# to a temporary directory. Ctrl-C stops them all, each by its PID. The Makefile runs it from the repository root:
#   examples/cluster/cluster.sh <the chat_node binary>
# Environment [defaults]:
#   PORT [3000]                      the balancer's port
#   NODE_PORTS ["3101 3102 3103"]    the ports of cpp-1, cpp-2 (sioserver) and node-1 (Node); with these, nginx
#                                    sends 127.0.0.1 to cpp-1 and ::1 to node-1 (its hash of the address)
#   REDIS_PORT [6380]                Redis's port (not 6379, where Debian's redis-server package runs its own)
#   BALANCER [nginx]                 nginx (sticky by client address) or haproxy (sticky by the io cookie)
#   ADAPTER [classic]                classic (Redis pub/sub) or streams (Redis Streams, with connection state
#                                    recovery across nodes)
#   LISTEN_HOST []                   the one address the balancer listens on; empty: all of this machine's
set -uo pipefail

chat_node=${1:?usage: cluster.sh <chat_node binary>}
PORT=${PORT:-3000}
read -r -a node_ports <<<"${NODE_PORTS:-3101 3102 3103}"
REDIS_PORT=${REDIS_PORT:-6380}
BALANCER=${BALANCER:-nginx}
ADAPTER=${ADAPTER:-classic}
case $ADAPTER in classic | streams) ;; *) echo "cluster: ADAPTER is classic or streams" >&2; exit 2 ;; esac
LISTEN_HOST=${LISTEN_HOST:-}
here=$(cd "$(dirname "$0")" && pwd)
node_names=(cpp-1 cpp-2 node-1)
[ "${#node_ports[@]}" = 3 ] || { echo "cluster: NODE_PORTS needs three ports" >&2; exit 2; }
case $BALANCER in nginx | haproxy) ;; *) echo "cluster: BALANCER is nginx or haproxy" >&2; exit 2 ;; esac

run=$(mktemp -d /tmp/sioserver-cluster.XXXXXX)
chmod 755 "$run"  # nginx's workers (another user when started as root) write their temporary files in it
pids=() names=()

stop() {
    trap - INT TERM EXIT
    local i pid n
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null; done
    for ((n = 0; n < 50; n++)); do  # up to 5 s for them all to end, then SIGKILL what is left
        local alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$run"
    echo "cluster: stopped"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME COMMAND...: in the background, its PID kept
start() {
    local name=$1
    shift
    "$@" &
    pids+=($!)
    names+=("$name")
}

# wait_until WHAT COMMAND...: until COMMAND succeeds, for at most 15 s; fails at once if a started process died
wait_until() {
    local what=$1 i n
    shift
    for ((n = 0; n < 150; n++)); do
        "$@" >/dev/null 2>&1 && return 0
        for i in "${!pids[@]}"; do
            if ! kill -0 "${pids[i]}" 2>/dev/null; then
                echo "cluster: ${names[i]} exited (logs: $run)" >&2
                tail -n 20 "$run"/*.log 2>/dev/null >&2
                return 1
            fi
        done
        sleep 0.1
    done
    echo "cluster: $what not ready after 15 s" >&2
    return 1
}

# ---- Redis: no persistence, loopback only
cat >"$run/redis.conf" <<EOF
port $REDIS_PORT
bind 127.0.0.1
daemonize no
save ""
appendonly no
dir $run
logfile $run/redis.log
EOF
start redis redis-server "$run/redis.conf"
wait_until "Redis on port $REDIS_PORT" redis-cli -p "$REDIS_PORT" ping || exit 1

# ---- the nodes, on loopback: only the balancer is reachable from outside
redis=127.0.0.1:$REDIS_PORT
start cpp-1 env NODE=cpp-1 PORT="${node_ports[0]}" REDIS=$redis ADAPTER="$ADAPTER" "$chat_node"
start cpp-2 env NODE=cpp-2 PORT="${node_ports[1]}" REDIS=$redis ADAPTER="$ADAPTER" "$chat_node"
start node-1 env NODE=node-1 PORT="${node_ports[2]}" REDIS=$redis ADAPTER="$ADAPTER" node "$here/node_node.mjs"
for i in 0 1 2; do
    wait_until "${node_names[i]} on port ${node_ports[i]}" curl -sf -o /dev/null "http://127.0.0.1:${node_ports[i]}/" ||
        exit 1
done

# ---- the balancer, from its template
ipv6=0
[ -z "$LISTEN_HOST" ] && [ -e /proc/net/if_inet6 ] && ipv6=1
url_host() { [[ $1 == *:* ]] && echo "[$1]" || echo "$1"; }
if [ "$BALANCER" = nginx ]; then
    if [ -n "$LISTEN_HOST" ]; then listen="listen $(url_host "$LISTEN_HOST"):$PORT;"
    else listen="listen $PORT;"; [ $ipv6 = 1 ] && listen+=" listen [::]:$PORT;"; fi
    servers=""
    for i in 0 1 2; do servers+="server 127.0.0.1:${node_ports[i]};\\n        "; done
    sed -e "/^ *#/!s|@LISTEN@|$listen|" -e "/^ *#/!s|@SERVERS@|$servers|" -e "/^ *#/!s|@RUN_DIR@|$run|g" \
        "$here/nginx.conf" >"$run/nginx.conf"  # placeholders in comments stay
    start nginx nginx -p "$run" -e "$run/nginx-error.log" -c "$run/nginx.conf" -g "daemon off;"
else
    if [ -n "$LISTEN_HOST" ]; then bind="bind $(url_host "$LISTEN_HOST"):$PORT"
    else bind="bind :$PORT"; [ $ipv6 = 1 ] && bind+="\\n    bind :::$PORT v6only"; fi
    servers=""
    for i in 0 1 2; do
        servers+="server ${node_names[i]} 127.0.0.1:${node_ports[i]} check cookie ${node_names[i]}\\n    "
    done
    sed -e "/^ *#/!s|@BIND@|$bind|" -e "/^ *#/!s|@SERVERS@|$servers|" "$here/haproxy.cfg" >"$run/haproxy.cfg"
    start haproxy haproxy -db -f "$run/haproxy.cfg"
fi
probe_host=${LISTEN_HOST:-127.0.0.1}
wait_until "$BALANCER on port $PORT" curl -sf -o /dev/null "http://$(url_host "$probe_host"):$PORT/" || exit 1

# ---- where this machine's addresses land: nginx hashes the client's address, and a machine that dials ::1 comes
# from ::1, one that dials its LAN address from that address (but any 127.x.x.x from 127.0.0.1)
served_by() { curl -s --max-time 3 "$1" | sed -n 's/.*served by \([^<]*\)<.*/\1/p' | head -n 1; }
echo
echo "cluster: Redis on 127.0.0.1:$REDIS_PORT; sioserver nodes cpp-1 :${node_ports[0]}, cpp-2 :${node_ports[1]};" \
    "Node node node-1 :${node_ports[2]}; $BALANCER on port $PORT"
if [ "$BALANCER" = nginx ]; then
    hosts=("$probe_host")
    if [ -z "$LISTEN_HOST" ]; then
        [ $ipv6 = 1 ] && hosts+=(::1)
        for a in $(hostname -I 2>/dev/null); do [[ $a == fe80:* ]] || hosts+=("$a"); done
    fi
    echo "nginx sends each client address to one node. From this machine:"
    for h in "${hosts[@]}"; do
        u="http://$(url_host "$h"):$PORT/"
        printf '  %-28s lands on %s\n' "$u" "$(served_by "$u")"
    done
    echo "Open two that land on different nodes, one in each tab: each page names the node that served it and the"
    echo "one its socket reached, and what you type in one shows in the other, through Redis."
    direct=127.0.0.1
else
    echo "HAProxy sends a client with the io cookie to the node that set it, and one without to the next node in"
    echo "turn. A browser's tabs share their cookies, so they share a node: open a second browser (or a private"
    echo "window) for another, or a node's own page below (on the host name localhost, so that the node's own io"
    echo "cookie does not replace HAProxy's for 127.0.0.1)."
    direct=localhost
fi
echo "Each node also answers on its own port (no balancer):"
for i in 0 1 2; do echo "  http://$direct:${node_ports[i]}/  ${node_names[i]}"; done
echo "cluster ready (Ctrl-C stops it; logs in $run)"

# Until Ctrl-C, or until one of them ends on its own: then the rest are stopped too. (On Ctrl-C the terminal
# signals them all at once, so the first to end may be reported here before the script's own trap runs.)
wait -n "${pids[@]}"
for i in "${!pids[@]}"; do kill -0 "${pids[i]}" 2>/dev/null || echo "cluster: ${names[i]} exited" >&2; done
exit 1
