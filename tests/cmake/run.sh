#!/usr/bin/env bash
# tests/cmake/run.sh — the CMake target sioserver::sioserver, as users take it (make test-cmake):
#   1. add_subdirectory, cpp-httplib from pkg-config (Debian's compiled library);
#   2. FetchContent, cpp-httplib from a CMake package named httplib (what vcpkg, conan, Homebrew and upstream's
#      install provide). The package here is a stand-in generated into the temp dir: the same target name,
#      httplib::httplib, over the newest header-only release in ../shared/compat/cpp-httplib.
# Each one configures, builds and runs tests/cmake/consumer, which must answer an Engine.IO handshake.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
COMPAT_DIR=${COMPAT_DIR:-../shared/compat/cpp-httplib}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

run_consumer() {  # name, extra cmake arguments...
  local name=$1
  shift
  echo "== cmake consumer: $name"
  cmake -S tests/cmake/consumer -B "$WORK/$name" -DSIOSERVER_SOURCE_DIR="$ROOT" "$@" >"$WORK/$name.log" 2>&1 ||
    { cat "$WORK/$name.log"; exit 1; }
  grep 'sioserver .*: cpp-httplib from' "$WORK/$name.log"
  cmake --build "$WORK/$name" -j2 >>"$WORK/$name.log" 2>&1 || { cat "$WORK/$name.log"; exit 1; }
  timeout 20 "$WORK/$name/consumer"
}

run_consumer subdirectory-pkgconfig -DSIOSERVER_CONSUMER_MODE=subdirectory

newest=$(ls -d "$COMPAT_DIR"/v* 2>/dev/null | sort -V | tail -n 1)
if [ -z "$newest" ]; then
  echo "no cpp-httplib releases in $COMPAT_DIR" >&2
  exit 1
fi
mkdir -p "$WORK/httplib-package"
cat >"$WORK/httplib-package/httplibConfig.cmake" <<CMAKE
add_library(httplib::httplib INTERFACE IMPORTED)
set_target_properties(httplib::httplib PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "$(cd "$newest" && pwd)")
CMAKE
run_consumer fetchcontent-package -DSIOSERVER_CONSUMER_MODE=fetchcontent -Dhttplib_DIR="$WORK/httplib-package"
echo "test-cmake: both consumers built and answered"
