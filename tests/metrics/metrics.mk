# The Prometheus metrics endpoint's interop suite: `make metrics-interop` runs tests/metrics/*.test.mjs, which check
# the exposition with Debian's promtool and scrape it with Debian's Prometheus (both from the `prometheus` package).
# Included from the Makefile, which defines BUILD and install_missing.
METRICS_DEB_PACKAGES = prometheus

.PHONY: metrics-interop metrics-deps

$(BUILD)/.metrics-deps: tests/metrics/metrics.mk | $(BUILD)/.deps
	@$(call install_missing,$(METRICS_DEB_PACKAGES))
	@touch $@
metrics-deps: $(BUILD)/.metrics-deps

# One file at a time: each starts its own Prometheus. The servers: sio_test_server --metrics, and the chat room.
metrics-interop: $(BUILD)/sio_test_server $(BUILD)/chatroom node_modules/.package-lock.json $(BUILD)/.metrics-deps
	node --test --test-concurrency=1 tests/metrics/
