#!/usr/bin/env bash
# tests/compat/unknown_httplib.sh — a cpp-httplib whose declarations the seam (sioserver.hpp, 6c-6e) does not know
# must stop the build with one error that names the supported range, not with a page of template errors.
# Three such releases are made from the newest one in ../shared/compat/cpp-httplib, in a temp dir (never kept):
#   process_request renamed          (Server::process_request gone: the seam cannot drive the keep-alive loop)
#   enqueue returning int            (TaskQueue::enqueue neither void nor bool)
#   a new pure virtual on Stream     (ConnStream would stay abstract)
# Each is compiled with g++ and clang++ (syntax only); each must fail with exactly one error, the seam's own.
set -euo pipefail
cd "$(dirname "$0")/../.."
COMPAT_DIR=${COMPAT_DIR:-../shared/compat/cpp-httplib}
newest=$(ls -d "$COMPAT_DIR"/v* 2>/dev/null | sort -V | tail -n 1)
[ -n "$newest" ] || { echo "no cpp-httplib releases in $COMPAT_DIR" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
RANGE='sioserver.hpp supports cpp-httplib 0.11.4 to 0.53.1'

make_variant() {  # name, sed script, the count of lines the script must change
  local name=$1 script=$2 want=$3
  mkdir -p "$WORK/$name"
  sed -e "$script" "$newest/httplib.h" >"$WORK/$name/httplib.h"
  local changed
  changed=$(diff "$newest/httplib.h" "$WORK/$name/httplib.h" | grep -c '^>' || true)
  if [ "$changed" != "$want" ]; then
    echo "$name: the edit of $newest/httplib.h changed $changed lines, not $want (has upstream moved on?)" >&2
    exit 1
  fi
}
make_variant process_request_renamed \
  's/\(bool \|Server::\|return \)process_request(\(Stream &strm, const std::string &remote_addr,\|strm, remote_addr,\)/\1process_connection_request(\2/' 3
make_variant enqueue_returns_int \
  's/^\(  virtual \|  \|inline \)bool \(ThreadPool::\)\{0,1\}enqueue(std::function<void()> fn)/\1int \2enqueue(std::function<void()> fn)/' 3
make_variant stream_new_pure_virtual \
  's/^\(  *\)virtual time_t duration() const = 0;/&\n\1virtual bool is_secure() const = 0;/; s/^\(  *\)time_t duration() const override;/&\n\1bool is_secure() const override { return false; }/' 4

failed=0
for variant in process_request_renamed enqueue_returns_int stream_new_pure_virtual; do
  for cxx in g++ clang++; do
    if "$cxx" -std=c++17 -fsyntax-only -isystem "$WORK/$variant" examples/engine_echo.cpp >"$WORK/out" 2>&1; then
      echo "FAIL $variant, $cxx: it compiled"; failed=1; continue
    fi
    errors=$(grep -c 'error:' "$WORK/out" || true)
    if [ "$errors" = 1 ] && grep 'error:' "$WORK/out" | grep -qF "$RANGE"; then
      echo "ok   $variant, $cxx: $(grep 'error:' "$WORK/out" | sed 's/.*\(sioserver: [^"]*\).*/\1/')"
    else
      echo "FAIL $variant, $cxx: $errors errors:"; grep 'error:' "$WORK/out" | head -5; failed=1
    fi
  done
done
exit $failed
