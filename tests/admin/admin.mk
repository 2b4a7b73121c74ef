# The admin UI add-on (sioserver_admin.hpp): its test server, its unit tests and its protocol tests against npm
# @socket.io/admin-ui (`make admin`, part of `make test`). Included from the Makefile, which defines CXX, CXXFLAGS,
# WARNINGS, HTTPLIB_CFLAGS, LDLIBS, BUILD, ASAN_FLAGS, TSAN_FLAGS, run_sanitized and install_missing.
ADMIN_HEADER       = sioserver_admin.hpp
ADMIN_LDLIBS       = -lcrypt
# libcrypt-dev: libxcrypt's crypt_r, which checks the bcrypt hashes (g++ brings it on Debian, named all the same).
ADMIN_DEB_PACKAGES = libcrypt-dev

.PHONY: admin admin-unit admin-interop admin-interop-asan admin-interop-tsan

$(BUILD)/.admin-deps: tests/admin/admin.mk | $(BUILD)/.deps
	@$(call install_missing,$(ADMIN_DEB_PACKAGES))
	@touch $@

$(BUILD)/sio_admin_server: tests/servers/sio_admin_server.cpp $(HEADER) $(ADMIN_HEADER) | $(BUILD)/.admin-deps
	$(CXX) $(CXXFLAGS) $(WARNINGS) -o $@ $< $(LDLIBS) $(ADMIN_LDLIBS)

ADMIN_UNIT_SOURCES = $(wildcard tests/admin/unit/*.cpp)
$(BUILD)/admin_unit/%.o: tests/admin/unit/%.cpp $(HEADER) $(ADMIN_HEADER) | $(BUILD)/.admin-deps
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(WARNINGS) $(HTTPLIB_CFLAGS) -I. -c -o $@ $<
$(BUILD)/admin_unit_tests: $(patsubst tests/admin/unit/%.cpp,$(BUILD)/admin_unit/%.o,$(ADMIN_UNIT_SOURCES))
	$(CXX) $(CXXFLAGS) -o $@ $^ $(LDLIBS) $(ADMIN_LDLIBS)

# The unit tests run bcryptjs (node_modules) from the repository's root.
admin-unit: $(BUILD)/admin_unit_tests node_modules/.package-lock.json
	./$(BUILD)/admin_unit_tests

admin-interop: $(BUILD)/sio_admin_server node_modules/.package-lock.json
	node --test --test-concurrency=1 tests/admin/

admin: admin-unit admin-interop

# The protocol tests against an instrumented server (any report fails them).
define admin_sanitized
$(BUILD)/$(1)/sio_admin_server: tests/servers/sio_admin_server.cpp $(HEADER) $(ADMIN_HEADER) | $(BUILD)/.admin-deps
	@mkdir -p $$(@D)
	$(CXX) $(2) -o $$@ $$< $$(LDLIBS) $(ADMIN_LDLIBS)
admin-interop-$(1): $(BUILD)/$(1)/sio_admin_server node_modules/.package-lock.json
	$$(call run_sanitized,admin-interop-$(1),$(1),$(CURDIR)/$(BUILD)/$(1)/admin-reports, \
	  ADMIN_SERVER=$(CURDIR)/$(BUILD)/$(1)/sio_admin_server node --test --test-concurrency=1 tests/admin/)
endef
$(eval $(call admin_sanitized,asan,$(ASAN_FLAGS)))
$(eval $(call admin_sanitized,tsan,$(TSAN_FLAGS)))
