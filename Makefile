# sioserver — `make run` starts the example, `make test` runs every test. Both install what they need first.
CXX      ?= g++
# -g1 (line tables, inlined frames kept): a crash's backtrace and a profile still name file:line, and each of the
# many translation units the tests build compiles about a quarter faster than with -g (28 s -> 20 s for one unit-test
# file here). Build with CXXFLAGS="-std=c++17 -O2 -g" to step through locals in a debugger.
CXXFLAGS ?= -std=c++17 -O2 -g1
# The warning set the header, the examples, the test server and the unit tests must compile clean under, with g++ and
# clang++ (`make BUILD=build-clang CXX=clang++ all`). Third-party headers come from system directories (Debian's in
# /usr/include, other releases through -isystem), so their own warnings never fail our build.
WARNINGS  = -Wall -Wextra -Wshadow -Wconversion -Wsign-conversion -Werror
HTTPLIB   = $(shell pkg-config --cflags --libs cpp-httplib 2>/dev/null)
# Objects compiled alone (the unit tests) need the library's defines too, or httplib's types differ from the .so's.
HTTPLIB_CFLAGS = $(shell pkg-config --cflags cpp-httplib 2>/dev/null)
LDLIBS    = $(HTTPLIB) -pthread
# Programs that can serve TLS (opt.tls) call OpenSSL themselves: the test server and the two chat examples.
TLS_LDLIBS = $(shell pkg-config --libs openssl 2>/dev/null)
BUILD    ?= build
PORT     ?= 3000

# libcrypt-dev: the admin UI's bcrypt check (-lcrypt); the icon font: the admin UI's icons, served offline.
DEB_PACKAGES  = g++ make pkg-config libcpp-httplib-dev libssl-dev openssl picojson-dev doctest-dev libcrypt-dev fonts-materialdesignicons-webfont
TEST_PACKAGES = chromium
# python-socketio's client (with its msgpack serializer) for the msgpack parser's interop test, run by /usr/bin/python3.
PY_PACKAGES   = python3-socketio python3-msgpack python3-websocket python3-requests
FUZZ_PACKAGES = clang libclang-rt-14-dev libhiredis-dev libmsgpack-cxx-dev
HEADER = sioserver.hpp sioserver_metrics.hpp

.PHONY: all run test unit interop browser deps clean test-asan test-tsan run-asan run-tsan test-sanitize soak fuzz \
  test-compat run-compat test-cmake format format-check surface-check client-suites
EXAMPLE  ?= chat
all: $(BUILD)/chat $(BUILD)/chatroom $(BUILD)/engine_echo $(BUILD)/sio_test_server $(BUILD)/unit_tests $(BUILD)/chat_node \
  $(BUILD)/client_suite_server

# ---- set-up: Debian packages (apt-get as root, otherwise the exact command to run) and npm packages (lockfile)
$(BUILD)/.deps: Makefile
	@$(call install_missing,$(DEB_PACKAGES))
	@mkdir -p $(BUILD) && touch $@

# The browser tests drive Debian's Chromium (never a browser downloaded by a test tool).
$(BUILD)/.test-deps: Makefile | $(BUILD)/.deps
	@$(call install_missing,$(TEST_PACKAGES))
	@touch $@

$(BUILD)/.py-deps: Makefile | $(BUILD)/.deps
	@$(call install_missing,$(PY_PACKAGES))
	@touch $@

# install_missing(packages): apt-get install what dpkg does not have (as root), or print the command to run.
define install_missing
	missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing || exit 1; \
	  else \
	    echo "missing Debian packages. Run:  sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi
endef

node_modules/.package-lock.json: package-lock.json | $(BUILD)/.deps
	npm ci --no-audit --no-fund
	@touch $@

deps: $(BUILD)/.deps node_modules/.package-lock.json

# ---- builds
$(BUILD)/engine_echo: examples/engine_echo.cpp $(HEADER) | $(BUILD)/.deps
	$(CXX) $(CXXFLAGS) $(WARNINGS) -o $@ $< $(LDLIBS)

$(BUILD)/chat: examples/chat/chat.cpp $(HEADER) | $(BUILD)/.deps
	$(CXX) $(CXXFLAGS) $(WARNINGS) -o $@ $< $(LDLIBS) $(TLS_LDLIBS)

# The chat room keeps its history in SQLite (tests/chatroom/chatroom.mk installs it and runs the history tests),
# and has the admin UI (-lcrypt, in CHATROOM_LDLIBS there).
$(BUILD)/chatroom: examples/chatroom/chatroom.cpp examples/chatroom/history.hpp $(HEADER) sioserver_admin.hpp | $(BUILD)/.chatroom-deps
	$(CXX) $(CXXFLAGS) $(WARNINGS) -o $@ $< $(LDLIBS) $(CHATROOM_LDLIBS) $(TLS_LDLIBS)

$(BUILD)/sio_test_server: tests/servers/sio_test_server.cpp $(HEADER) | $(BUILD)/.deps
	$(CXX) $(CXXFLAGS) $(WARNINGS) -o $@ $< $(LDLIBS) $(TLS_LDLIBS)

# What the official clients' own test suites talk to (make client-suites).
$(BUILD)/client_suite_server: tests/client_suites/support_server.cpp $(HEADER) | $(BUILD)/.deps
	$(CXX) $(CXXFLAGS) $(WARNINGS) -o $@ $< $(LDLIBS)

# The unit tests: one object per file, so that `make -j` compiles them side by side.
UNIT_SOURCES = $(wildcard tests/unit/*.cpp)
unit_objects = $(patsubst tests/unit/%.cpp,$(BUILD)/$(1)/%.o,$(UNIT_SOURCES))
$(BUILD)/unit/%.o: tests/unit/%.cpp $(HEADER) $(wildcard tests/unit/*.hpp) | $(BUILD)/.deps
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(WARNINGS) $(HTTPLIB_CFLAGS) -I. -c -o $@ $<
$(BUILD)/unit_tests: $(call unit_objects,unit)
	$(CXX) $(CXXFLAGS) -o $@ $^ $(LDLIBS)

# ---- the two commands of the README
# make run [EXAMPLE=chat|chatroom] [PORT=3000] [TLS=1]
# TLS=1 serves https (and wss) on the same port, with a self-signed certificate made once into $(BUILD)/tls/.
TLS_CERT = $(BUILD)/tls/cert.pem
TLS_KEY  = $(BUILD)/tls/key.pem
$(TLS_CERT): | $(BUILD)/.deps
	@mkdir -p $(@D)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 -subj /CN=localhost \
	  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout $(TLS_KEY) -out $@
run: $(BUILD)/$(EXAMPLE) node_modules/.package-lock.json $(if $(TLS),$(TLS_CERT))
	@echo "starting examples/$(EXAMPLE): open http$(if $(TLS),s)://localhost:$(PORT) in two browser tabs (Ctrl-C stops it)"
	@$(if $(TLS),echo "the certificate is self-signed: the browser asks once whether to trust it")
	PORT=$(PORT) $(if $(TLS),SIO_TLS_CERT=$(TLS_CERT) SIO_TLS_KEY=$(TLS_KEY)) ./$(BUILD)/$(EXAMPLE)

# Checks the layout, builds side by side (two cores), then runs the suites one after another (they must not compete
# for the CPU).
test:
	$(MAKE) format-check surface-check
	$(MAKE) -j2 all $(BUILD)/bench_unit_tests $(BUILD)/redis_unit_tests $(BUILD)/sio_cluster_server \
	  $(BUILD)/admin_unit_tests $(BUILD)/sio_admin_server
	$(MAKE) unit bench-unit redis-unit admin-unit
	$(MAKE) interop
	$(MAKE) admin-interop
	$(MAKE) cluster-interop
	$(MAKE) browser
	$(MAKE) chatroom-history
	$(MAKE) metrics-interop

unit: $(BUILD)/unit_tests
	./$(BUILD)/unit_tests

# The balancer tests (tests/interop/balancer.test.mjs) need nginx and HAProxy (.cluster-deps).
interop: $(BUILD)/engine_echo $(BUILD)/sio_test_server $(BUILD)/.cluster-deps $(BUILD)/.py-deps \
  node_modules/.package-lock.json
	node --test --test-concurrency=2 tests/interop/

# The cluster test (tests/browser/cluster.test.mjs) starts chat_node behind nginx or HAProxy.
browser: $(BUILD)/chat $(BUILD)/chatroom $(BUILD)/chat_node $(BUILD)/.test-deps $(BUILD)/.cluster-deps \
  node_modules/.package-lock.json
	node --test --test-concurrency=1 tests/browser/

# ---- layout: every C++ file as .clang-format says (clang-format 14), and no line past 120 columns (comments
# included: clang-format leaves them as written). `make format` rewrites the files; a long comment is left to wrap
# by hand.
FORMAT_PACKAGES = clang-format
FORMAT_FILES = $(wildcard sioserver*.hpp) $(shell find examples tests bench -name '*.cpp' -o -name '*.hpp' -o -name '*.h')
$(BUILD)/.format-deps: Makefile | $(BUILD)/.deps
	@$(call install_missing,$(FORMAT_PACKAGES))
	@touch $@
format-check: $(BUILD)/.format-deps
	@echo "clang-format --dry-run --Werror (the C++ files)" && clang-format --dry-run --Werror $(FORMAT_FILES)
	@perl -CSD -ne 'chomp; if (length > 120) { print "$$ARGV:$$.: " . length . " columns\n"; $$long = 1 } close ARGV if eof; END { exit($$long ? 1 : 0) }' $(FORMAT_FILES)
format: $(BUILD)/.format-deps
	clang-format -i $(FORMAT_FILES)

# The add-ons use the public API, Adapter's protected members and sio::ext only (the header's first screen, EXTEND):
# a name of the core's detail in one of them fails `make test`.
ADDONS = sioserver_redis.hpp sioserver_admin.hpp sioserver_metrics.hpp
surface-check:
	@if grep -nE '(sio|eio)::detail' $(ADDONS); then \
	  echo "surface-check: an add-on above names the core's detail; use the public API or sio::ext"; exit 1; fi
	@echo "surface-check: the add-ons name no detail of the core"

# ---- sanitizers: the unit tests and the servers the interop tests drive, built instrumented; any report fails
# -g1 (line tables, inlined frames kept) instead of -g: every report still names file:line of each frame, and the
# full debug info was about 30% of the compile time of these builds, the longest part of test-sanitize.
ASAN_FLAGS = -std=c++17 -O1 -g1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
TSAN_FLAGS = -std=c++17 -O1 -g1 -fsanitize=thread

define sanitized_build
$(BUILD)/$(1)/engine_echo: examples/engine_echo.cpp $(HEADER) | $(BUILD)/.deps
	@mkdir -p $$(@D)
	$(CXX) $(2) -o $$@ $$< $$(LDLIBS)
$(BUILD)/$(1)/sio_test_server: tests/servers/sio_test_server.cpp $(HEADER) | $(BUILD)/.deps
	@mkdir -p $$(@D)
	$(CXX) $(2) -o $$@ $$< $$(LDLIBS) $$(TLS_LDLIBS)
$(BUILD)/$(1)/unit/%.o: tests/unit/%.cpp $(HEADER) $(wildcard tests/unit/*.hpp) | $(BUILD)/.deps
	@mkdir -p $$(@D)
	$(CXX) $(2) $$(HTTPLIB_CFLAGS) -I. -c -o $$@ $$<
$(BUILD)/$(1)/unit_tests: $$(call unit_objects,$(1)/unit)
	$(CXX) $(2) -o $$@ $$^ $$(LDLIBS)
endef
$(eval $(call sanitized_build,asan,$(ASAN_FLAGS)))
$(eval $(call sanitized_build,tsan,$(TSAN_FLAGS)))

# Run-time options of each kind: every report is written to a file under the directory given (log_path).
# sanitizer_env(kind, reports directory) is the environment a sanitized suite runs in.
ASAN_OPTIONS_BASE = detect_leaks=1
UBSAN_OPTIONS_BASE = print_stacktrace=1
TSAN_OPTIONS_BASE = second_deadlock_stack=1:suppressions=$(CURDIR)/tests/tsan.supp
asan_env = ASAN_OPTIONS=$(ASAN_OPTIONS_BASE):log_path=$(1)/asan UBSAN_OPTIONS=$(UBSAN_OPTIONS_BASE):log_path=$(1)/ubsan
tsan_env = TSAN_OPTIONS=$(TSAN_OPTIONS_BASE):log_path=$(1)/tsan
sanitizer_env = $(call $(1)_env,$(2))

# run_sanitized(name, kind, reports directory, command): the recipe of every sanitized suite (here and in the
# tests/*/*.mk files). The command runs with the kind's options exported; whether it passed or not, the reports it
# left are printed, and any report fails the target.
define run_sanitized
	@rm -rf $(3) && mkdir -p $(3)
	export $(call sanitizer_env,$(2),$(3)); status=0; $(4) || status=$$?; \
	if ls $(3)/* >/dev/null 2>&1; then cat $(3)/*; echo "$(1): sanitizer reports above"; exit 1; fi; \
	if [ $$status != 0 ]; then echo "$(1): failed (exit $$status)"; exit $$status; fi; \
	echo "$(1): no sanitizer reports"
endef

# The unit tests, then the interop suite against the instrumented servers.
define sanitized_suite
test-$(1):
	$$(MAKE) -j2 $(BUILD)/$(1)/unit_tests $(BUILD)/$(1)/engine_echo $(BUILD)/$(1)/sio_test_server
	$$(MAKE) run-$(1)
run-$(1): $(BUILD)/$(1)/unit_tests $(BUILD)/$(1)/engine_echo $(BUILD)/$(1)/sio_test_server $(BUILD)/.py-deps \
  node_modules/.package-lock.json
	$$(call run_sanitized,run-$(1),$(1),$(CURDIR)/$(BUILD)/$(1)/reports, \
	  ./$(BUILD)/$(1)/unit_tests && \
	  ENGINE_ECHO=$(CURDIR)/$(BUILD)/$(1)/engine_echo SIO_SERVER=$(CURDIR)/$(BUILD)/$(1)/sio_test_server \
	  SIO_RECOVERY_SCALE=0 SIO_TIMING_CHECKS=0 node --test --test-concurrency=1 tests/interop/)
endef
$(foreach k,asan tsan,$(eval $(call sanitized_suite,$(k))))

# make test-sanitize: every instrumented program built side by side, then every sanitized suite, one after another
# (the suites of tests/*/*.mk included). Each suite runs even when one before it failed; the wall time of each is
# printed, and the target fails naming the suites that did.
SANITIZERS         = asan tsan
SANITIZED_PROGRAMS = unit_tests engine_echo sio_test_server redis_unit_tests sio_cluster_server sio_admin_server chatroom
SANITIZED_SUITES   = run-% redis-unit-% cluster-interop-% admin-interop-% chatroom-history-%
test-sanitize:
	$(MAKE) -j2 $(foreach k,$(SANITIZERS),$(addprefix $(BUILD)/$(k)/,$(SANITIZED_PROGRAMS))) \
	  node_modules/.package-lock.json $(BUILD)/.chatroom-test-deps $(BUILD)/.cluster-deps
	@failed=""; times=""; for s in $(foreach k,$(SANITIZERS),$(subst %,$(k),$(SANITIZED_SUITES))); do \
	  start=$$(date +%s); $(MAKE) $$s || failed="$$failed $$s"; \
	  times="$$times$$(printf '%-24s %5d s' $$s $$(( $$(date +%s) - start )))\n"; \
	done; printf "test-sanitize, wall time of each suite:\n$$times"; \
	if [ -n "$$failed" ]; then echo "test-sanitize: failed:$$failed"; exit 1; fi

# ---- compatibility: the header against every cpp-httplib a user may have, with both compilers.
# Each upstream release in $(COMPAT_DIR) (header-only: -isystem, no -lcpp-httplib) and Debian's library (pkg-config)
# builds engine_echo and sio_test_server with g++ and with clang++, warnings as errors; the interop suite runs
# against every one of those builds. The examples and unit tests are built and run with clang++ too (make test
# builds them with g++). Last, releases the seam cannot know (made by editing the newest one in a temp dir) must
# stop the build with the seam's one error (tests/compat/unknown_httplib.sh).
COMPAT_DIR      ?= ../shared/compat/cpp-httplib
COMPAT_VERSIONS := $(sort $(notdir $(wildcard $(COMPAT_DIR)/v*)))
COMPAT_HTTPLIBS  = debian $(COMPAT_VERSIONS)
COMPAT_BUILDS    = $(foreach c,gcc clang,$(foreach v,$(COMPAT_HTTPLIBS),$(c)-$(v)))
compat_cxx       = $(if $(filter gcc,$(1)),g++,clang++)
# The upstream headers are built with zlib, as Debian's library is, so that every release's gzip compressor serves
# the polling responses (httpCompression, layer 2g) in the interop suite.
compat_flags     = $(if $(filter debian,$(1)),,-isystem $(COMPAT_DIR)/$(1) -DCPPHTTPLIB_ZLIB_SUPPORT)
compat_libs      = $(if $(filter debian,$(1)),$(HTTPLIB) $(TLS_LDLIBS),-lz) -pthread

# compat_server(compiler, httplib, server, source): one server of one build of the matrix, in
# $(BUILD)/compat/<compiler>-<httplib>/. -O2 as make test (g++'s flow warnings need it), but no -g: nobody debugs
# these builds, and the debug info was about a third of their compile time.
define compat_server
$(BUILD)/compat/$(1)-$(2)/$(3): $(4) $(HEADER) | $(BUILD)/.compat-deps
	@mkdir -p $$(@D)
	$(call compat_cxx,$(1)) -std=c++17 -O2 $$(WARNINGS) $(call compat_flags,$(2)) -o $$@ $$< $(call compat_libs,$(2))
endef
# g++ with Debian's library is what make test builds (same compiler, flags and libraries): when CXX and CXXFLAGS
# are the defaults, that build is copied (built first if it is missing) rather than compiled a second time.
COMPAT_REUSE =
ifeq ($(strip $(CXX) $(CXXFLAGS)),g++ -std=c++17 -O2 -g1)
COMPAT_REUSE = gcc-debian
$(BUILD)/compat/gcc-debian/engine_echo $(BUILD)/compat/gcc-debian/sio_test_server: \
  $(BUILD)/compat/gcc-debian/%: $(BUILD)/% | $(BUILD)/.compat-deps
	@mkdir -p $(@D)
	cp $< $@
endif
$(foreach c,gcc clang,$(foreach v,$(COMPAT_HTTPLIBS),$(if $(filter $(COMPAT_REUSE),$(c)-$(v)),,\
  $(eval $(call compat_server,$(c),$(v),engine_echo,examples/engine_echo.cpp))\
  $(eval $(call compat_server,$(c),$(v),sio_test_server,tests/servers/sio_test_server.cpp)))))
COMPAT_TARGETS = $(foreach b,$(COMPAT_BUILDS),$(BUILD)/compat/$(b)/engine_echo $(BUILD)/compat/$(b)/sio_test_server)

$(BUILD)/.compat-deps: Makefile | $(BUILD)/.deps
	@$(call install_missing,clang zlib1g-dev)
	@touch $@

test-compat:
	@test -n "$(COMPAT_VERSIONS)" || { echo "no cpp-httplib releases in $(COMPAT_DIR)"; exit 1; }
	$(MAKE) -j2 $(COMPAT_TARGETS)
	$(MAKE) -j2 CXX=clang++ CXXFLAGS="-std=c++17 -O2" BUILD=$(BUILD)/clang \
	  $(BUILD)/clang/chat $(BUILD)/clang/chatroom $(BUILD)/clang/unit_tests
	$(MAKE) run-compat
	COMPAT_DIR=$(COMPAT_DIR) bash tests/compat/unknown_httplib.sh

run-compat: $(COMPAT_TARGETS) node_modules/.package-lock.json
	./$(BUILD)/clang/unit_tests
	@for b in $(COMPAT_BUILDS); do \
	  echo "== interop suite against $(BUILD)/compat/$$b"; \
	  ENGINE_ECHO=$(CURDIR)/$(BUILD)/compat/$$b/engine_echo SIO_SERVER=$(CURDIR)/$(BUILD)/compat/$$b/sio_test_server \
	  SIO_RECOVERY_SCALE=0 SIO_TIMING_CHECKS=0 node --test --test-concurrency=2 --test-reporter=dot --test-reporter-destination=stdout \
	      --test-reporter=tap --test-reporter-destination=$(BUILD)/compat/$$b/interop.tap tests/interop/ \
	    || { echo "interop failed: $$b"; exit 1; }; \
	  echo "$$b: $$(grep -E '^# (tests|pass|fail|skipped) ' $(BUILD)/compat/$$b/interop.tap | sed 's/^# //' | paste -sd' ')"; \
	done
	@echo "test-compat: $(words $(COMPAT_BUILDS)) builds ($(COMPAT_HTTPLIBS); g++ and clang++) passed the interop suite"

# ---- CMake: the INTERFACE target sioserver::sioserver (CMakeLists.txt), configured, built and run by a tiny consumer
# project through add_subdirectory (cpp-httplib from pkg-config) and through FetchContent (from a CMake package).
$(BUILD)/.cmake-deps: Makefile | $(BUILD)/.deps
	@$(call install_missing,cmake)
	@touch $@
test-cmake: $(BUILD)/.cmake-deps
	COMPAT_DIR=$(COMPAT_DIR) bash tests/cmake/run.sh

# ---- fuzzing: libFuzzer targets for every decoder of network input (tests/fuzz/), each run for FUZZ_SECONDS after
# replaying the saved crash inputs of tests/fuzz/regressions/.
FUZZ_SECONDS ?= 60
$(BUILD)/.fuzz-deps: Makefile | $(BUILD)/.deps
	@$(call install_missing,$(FUZZ_PACKAGES))
	@touch $@
fuzz: $(BUILD)/.fuzz-deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_REGRESSIONS=1 bash tests/fuzz/run.sh

# ---- the official clients' own test suites (socket.io-client 4.8, engine.io-client 6.6) against sioserver; they
# come from a socketio/socket.io clone you point SOCKETIO_GIT at (not in .ci/run: CI has no such clone).
client-suites: $(BUILD)/client_suite_server
	SOCKETIO_GIT=$(SOCKETIO_GIT) tests/client_suites/run.sh

# ---- soak: connect / emit / disconnect cycles (mixed transports, abrupt drops, ping time-outs) against the test
# server; threads, fds and RSS must come back and every message to a connected client arrive once, in order.
SOAK_CYCLES ?= 10000
soak: $(BUILD)/sio_test_server node_modules/.package-lock.json
	node tests/soak/soak.mjs --cycles $(SOAK_CYCLES)

# ---- several nodes: make cluster, and what the cluster tests need ------------------------------------------------
# Redis, two sioserver tutorial-chat nodes with the Redis adapter (examples/cluster/chat_node.cpp), a Node node
# (examples/cluster/node_node.mjs) and a balancer on $(PORT): nginx (BALANCER=nginx) or HAProxy (BALANCER=haproxy),
# from the templates in examples/cluster/. Ctrl-C stops them all. The cluster tests (tests/browser/cluster.test.mjs,
# tests/interop/balancer.test.mjs) run the same script and configs on free ports.
CLUSTER_PACKAGES = libhiredis-dev libmsgpack-cxx-dev redis-server nginx haproxy curl
BALANCER ?= nginx
ADAPTER  ?= classic
.PHONY: cluster
$(BUILD)/.cluster-deps: Makefile | $(BUILD)/.deps
	@$(call install_missing,$(CLUSTER_PACKAGES))
	@touch $@

$(BUILD)/chat_node: examples/cluster/chat_node.cpp $(HEADER) sioserver_redis.hpp | $(BUILD)/.cluster-deps
	$(CXX) $(CXXFLAGS) $(WARNINGS) $(REDIS_CXXFLAGS) -o $@ $< $(LDLIBS) $(REDIS_LDLIBS)

cluster: $(BUILD)/chat_node node_modules/.package-lock.json
	@PORT=$(PORT) BALANCER=$(BALANCER) ADAPTER=$(ADAPTER) bash examples/cluster/cluster.sh $(BUILD)/chat_node

clean:
	rm -rf $(BUILD)

# ---- benchmarks against Node's socket.io: make bench, make bench-quick (and bench-unit, run by make test)
include bench/Makefile.inc
include tests/redis/redis.mk
include tests/admin/admin.mk

# ---- the cluster interop suite: make cluster-interop (after redis.mk: it uses REDIS_*)
include tests/cluster/cluster.mk

# ---- the chat room's history in SQLite: its packages, make chatroom-history (-asan, -tsan)
include tests/chatroom/chatroom.mk

# ---- the Prometheus metrics endpoint: Debian's promtool and Prometheus, make metrics-interop
include tests/metrics/metrics.mk
