#!/usr/bin/env bash
# Builds every libFuzzer target of tests/fuzz/ into build/fuzz/ and runs each one for a bounded time on a copy of its
# seed corpus (build/fuzz/corpus/<target>, so runs never write into the repository). Exits non-zero if a target
# does not build or crashes (a crash input is left in build/fuzz/artifacts/<target>/).
#
#   tests/fuzz/run.sh                      all targets, 60 s each
#   FUZZ_SECONDS=600 tests/fuzz/run.sh     longer
#   FUZZ_TARGETS="fuzz_base64 fuzz_ws_frames" tests/fuzz/run.sh
#   FUZZ_REGRESSIONS=1 tests/fuzz/run.sh   first replays tests/fuzz/regressions/<target>/* (fails while a reported
#                                          bug is open)
#   SIO_FUZZ_TOLERATE=id1,id2 ...          lets known, reported invariant violations through (see fuzz_common.hpp)
# Needs clang++ with libFuzzer (Debian: clang, libclang-rt-dev or the clang-N package) and libcpp-httplib-dev;
# fuzz_redis_cluster also libhiredis-dev and libmsgpack-cxx-dev.
set -uo pipefail
cd "$(dirname "$0")/../.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-"fuzz_eio_packet fuzz_base64 fuzz_ws_frames fuzz_sio_packet fuzz_engine_request fuzz_http_path fuzz_msgpack fuzz_redis_cluster"}
CXX=${FUZZ_CXX:-clang++}
OUT=build/fuzz
FLAGS="-std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I."
HTTPLIB=$(pkg-config --cflags --libs cpp-httplib) || { echo "run.sh: pkg-config cannot find cpp-httplib"; exit 1; }

# What a target links beyond cpp-httplib: the Redis add-on's hiredis.
extra_libs() {
    case "$1" in
    fuzz_redis_cluster) echo -lhiredis ;;
    esac
}

max_len() {
    case "$1" in
    fuzz_base64) echo 1024 ;;
    fuzz_ws_frames) echo 8192 ;;
    fuzz_http_path) echo 512 ;;
    *) echo 4096 ;;
    esac
}

mkdir -p "$OUT"
status=0

# ---- build (in parallel: each one compiles the whole header with sanitizers)
echo "== building into $OUT/: $TARGETS"
pids=()
for t in $TARGETS; do
    # shellcheck disable=SC2086
    $CXX $FLAGS "tests/fuzz/$t.cpp" -o "$OUT/$t" $HTTPLIB $(extra_libs "$t") -pthread >"$OUT/$t.build.log" 2>&1 &
    pids+=("$!:$t")
done
for entry in "${pids[@]}"; do
    if ! wait "${entry%%:*}"; then
        t=${entry#*:}
        echo "BUILD FAILED: $t (see $OUT/$t.build.log)"
        cat "$OUT/$t.build.log"
        status=1
    fi
done
[ "$status" = 0 ] || exit "$status"

# ---- run
summary=()
for t in $TARGETS; do
    corpus="$OUT/corpus/$t"
    artifacts="$OUT/artifacts/$t"
    rm -rf "$corpus" "$artifacts"
    mkdir -p "$corpus" "$artifacts"
    cp tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
    dict=()
    [ -f "tests/fuzz/dict/$t.dict" ] && dict=("-dict=tests/fuzz/dict/$t.dict")

    if [ "${FUZZ_REGRESSIONS:-0}" = 1 ] && ls tests/fuzz/regressions/"$t"/* >/dev/null 2>&1; then
        echo "== $t: replaying tests/fuzz/regressions/$t/"
        if ! "$OUT/$t" -runs=1 tests/fuzz/regressions/"$t"/* >"$OUT/$t.regressions.log" 2>&1; then
            echo "REGRESSION: $t crashes on a saved input (see $OUT/$t.regressions.log)"
            grep -E "INVARIANT VIOLATED|ERROR: |runtime error|detail:" "$OUT/$t.regressions.log" | head -5
            summary+=("$t: REGRESSION")
            status=1
            continue
        fi
    fi

    echo "== $t: ${FUZZ_SECONDS}s, -max_len=$(max_len "$t")"
    "$OUT/$t" "$corpus" "${dict[@]}" -max_total_time="$FUZZ_SECONDS" -max_len="$(max_len "$t")" -timeout=10 \
        -rss_limit_mb=2048 -artifact_prefix="$artifacts/" -print_final_stats=1 >"$OUT/$t.log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$OUT/$t.log" | grep -o '[0-9]*$' | tail -1)
    if [ -z "$execs" ]; then  # no final stats after a crash: the last status line has the count
        execs=$(grep -oE '^#[0-9]+' "$OUT/$t.log" | tail -1 | tr -d '#')
    fi
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$OUT/$t.log" | tail -1)
    line="$t: execs=${execs:-?} ${cov:-cov: ?} corpus=$(ls "$corpus" | wc -l)"
    if [ "$rc" != 0 ]; then
        crash=$(ls "$artifacts" 2>/dev/null | head -1)
        line="$line CRASHED (exit $rc) artifact=$artifacts/$crash log=$OUT/$t.log"
        grep -E "INVARIANT VIOLATED|ERROR: AddressSanitizer|runtime error|detail:|deadly signal|timeout" "$OUT/$t.log" | head -6
        status=1
    fi
    echo "$line"
    summary+=("$line")
done

echo
echo "== summary (${FUZZ_SECONDS}s per target)"
printf '%s\n' "${summary[@]}"
exit "$status"
