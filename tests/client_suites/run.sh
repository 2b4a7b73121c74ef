#!/usr/bin/env bash
# The official clients' own test suites (socket.io-client 4.8, engine.io-client 6.6, in Node mode) against
# sioserver: `make client-suites SOCKETIO_GIT=<git dir of a socketio/socket.io clone>`.
#
# The suites are the socketio/socket.io monorepo's packages/*/test at the client release tags; they are not part of
# this repository (nor is their code copied here): the script exports them from the clone you give it into
# build/client-suites/, installs what they import from the npm registry there (once), starts
# tests/client_suites/support_server.cpp (what the suites' own Node support servers answer, on sioserver) and runs
# mocha on each suite. Both suites hard-code their ports (3210 and 3000): the script stops if either is taken.
#   SOCKETIO_GIT   the clone's git directory (required; `git clone --bare` or the .git of a work tree)
#   SUITES         "socket.io-client engine.io-client" (default: both)
#   SERVER         the server binary [build/client_suite_server]
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${SOCKETIO_GIT:?set SOCKETIO_GIT to the git directory of a socketio/socket.io clone}"
SUITES=${SUITES:-"socket.io-client engine.io-client"}
SERVER=${SERVER:-$root/build/client_suite_server}
work=$root/build/client-suites
mkdir -p "$work"

# The client versions the suites are tagged with, and the versions of what their tests import.
declare -A TAG=([socket.io-client]=socket.io-client@4.8.3 [engine.io-client]=engine.io-client@6.6.6)
DEPS="mocha@10.8.2 tsx@4.20.6 expect.js@0.3.1 @sinonjs/fake-timers@11.3.1 has-cors@1.1.0 text-blob-builder@0.0.1
      base64-arraybuffer@1.0.2 blob@0.1.0 socket.io-client@4.8.3 engine.io-client@6.6.6"

if [ ! -f "$work/node_modules/.deps-ok" ]; then
    echo "client-suites: installing the suites' test dependencies into $work (npm registry)"
    (cd "$work" && { [ -f package.json ] || echo '{ "name": "client-suites", "private": true }' >package.json; } &&
        npm install --no-audit --no-fund --save-exact $DEPS >npm.log 2>&1) || {
        echo "client-suites: npm install failed (see $work/npm.log)"
        exit 1
    }
    touch "$work/node_modules/.deps-ok"
fi

for suite in $SUITES; do
    rm -rf "${work:?}/$suite"
    mkdir -p "$work/$suite"
    # (a partial clone may miss objects elsewhere in the tree: what counts is that the suite came out)
    git --git-dir="$SOCKETIO_GIT" archive "${TAG[$suite]}" "packages/$suite/test" 2>"$work/archive.err" |
        tar -x -C "$work/$suite" --strip-components=2
    [ -d "$work/$suite/test/support" ] || {
        echo "client-suites: no packages/$suite/test at tag ${TAG[$suite]} in $SOCKETIO_GIT:"
        cat "$work/archive.err"
        exit 1
    }
    # The tests import their package as ".." and its build as "../build": both are the npm release.
    printf '{ "name": "%s-under-test", "main": "index.js" }\n' "$suite" >"$work/$suite/package.json"
    printf 'module.exports = require("%s");\n' "$suite" >"$work/$suite/index.js"
    ln -sfn "../node_modules/$suite/build" "$work/$suite/build"
done

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in 3210 3000; do
    if port_taken $port; then
        echo "client-suites: port $port is taken (the suites need it)"
        exit 1
    fi
done

log=$work/server.log
"$SERVER" >"$log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null' EXIT
for _ in $(seq 100); do
    grep -q '^ready' "$log" && break
    kill -0 $server_pid 2>/dev/null || break
    sleep 0.1
done
grep -q '^ready' "$log" || {
    echo "client-suites: the server did not start:"
    cat "$log"
    exit 1
}

failed=0
for suite in $SUITES; do
    case $suite in
    socket.io-client) args=(--import=tsx --exit test/index.ts) ;;
    engine.io-client) args=(--exit test/index.js) ;;
    esac
    echo "== $suite (${TAG[$suite]}'s suite)"
    (cd "$work/$suite" && timeout 600 "$work/node_modules/.bin/mocha" "${args[@]}") >"$work/$suite.out" 2>&1
    rc=$?
    grep -E '^  [0-9]+ (passing|failing|pending)' "$work/$suite.out"
    grep -E '^  [0-9]+\) ' -A2 "$work/$suite.out" | grep -v '^--$' | head -40
    [ $rc -eq 0 ] || failed=1
done
exit $failed
