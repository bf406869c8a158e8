# chat_server: see README.md.  `make`, `make check`, `make install`, `make run`.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
DATADIR    ?= $(PREFIX)/share/chat_server
MANDIR     ?= $(PREFIX)/share/man
# Where systemd looks, for /usr and /usr/local alike (systemd-sysctl reads
# /usr/local/lib/sysctl.d and /usr/lib/sysctl.d, never /usr/local/etc).
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
TMPFILESDIR    ?= $(PREFIX)/lib/tmpfiles.d
SYSCTLDIR      ?= $(PREFIX)/lib/sysctl.d
# logrotate and AppArmor read /etc only: with another PREFIX, set these to
# /etc/logrotate.d and /etc/apparmor.d (docs/deployment.md).
LOGROTATEDIR   ?= $(SYSCONFDIR)/logrotate.d
APPARMORDIR    ?= $(SYSCONFDIR)/apparmor.d
# The Apache snippet: beside the pages by default, for an Include; a
# package puts it in /etc/apache2/conf-available (a2enconf chat_server).
APACHECONFDIR  ?= $(DATADIR)/apache2
# What the unit starts chat_server under (Debian's websocketd).
WEBSOCKETD     ?= /usr/bin/websocketd
DESTDIR    ?=

# The version is written once, in debian/changelog's first line.
VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null)
VERSION := $(if $(VERSION),$(VERSION),unknown)

CC      ?= cc
PKG_CONFIG ?= pkg-config
BUILD   ?= build

# iniparser ships no .pc file on Debian; use one where it exists.
INIPARSER_CFLAGS := $(shell $(PKG_CONFIG) --cflags iniparser 2>/dev/null || echo -I/usr/include/iniparser)
INIPARSER_LIBS   := $(shell $(PKG_CONFIG) --libs iniparser 2>/dev/null || echo -liniparser)
DEPS_CFLAGS := $(INIPARSER_CFLAGS) $(shell $(PKG_CONFIG) --cflags jansson libcrypto libcurl)
# libcurl and libcrypto are not linked: src/sso.c and src/crypto.c load them
# when they are first needed (see there why).
# iniparser and jansson are linked statically by default: every connection
# is a process, and each shared library costs it relocated, unshared pages
# (docs/benchmarks.md).  The price is a rebuild when Debian fixes either
# library; STATIC_DEPS=no links them as shared libraries instead.
STATIC_DEPS ?= yes
ifeq ($(STATIC_DEPS),yes)
DEPS_LIBS   := -Wl,-Bstatic $(INIPARSER_LIBS) \
               $(shell $(PKG_CONFIG) --static --libs jansson) -Wl,-Bdynamic -ldl
else
DEPS_LIBS   := $(INIPARSER_LIBS) $(shell $(PKG_CONFIG) --libs jansson) -ldl
endif

# CPPFLAGS, CFLAGS and LDFLAGS given in the environment or on the command
# line (dpkg-buildflags's, a distribution's) are kept, and what the build
# needs is appended.  Such a build chooses its own optimisation level and
# _FORTIFY_SOURCE level, and is not made to fail on a warning: -Werror is
# for `make check`, which passes WERROR=-Werror to its sub-make.
ifeq ($(strip $(CFLAGS)),)
OPT      ?= -O2 -g
endif
WERROR   ?=
WARN     := -Wall -Wextra $(WERROR) -Wshadow -Wformat=2 -Wformat-security \
            -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wpointer-arith
FORTIFY  := $(if $(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),,-D_FORTIFY_SOURCE=2)
HARDEN   := -fstack-protector-strong -fPIE $(FORTIFY)
override CPPFLAGS += -Iinclude -D_GNU_SOURCE \
                     -DSYSCONFDIR='"$(SYSCONFDIR)"' \
                     -DCHAT_SERVER_VERSION='"$(VERSION)"' $(DEPS_CFLAGS)
override CFLAGS   += -std=c11 $(OPT) $(WARN) $(HARDEN) -MMD -MP
override LDFLAGS  += -pie -Wl,-z,relro,-z,now -Wl,--as-needed
override LDLIBS   += $(DEPS_LIBS)

# The sanitizer build runs the same integration suite.
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer

SRC      := $(wildcard src/*.c)
LIB_SRC  := $(filter-out src/main.c,$(SRC))
OBJ      := $(SRC:src/%.c=$(BUILD)/obj/%.o)
SAN_OBJ  := $(SRC:src/%.c=$(BUILD)/san/%.o)
SAN_LIB_OBJ := $(LIB_SRC:src/%.c=$(BUILD)/san/%.o)
SAN_LIB  := $(BUILD)/san/lib.a
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)

BIN      := $(BUILD)/chat_server
SAN_BIN  := $(BUILD)/san/chat_server
# The unit, AppArmor profile, logrotate rule and man pages, with the paths
# of the prefix (below).
GEN      := $(BUILD)/gen
GEN_CONF := $(GEN)/chat_server.service $(GEN)/chat_server-archive.service \
            $(GEN)/apparmor.chat_server \
            $(GEN)/logrotate.chat_server
GEN_MAN  := $(GEN)/chat_server.8 $(GEN)/websocket_chat_server.ini.5
GEN_ALL  := $(GEN_CONF) $(GEN_MAN)
# One test file at a time, on Node.js 18 and newer (tests/run-integration.js).
NODE_TEST := node tests/run-integration.js

.PHONY: all check test-deps unit integration integration-san integration-redis web packaging install uninstall run clean bench bench-smoke bench-callgrind bench-redis bench-scale fuzz fuzz-smoke lint

all: $(BIN) $(GEN_ALL)

$(BIN): $(OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: src/%.c | $(BUILD)/obj
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# SYSCONFDIR is baked in: rebuild what uses it when the prefix changes.
$(BUILD)/sysconfdir: FORCE | $(BUILD)/obj
	@echo '$(SYSCONFDIR)' | cmp -s - $@ || echo '$(SYSCONFDIR)' > $@
$(BUILD)/obj/main.o $(BUILD)/obj/config.o $(BUILD)/san/main.o \
  $(BUILD)/san/config.o: $(BUILD)/sysconfdir
# So is the version, in main.c alone.
$(BUILD)/version: FORCE | $(BUILD)/obj
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@
$(BUILD)/obj/main.o $(BUILD)/san/main.o: $(BUILD)/version
FORCE:

# ---- Files made from templates: the paths in them follow the prefix ----
# conf/**/*.in and man/*.in, with @BINDIR@ and the like replaced; the
# logrotate rule is kept as it works with PREFIX=/usr (the tests read it),
# and only its /usr/bin/chat_server is replaced.
SUBST    := sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
            -e 's|@DATADIR@|$(DATADIR)|g' -e 's|@WEBSOCKETD@|$(WEBSOCKETD)|g' \
            -e 's|@MANDIR@|$(MANDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
            -e 's|@SYSTEMDUNITDIR@|$(SYSTEMDUNITDIR)|g' \
            -e 's|@SYSCTLDIR@|$(SYSCTLDIR)|g' -e 's|@TMPFILESDIR@|$(TMPFILESDIR)|g' \
            -e 's|@LOGROTATEDIR@|$(LOGROTATEDIR)|g' -e 's|@APPARMORDIR@|$(APPARMORDIR)|g'

GEN_VARS := $(BINDIR) $(SYSCONFDIR) $(DATADIR) $(WEBSOCKETD) $(MANDIR) $(VERSION) \
            $(SYSTEMDUNITDIR) $(SYSCTLDIR) $(TMPFILESDIR) $(LOGROTATEDIR) $(APPARMORDIR)
$(GEN)/paths: FORCE | $(GEN)
	@echo '$(GEN_VARS)' | cmp -s - $@ || echo '$(GEN_VARS)' > $@
$(GEN):
	mkdir -p $@

$(GEN)/chat_server.service: conf/systemd/chat_server.service.in $(GEN)/paths
	@echo 'SUBST $< > $@'; $(SUBST) $< > $@
$(GEN)/chat_server-archive.service: conf/systemd/chat_server-archive.service.in $(GEN)/paths
	@echo 'SUBST $< > $@'; $(SUBST) $< > $@
$(GEN)/apparmor.chat_server: conf/apparmor.d/chat_server.in $(GEN)/paths
	@echo 'SUBST $< > $@'; $(SUBST) $< > $@
$(GEN)/logrotate.chat_server: conf/logrotate.d/chat_server $(GEN)/paths
	sed 's|/usr/bin/chat_server|$(BINDIR)/chat_server|g' $< > $@
$(GEN)/%: man/%.in $(GEN)/paths
	@echo 'SUBST $< > $@'; $(SUBST) $< > $@

$(SAN_BIN): $(SAN_OBJ)
	$(CC) $(LDFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/san/%.o: src/%.c | $(BUILD)/san
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SAN_FLAGS) -U_FORTIFY_SOURCE -c -o $@ $<

# The unit tests run under AddressSanitizer and UBSan too: several hand
# a parser input in a buffer of exactly its size, so that a read past it
# is caught.
$(SAN_LIB): $(SAN_LIB_OBJ)
	$(AR) rcs $@ $^

UNIT_CFLAGS := $(CPPFLAGS) -Itests/unit $(CFLAGS) $(SAN_FLAGS) -U_FORTIFY_SOURCE
UNIT_SUPPORT := $(patsubst tests/unit/support/%.c,$(BUILD)/unit/support/%.o,\
                  $(wildcard tests/unit/support/*.c))

# Built once for every test, not an intermediate make may delete.
.SECONDARY: $(UNIT_SUPPORT)

$(BUILD)/unit/support/%.o: tests/unit/support/%.c | $(BUILD)/unit/support
	$(CC) $(UNIT_CFLAGS) -c -o $@ $<

$(BUILD)/unit/%: tests/unit/%.c $(UNIT_SUPPORT) $(SAN_LIB) | $(BUILD)/unit
	$(CC) $(UNIT_CFLAGS) $(LDFLAGS) -o $@ $< $(UNIT_SUPPORT) $(SAN_LIB) \
	  $(LDLIBS) -lcmocka

$(BUILD)/obj $(BUILD)/san $(BUILD)/unit $(BUILD)/unit/support:
	mkdir -p $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# The quick start's second command on a fresh Debian machine: what the
# tests need beyond `make run` is installed first (sudo when not root).
check: test-deps
	$(MAKE) WERROR=-Werror fuzz-smoke lint unit integration integration-san \
	  integration-redis web bench-smoke packaging

test-deps:
	.ci/install-deps test

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

integration: $(BIN) node_modules/.package-lock.json
	CHAT_SERVER_BIN=$(abspath $(BIN)) $(NODE_TEST) tests/integration/

# The integration suite again with TRANSPORT=redis (one host, a
# redis-server of its own: tests/run-with-redis.sh), but for the files
# that test the files transport itself (its warden, presence files, disk
# faults in its logs, inotify, run directory and old layouts) and the
# redis_* files, which start their own servers and ran above.  Tests of
# the files transport inside other files say so (transport: 'files').
REDIS_SUITE := $(filter-out $(addprefix tests/integration/,disk.test.js \
                 inotify_limit.test.js rundir.test.js upgrade_layouts.test.js \
                 warden.test.js) $(wildcard tests/integration/redis*.test.js),\
                 $(wildcard tests/integration/*.test.js))
integration-redis: $(BIN) node_modules/.package-lock.json
	CHAT_SERVER_BIN=$(abspath $(BIN)) tests/run-with-redis.sh \
	  $(NODE_TEST) $(REDIS_SUITE)

integration-san: $(SAN_BIN) node_modules/.package-lock.json
	CHAT_SERVER_BIN=$(abspath $(SAN_BIN)) CHAT_SERVER_SANITIZED=1 \
	  $(NODE_TEST) tests/integration/

# The web pages and the client, through Apache, in Chromium (tests/web/).
# Once, against the normal build: what they test is the pages and the
# client, which the sanitizers do not look at.
web: $(BIN) node_modules/.package-lock.json
	CHAT_SERVER_BIN=$(abspath $(BIN)) $(NODE_TEST) tests/web/

# The shipped files (unit, AppArmor profile, man pages, logrotate rule),
# `make install` with both prefixes, and the Debian package, built from a
# copy of the tree in $(BUILD)/pkg and unpacked into a throwaway root
# (tests/packaging/).  The package build is one more compilation.
packaging: $(BIN) $(GEN_ALL) node_modules/.package-lock.json
	CHAT_SERVER_BIN=$(abspath $(BIN)) CHAT_SERVER_BUILD=$(abspath $(BUILD)) \
	  $(NODE_TEST) tests/packaging/

install: $(BIN) $(GEN_ALL)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR) $(DESTDIR)$(DATADIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/chat_server
	install -m 0644 conf/websocket_chat_server.ini $(DESTDIR)$(DATADIR)/websocket_chat_server.ini.sample
	test -e $(DESTDIR)$(SYSCONFDIR)/websocket_chat_server.ini || \
	  install -m 0644 conf/websocket_chat_server.ini $(DESTDIR)$(SYSCONFDIR)/websocket_chat_server.ini
	install -d $(DESTDIR)$(SYSCTLDIR) $(DESTDIR)$(SYSTEMDUNITDIR) \
	  $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(LOGROTATEDIR) $(DESTDIR)$(APPARMORDIR) \
	  $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 conf/sysctl.d/60-chat_server.conf $(DESTDIR)$(SYSCTLDIR)/60-chat_server.conf
	install -m 0644 $(GEN)/chat_server.service $(DESTDIR)$(SYSTEMDUNITDIR)/chat_server.service
	install -m 0644 $(GEN)/chat_server-archive.service $(DESTDIR)$(SYSTEMDUNITDIR)/chat_server-archive.service
	install -m 0644 conf/tmpfiles.d/chat_server.conf $(DESTDIR)$(TMPFILESDIR)/chat_server.conf
	install -m 0644 $(GEN)/logrotate.chat_server $(DESTDIR)$(LOGROTATEDIR)/chat_server
	install -m 0644 $(GEN)/apparmor.chat_server $(DESTDIR)$(APPARMORDIR)/chat_server
	install -m 0644 $(GEN)/chat_server.8 $(DESTDIR)$(MANDIR)/man8/chat_server.8
	install -m 0644 $(GEN)/websocket_chat_server.ini.5 $(DESTDIR)$(MANDIR)/man5/websocket_chat_server.ini.5
	cd htdocs && find . -type d -exec install -d '$(DESTDIR)$(DATADIR)/htdocs/{}' ';' \
	  && find . -type f -exec install -m 0644 '{}' '$(DESTDIR)$(DATADIR)/htdocs/{}' ';'
	sed -i "s|^const CHAT_INSTALLED_CONFIG = .*|const CHAT_INSTALLED_CONFIG = '$(SYSCONFDIR)/websocket_chat_server.ini';|" \
	  $(DESTDIR)$(DATADIR)/htdocs/lib/paths.php
	install -d $(DESTDIR)$(APACHECONFDIR)
	sed -e 's|/usr/local/share/chat_server/htdocs|$(DATADIR)/htdocs|' \
	  -e 's|/etc/websocket_chat_server.ini|$(SYSCONFDIR)/websocket_chat_server.ini|' \
	  conf/apache2/chat_server.conf > $(DESTDIR)$(APACHECONFDIR)/chat_server.conf

# Everything but the config, which may hold the administrator's edits.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/chat_server \
	  $(DESTDIR)$(SYSCTLDIR)/60-chat_server.conf \
	  $(DESTDIR)$(SYSTEMDUNITDIR)/chat_server.service \
	  $(DESTDIR)$(SYSTEMDUNITDIR)/chat_server-archive.service \
	  $(DESTDIR)$(TMPFILESDIR)/chat_server.conf \
	  $(DESTDIR)$(LOGROTATEDIR)/chat_server \
	  $(DESTDIR)$(APPARMORDIR)/chat_server \
	  $(DESTDIR)$(MANDIR)/man8/chat_server.8 \
	  $(DESTDIR)$(MANDIR)/man5/websocket_chat_server.ini.5 \
	  $(DESTDIR)$(APACHECONFDIR)/chat_server.conf \
	  $(DESTDIR)$(SYSCONFDIR)/sysctl.d/60-chat_server.conf
	rm -rf $(DESTDIR)$(DATADIR)

run: ; .ci/install-deps run && $(MAKE) all && sh tests/dev-server.sh

clean:
	rm -rf $(BUILD)

-include $(OBJ:.o=.d) $(SAN_OBJ:.o=.d) $(UNIT_BIN:=.d) $(UNIT_SUPPORT:.o=.d)

# ---- Benchmarks (issue 6): bench/run.sh, results in docs/benchmarks.md ----
# bench/floor.c is the baseline: the smallest appender plus inotify follower.
BENCH_FLOOR := $(BUILD)/bench/floor

$(BENCH_FLOOR): bench/floor.c | $(BUILD)/bench
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(BUILD)/bench:
	mkdir -p $@

# The full suite (about 30 minutes on 2 cores, with issue 15's Redis
# transport and 10,000 connections of the file transport): writes
# docs/benchmarks.md and bench/fanout.png (gnuplot-nox, which
# .ci/install-deps installs).
bench: all $(BENCH_FLOOR) node_modules/.package-lock.json
	BUILD=$(BUILD) bench/run.sh full

# A few seconds of the same, in `make check`: fails only when a run did not
# complete or a line was not delivered, never on a time.
bench-smoke: all $(BENCH_FLOOR) node_modules/.package-lock.json
	BUILD=$(BUILD) bench/run.sh smoke

# Only the callgrind counts of the JSON and legacy members (2 to 3
# minutes): rewrites their section of docs/benchmarks.md.
bench-callgrind: all node_modules/.package-lock.json
	BUILD=$(BUILD) bench/run.sh callgrind

# Only the Redis transport beside the file transport (issue 15; needs
# redis-server), or only the file transport at 10,000 connections: each
# rewrites its section and target rows of docs/benchmarks.md.
bench-redis: all node_modules/.package-lock.json
	BUILD=$(BUILD) bench/run.sh redis

bench-scale: all node_modules/.package-lock.json
	BUILD=$(BUILD) bench/run.sh scale

# ---- Fuzzing and static checkers: see docs/security.md ----
# One libFuzzer target per parser, tests/fuzz/fuzz_<name>.c, built with
# clang against the library objects (all of src/ but main.c) compiled with
# ASan and UBSan.  `make fuzz` runs each for FUZZ_SECONDS; `make
# fuzz-smoke` (in `make check`) for FUZZ_SMOKE_SECONDS on the committed
# corpus tests/fuzz/corpus/<name>, with a fixed seed.  Crashes land in
# $(BUILD)/fuzz/crashes.
FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 7
FUZZ_SMOKE_SEED    ?= 1
# clang: a gcc-only warning in WARN must not fail the build.
FUZZ_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
              -fno-sanitize-recover=all -Wno-unknown-warning-option
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS  := $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_OBJ   := $(LIB_SRC:src/%.c=$(BUILD)/fuzz/obj/%.o)

$(BUILD)/fuzz/obj/%.o: src/%.c | $(BUILD)/fuzz/obj
	$(FUZZ_CC) $(CPPFLAGS) -std=c11 $(WARN) $(FUZZ_FLAGS) \
	  -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(BUILD)/fuzz/lib.a: $(FUZZ_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/fuzz/lib.a
	$(FUZZ_CC) $(CPPFLAGS) -std=c11 $(WARN) -Wno-missing-prototypes \
	  $(FUZZ_FLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< \
	  $(BUILD)/fuzz/lib.a $(LDLIBS)

$(BUILD)/fuzz/obj:
	mkdir -p $@

fuzz: $(FUZZ_BINS)
	@set -e; for n in $(FUZZ_NAMES); do \
	  BUILD=$(BUILD) tests/fuzz/run.sh $(BUILD)/fuzz/fuzz_$$n $$n $(FUZZ_SECONDS); \
	done

# One rule per target, so `make -j2 fuzz-smoke` runs two at a time.
fuzz-smoke: $(FUZZ_NAMES:%=fuzz-smoke-%)

fuzz-smoke-%: $(BUILD)/fuzz/fuzz_%
	@BUILD=$(BUILD) tests/fuzz/run.sh $< $* $(FUZZ_SMOKE_SECONDS) $(FUZZ_SMOKE_SEED)

-include $(FUZZ_OBJ:.o=.d) $(FUZZ_BINS:=.d)

# cppcheck and clang-tidy (.clang-tidy says which checks and why); both must
# be silent.  clang-tidy gets the flags the build uses, one stamp per file.
CLANG_TIDY ?= clang-tidy
CPPCHECK   ?= cppcheck
TIDY_FLAGS := $(CPPFLAGS) $(filter-out -MMD -MP,$(CFLAGS)) -Wno-unknown-warning-option
TIDY_STAMPS := $(SRC:src/%.c=$(BUILD)/tidy/%.ok)

lint: $(TIDY_STAMPS)
	$(CPPCHECK) -q --enable=warning,performance,portability --error-exitcode=1 \
	  --inline-suppr -Iinclude src

$(BUILD)/tidy/%.ok: src/%.c .clang-tidy $(wildcard include/*.h) | $(BUILD)/tidy
	@out=$$($(CLANG_TIDY) --quiet $< -- $(TIDY_FLAGS) 2>&1); rc=$$?; \
	  printf '%s\n' "$$out" | grep -v '^[0-9]* warnings* \(and [0-9]* errors* \)*generated\.$$' \
	    | grep . ; \
	  if [ $$rc -ne 0 ]; then echo "clang-tidy: $< has findings" >&2; exit 1; fi
	@touch $@

$(BUILD)/tidy:
	mkdir -p $@

# docs/deployment.md, run as written on a fresh Debian 12 virtual machine
# (tests/deploy/vm-walkthrough.sh; ROUTE=make-install for the other
# install route).  Needs root or sudo, QEMU (KVM if it works), the network
# and up to half an hour, so it is not part of `make check`.
.PHONY: deploy-check
deploy-check:
	BUILD=$(BUILD) ROUTE=$(or $(ROUTE),package) tests/deploy/vm-walkthrough.sh
