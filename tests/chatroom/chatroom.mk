# The chat room's history in SQLite (examples/chatroom/history.hpp): its Debian packages, and its tests
# (`make chatroom-history`, and `chatroom-history-asan` / `-tsan` against instrumented builds of the chatroom).
# Included from the Makefile, which defines CXX, CXXFLAGS, WARNINGS, LDLIBS, BUILD, HEADER, the sanitizer flags and
# install_missing.
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

# chatroom_sanitized(kind, flags, options): the chatroom built instrumented in $(BUILD)/<kind>/, the history tests
# run against it (CHATROOM=...); the reports go to $(BUILD)/<kind>/chatroom-reports/ and any report fails.
define chatroom_sanitized
$(BUILD)/$(1)/chatroom: $(CHATROOM_SOURCES) $(HEADER) sioserver_admin.hpp | $(BUILD)/.chatroom-deps
	@mkdir -p $$(@D)
	$(CXX) $(2) -o $$@ $$< $$(LDLIBS) $(CHATROOM_LDLIBS) $$(TLS_LDLIBS)
chatroom-history-$(1): $(BUILD)/$(1)/chatroom $(BUILD)/.chatroom-test-deps node_modules/.package-lock.json
	@rm -rf $(BUILD)/$(1)/chatroom-reports && mkdir -p $(BUILD)/$(1)/chatroom-reports
	$(3) CHATROOM=$(CURDIR)/$(BUILD)/$(1)/chatroom node --test --test-concurrency=1 tests/chatroom/
	@if ls $(BUILD)/$(1)/chatroom-reports/* >/dev/null 2>&1; then cat $(BUILD)/$(1)/chatroom-reports/*; \
	  echo "chatroom-history-$(1): sanitizer reports above"; exit 1; else echo "chatroom-history-$(1): no sanitizer reports"; fi
endef
$(eval $(call chatroom_sanitized,asan,$(ASAN_FLAGS),ASAN_OPTIONS=detect_leaks=1:log_path=$(CURDIR)/$(BUILD)/asan/chatroom-reports/asan UBSAN_OPTIONS=print_stacktrace=1:log_path=$(CURDIR)/$(BUILD)/asan/chatroom-reports/ubsan))
$(eval $(call chatroom_sanitized,tsan,$(TSAN_FLAGS),TSAN_OPTIONS=second_deadlock_stack=1:suppressions=$(CURDIR)/tests/tsan.supp:log_path=$(CURDIR)/$(BUILD)/tsan/chatroom-reports/tsan))
