# chat_server: see README.md.  `make`, `make check`, `make install`, `make run`.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
DATADIR    ?= $(PREFIX)/share/chat_server
DESTDIR    ?=

CC      ?= cc
PKG_CONFIG ?= pkg-config
BUILD   ?= build

# iniparser ships no .pc file on Debian; use one where it exists.
INIPARSER_CFLAGS := $(shell $(PKG_CONFIG) --cflags iniparser 2>/dev/null || echo -I/usr/include/iniparser)
INIPARSER_LIBS   := $(shell $(PKG_CONFIG) --libs iniparser 2>/dev/null || echo -liniparser)
DEPS_CFLAGS := $(INIPARSER_CFLAGS) $(shell $(PKG_CONFIG) --cflags jansson libcrypto libcurl)
# libcurl and libcrypto are not linked: src/sso.c and src/rng.c load them
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

OPT      ?= -O2 -g
WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wformat-security \
            -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wpointer-arith
HARDEN   := -fstack-protector-strong -fPIE -D_FORTIFY_SOURCE=2
CPPFLAGS += -Iinclude -D_GNU_SOURCE -DSYSCONFDIR='"$(SYSCONFDIR)"' $(DEPS_CFLAGS)
CFLAGS   += -std=c11 $(OPT) $(WARN) $(HARDEN) -MMD -MP
LDFLAGS  += -pie -Wl,-z,relro,-z,now -Wl,--as-needed
LDLIBS   += $(DEPS_LIBS)

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
# One test file at a time, on Node.js 18 and newer (tests/run-integration.js).
NODE_TEST := node tests/run-integration.js

.PHONY: all check test-deps unit integration integration-san install uninstall run clean bench bench-smoke fuzz fuzz-smoke lint

all: $(BIN)

$(BIN): $(OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: src/%.c | $(BUILD)/obj
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# SYSCONFDIR is baked in: rebuild what uses it when the prefix changes.
$(BUILD)/sysconfdir: FORCE | $(BUILD)/obj
	@echo '$(SYSCONFDIR)' | cmp -s - $@ || echo '$(SYSCONFDIR)' > $@
$(BUILD)/obj/main.o $(BUILD)/obj/config.o $(BUILD)/san/main.o \
  $(BUILD)/san/config.o: $(BUILD)/sysconfdir
FORCE:

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
	$(MAKE) fuzz-smoke lint unit integration integration-san bench-smoke

test-deps:
	.ci/install-deps test

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

integration: $(BIN) node_modules/.package-lock.json
	CHAT_SERVER_BIN=$(abspath $(BIN)) $(NODE_TEST) tests/integration/

integration-san: $(SAN_BIN) node_modules/.package-lock.json
	CHAT_SERVER_BIN=$(abspath $(SAN_BIN)) CHAT_SERVER_SANITIZED=1 \
	  $(NODE_TEST) tests/integration/

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR) $(DESTDIR)$(DATADIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/chat_server
	install -m 0644 conf/websocket_chat_server.ini $(DESTDIR)$(DATADIR)/websocket_chat_server.ini.sample
	test -e $(DESTDIR)$(SYSCONFDIR)/websocket_chat_server.ini || \
	  install -m 0644 conf/websocket_chat_server.ini $(DESTDIR)$(SYSCONFDIR)/websocket_chat_server.ini
	install -d $(DESTDIR)$(SYSCONFDIR)/sysctl.d
	install -m 0644 conf/sysctl.d/60-chat_server.conf $(DESTDIR)$(SYSCONFDIR)/sysctl.d/60-chat_server.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/chat_server $(DESTDIR)$(SYSCONFDIR)/sysctl.d/60-chat_server.conf
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

# The full suite (8 to 10 minutes on 2 cores): writes docs/benchmarks.md
# and bench/fanout.png (gnuplot-nox, which .ci/install-deps installs).
bench: all $(BENCH_FLOOR) node_modules/.package-lock.json
	BUILD=$(BUILD) bench/run.sh full

# A few seconds of the same, in `make check`: fails only when a run did not
# complete or a line was not delivered, never on a time.
bench-smoke: all $(BENCH_FLOOR) node_modules/.package-lock.json
	BUILD=$(BUILD) bench/run.sh smoke

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
