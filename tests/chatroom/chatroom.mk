# The chat room's history in SQLite (examples/chatroom/history.hpp): its Debian packages, and its tests
# (`make chatroom-history`, and `chatroom-history-asan` / `-tsan` against instrumented builds of the chatroom).
# Included from the Makefile, which defines CXX, CXXFLAGS, WARNINGS, LDLIBS, BUILD, HEADER, the sanitizer flags,
# run_sanitized and install_missing.
CHATROOM_SOURCES       = examples/chatroom/chatroom.cpp examples/chatroom/history.hpp
CHATROOM_LDLIBS        = -lsqlite3 -lcrypt  # the history, and the admin UI's bcrypt check (sioserver_admin.hpp)
CHATROOM_DEB_PACKAGES  = libsqlite3-dev
CHATROOM_TEST_PACKAGES = sqlite3  # the shell the tests hold a lock on the database with, and break writes with

.PHONY: chatroom-history chatroom-history-asan chatroom-history-tsan

$(BUILD)/.chatroom-deps: tests/chatroom/chatroom.mk | $(BUILD)/.deps
	@$(call install_missing,$(CHATROOM_DEB_PACKAGES))
	@touch $@
$(BUILD)/.chatroom-test-deps: tests/chatroom/chatroom.mk | $(BUILD)/.chatroom-deps
	@$(call install_missing,$(CHATROOM_TEST_PACKAGES))
	@touch $@

chatroom-history: $(BUILD)/chatroom $(BUILD)/.chatroom-test-deps node_modules/.package-lock.json
	node --test --test-concurrency=1 tests/chatroom/

# chatroom_sanitized(kind, flags): the chatroom built instrumented in $(BUILD)/<kind>/, the history tests
# run against it (CHATROOM=...); the reports go to $(BUILD)/<kind>/chatroom-reports/ and any report fails.
define chatroom_sanitized
$(BUILD)/$(1)/chatroom: $(CHATROOM_SOURCES) $(HEADER) sioserver_admin.hpp | $(BUILD)/.chatroom-deps
	@mkdir -p $$(@D)
	$(CXX) $(2) -o $$@ $$< $$(LDLIBS) $(CHATROOM_LDLIBS) $$(TLS_LDLIBS)
chatroom-history-$(1): $(BUILD)/$(1)/chatroom $(BUILD)/.chatroom-test-deps node_modules/.package-lock.json
	$$(call run_sanitized,chatroom-history-$(1),$(1),$(CURDIR)/$(BUILD)/$(1)/chatroom-reports, \
	  CHATROOM=$(CURDIR)/$(BUILD)/$(1)/chatroom node --test --test-concurrency=1 tests/chatroom/)
endef
$(eval $(call chatroom_sanitized,asan,$(ASAN_FLAGS)))
$(eval $(call chatroom_sanitized,tsan,$(TSAN_FLAGS)))
