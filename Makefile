# streamlag — see README.md.  `make`, `make test`, `make run`, `make install`.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
CC      ?= cc
CFLAGS  ?= -O2 -g
PKG_CONFIG ?= pkg-config
VERSION := 0.1.0

DEPS    := hiredis fcgi json-c libjwt
SL_CFLAGS  := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 \
	-Iinclude -DSL_VERSION='"$(VERSION)"' -MMD -MP \
	$(shell $(PKG_CONFIG) --cflags $(DEPS) 2>/dev/null)
SL_LDLIBS  := $(shell $(PKG_CONFIG) --libs $(DEPS) 2>/dev/null)

# SANITIZE=1 builds into build/asan with ASan+UBSan.
ifeq ($(SANITIZE),1)
B := build/asan
SL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SL_LDFLAGS := -fsanitize=address,undefined
else
B := build
endif

LIB_SRC  := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ  := $(LIB_SRC:src/%.c=$(B)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
IT_SRC   := $(wildcard tests/integration/c/it_*.c)
IT_BIN   := $(IT_SRC:tests/integration/c/%.c=$(B)/tests/%)

.PHONY: vendor fuzz all deps test unit unit-asan valgrind integration integration-asan integration-valkey run bench install uninstall clean

all: $(B)/streamlag

$(B)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(SL_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/libstreamlag.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/streamlag: $(B)/obj/main.o $(B)/libstreamlag.a
	$(CC) $(SL_LDFLAGS) $(LDFLAGS) -o $@ $^ $(SL_LDLIBS) $(LDLIBS)

$(B)/tests/%: tests/unit/%.c tests/unit/sl_test.h $(B)/libstreamlag.a
	@mkdir -p $(@D)
	$(CC) $(SL_CFLAGS) -Itests/unit $(CPPFLAGS) $(CFLAGS) $(SL_LDFLAGS) $(LDFLAGS) \
		-o $@ $< $(B)/libstreamlag.a $(SL_LDLIBS) $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null) $(LDLIBS)

$(B)/tests/it_%: tests/integration/c/it_%.c $(B)/libstreamlag.a
	@mkdir -p $(@D)
	$(CC) $(SL_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(SL_LDFLAGS) $(LDFLAGS) \
		-o $@ $< $(B)/libstreamlag.a $(SL_LDLIBS) $(LDLIBS)

# Installs missing Debian packages (silent when everything is present).
deps:
	@tests/deps.sh

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

unit-asan:
	@$(MAKE) --no-print-directory SANITIZE=1 unit

valgrind: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do \
		valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
			--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 $$t >/dev/null; \
		echo "valgrind clean: $$t"; done

integration: $(B)/streamlag $(IT_BIN)
	@prove -v tests/integration/

# The serving paths again, with the ASan+UBSan binary: a sanitizer report in
# a server log fails the test (tests/integration/common.sh).
integration-asan:
	@$(MAKE) --no-print-directory SANITIZE=1 build/asan/streamlag
	@STREAMLAG_BIN=build/asan/streamlag prove tests/integration/20-lag.t \
		tests/integration/30-nginx.t tests/integration/45-lag-truth.t \
		tests/integration/48-lag-cost.t tests/integration/62-metrics.t

# The lag-truth tests again on Valkey 8 (Debian's bookworm-backports,
# fetched into build/servers/ by tests/servers/valkey.sh).
VALKEY_TESTS := tests/integration/45-lag-truth.t tests/integration/47-lag-differential.t \
	tests/integration/48-lag-cost.t
integration-valkey: $(B)/streamlag
	@tests/servers/valkey.sh >/dev/null
	@SL_REDIS_SERVER=valkey prove $(VALKEY_TESTS)

test: deps
	@$(MAKE) --no-print-directory all unit unit-asan valgrind
	@$(MAKE) --no-print-directory integration-asan
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory integration-valkey

# libFuzzer harnesses (clang): each parser of untrusted bytes, FUZZ_SECONDS
# each, from the committed corpus.  Not part of `make test`.
FUZZ_SECONDS ?= 60
FUZZ_LIB_SRC := $(filter-out src/main.c,$(wildcard src/*.c))
fuzz:
	@command -v clang >/dev/null || tests/deps.sh clang libclang-rt-14-dev
	@mkdir -p build/fuzz
	@set -e; for f in query auth xinfo; do \
		clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE \
			-Iinclude -DSL_VERSION='"$(VERSION)"' $$($(PKG_CONFIG) --cflags $(DEPS)) \
			-o build/fuzz/fuzz_$$f tests/fuzz/fuzz_$$f.c $(FUZZ_LIB_SRC) \
			$$($(PKG_CONFIG) --libs $(DEPS)); \
		mkdir -p build/fuzz/corpus_$$f; \
		build/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -max_len=16384 \
			build/fuzz/corpus_$$f tests/fuzz/corpus/$$f; \
	done

# The dashboard's charting library, from the npm registry (pinned in
# package-lock.json), copied into www/vendor/ with its licence and version.
# The copy is committed: running streamlag needs no Node.js.
vendor:
	@npm ci --no-audit --no-fund --silent
	@rm -rf www/vendor/uplot && mkdir -p www/vendor/uplot
	@cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css \
		node_modules/uplot/LICENSE www/vendor/uplot/
	@node -p '"uPlot " + require("./node_modules/uplot/package.json").version + " from the npm registry (make vendor)"' \
		>www/vendor/uplot/VERSION
	@cat www/vendor/uplot/VERSION

run: deps all
	@tests/stack/run.sh

bench: deps all
	@tests/stack/bench.sh

install: $(B)/streamlag
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(B)/streamlag $(DESTDIR)$(BINDIR)/streamlag

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/streamlag

clean:
	rm -rf build

-include $(wildcard build/obj/*.d build/asan/obj/*.d)
