# tests/cluster/cluster.mk — the cluster interop suite, included by the main Makefile:
#     include tests/cluster/cluster.mk
# make cluster-interop   two C++ nodes (tests/servers/sio_cluster_server.cpp) and one Node node
#                        (tests/cluster/node_node.mjs) on one Redis, behind nginx and HAProxy, driven by the official
#                        clients (tests/cluster/*.test.mjs). redis-server, nginx and haproxy are Debian's, started by
#                        the tests in the foreground on free ports from configs in a temp dir, and stopped by PID.
# CLUSTER_CPP_SERVER="node tests/cluster/node_node.mjs" make cluster-interop-self   the same tests on Node nodes only
.PHONY: cluster-interop cluster-interop-self

# Included after tests/redis/redis.mk (REDIS_HEADER, REDIS_CXXFLAGS, REDIS_LDLIBS); the Debian packages are the
# Makefile's $(BUILD)/.cluster-deps (CLUSTER_PACKAGES: hiredis, msgpack-cxx, redis-server, nginx, haproxy).
$(BUILD)/sio_cluster_server: tests/servers/sio_cluster_server.cpp $(HEADER) $(REDIS_HEADER) | $(BUILD)/.cluster-deps
	$(CXX) $(CXXFLAGS) $(WARNINGS) $(REDIS_CXXFLAGS) -o $@ $< $(LDLIBS) $(REDIS_LDLIBS)

# One file at a time: each starts its own Redis, nodes and balancers, and the machine has two cores.
cluster-interop: $(BUILD)/sio_cluster_server $(BUILD)/.cluster-deps node_modules/.package-lock.json
	node --test --test-concurrency=1 tests/cluster/

cluster-interop-self: $(BUILD)/.cluster-deps node_modules/.package-lock.json
	CLUSTER_CPP_SERVER="node tests/cluster/node_node.mjs" node --test --test-concurrency=1 tests/cluster/

# The same suite against C++ nodes built with AddressSanitizer + UBSan, or ThreadSanitizer (any report fails):
# make cluster-interop-asan, make cluster-interop-tsan (ASAN_FLAGS, TSAN_FLAGS and run_sanitized are the Makefile's).
define cluster_sanitized
$(BUILD)/$(1)/sio_cluster_server: tests/servers/sio_cluster_server.cpp $(HEADER) $(REDIS_HEADER) | $(BUILD)/.cluster-deps
	@mkdir -p $$(@D)
	$(CXX) $(2) $(REDIS_CXXFLAGS) -o $$@ $$< $$(LDLIBS) $(REDIS_LDLIBS)
cluster-interop-$(1): $(BUILD)/$(1)/sio_cluster_server $(BUILD)/.cluster-deps node_modules/.package-lock.json
	$$(call run_sanitized,cluster-interop-$(1),$(1),$(CURDIR)/$(BUILD)/$(1)/cluster-reports, \
	  CLUSTER_CPP_SERVER=$(CURDIR)/$(BUILD)/$(1)/sio_cluster_server node --test --test-concurrency=1 tests/cluster/)
endef
$(eval $(call cluster_sanitized,asan,$(ASAN_FLAGS)))
$(eval $(call cluster_sanitized,tsan,$(TSAN_FLAGS)))
.PHONY: cluster-interop-asan cluster-interop-tsan
