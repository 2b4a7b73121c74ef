# The Redis adapter (sioserver_redis.hpp): its Debian packages, and its unit tests (`make redis-unit`).
# Included from the Makefile, which defines CXX, CXXFLAGS, WARNINGS, HTTPLIB_CFLAGS, LDLIBS, BUILD and install_missing.
REDIS_HEADER       = sioserver_redis.hpp
REDIS_CXXFLAGS     = -DMSGPACK_NO_BOOST
REDIS_LDLIBS       = -lhiredis
REDIS_DEB_PACKAGES = libhiredis-dev libmsgpack-cxx-dev redis-server

.PHONY: redis-unit redis-deps

$(BUILD)/.redis-deps: tests/redis/redis.mk | $(BUILD)/.deps
	@$(call install_missing,$(REDIS_DEB_PACKAGES))
	@touch $@
redis-deps: $(BUILD)/.redis-deps

# One object per test file, as for tests/unit.
REDIS_UNIT_SOURCES = $(wildcard tests/redis/unit/*.cpp)
REDIS_UNIT_OBJECTS = $(patsubst tests/redis/unit/%.cpp,$(BUILD)/redis_unit/%.o,$(REDIS_UNIT_SOURCES))
$(BUILD)/redis_unit/%.o: tests/redis/unit/%.cpp $(wildcard tests/redis/unit/*.hpp) $(HEADER) $(REDIS_HEADER) | $(BUILD)/.redis-deps
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(WARNINGS) $(HTTPLIB_CFLAGS) $(REDIS_CXXFLAGS) -I. -c -o $@ $<
$(BUILD)/redis_unit_tests: $(REDIS_UNIT_OBJECTS)
	$(CXX) $(CXXFLAGS) -o $@ $^ $(LDLIBS) $(REDIS_LDLIBS)

# The codec tests run tests/redis/node_codec.mjs (the real npm packages), from the repository's root.
redis-unit: $(BUILD)/redis_unit_tests node_modules/.package-lock.json
	./$(BUILD)/redis_unit_tests

# The same tests instrumented: make redis-unit-asan, make redis-unit-tsan (the Makefile's run_sanitized: any report
# fails them).
define redis_sanitized
$(BUILD)/$(1)/redis_unit/%.o: tests/redis/unit/%.cpp $$(wildcard tests/redis/unit/*.hpp) $(HEADER) $(REDIS_HEADER) | $(BUILD)/.redis-deps
	@mkdir -p $$(@D)
	$(CXX) $(2) $$(HTTPLIB_CFLAGS) $(REDIS_CXXFLAGS) -I. -c -o $$@ $$<
$(BUILD)/$(1)/redis_unit_tests: $$(patsubst tests/redis/unit/%.cpp,$(BUILD)/$(1)/redis_unit/%.o,$(REDIS_UNIT_SOURCES))
	$(CXX) $(2) -o $$@ $$^ $$(LDLIBS) $(REDIS_LDLIBS)
redis-unit-$(1): $(BUILD)/$(1)/redis_unit_tests node_modules/.package-lock.json
	$$(call run_sanitized,redis-unit-$(1),$(1),$(CURDIR)/$(BUILD)/$(1)/redis-reports,./$(BUILD)/$(1)/redis_unit_tests)
endef
$(eval $(call redis_sanitized,asan,$(ASAN_FLAGS)))
$(eval $(call redis_sanitized,tsan,$(TSAN_FLAGS)))
.PHONY: redis-unit-asan redis-unit-tsan
