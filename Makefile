# SPDX-License-Identifier: ISC
# streamlag — see README.md.  `make`, `make test`, `make run`, `make install`.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR  ?= $(DATADIR)/man
DOCDIR  ?= $(DATADIR)/doc/streamlag
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
CC      ?= cc
CFLAGS  ?= -O2 -g
PKG_CONFIG ?= pkg-config
# "VERSION COMMIT": from .version in a release tarball, else git describe,
# else CHANGELOG.md (src/version.sh).
VERSION_INFO := $(shell src/version.sh)
VERSION := $(word 1,$(VERSION_INFO))
COMMIT  := $(word 2,$(VERSION_INFO))

DEPS    := hiredis fcgi json-c libjwt jansson libssl libcrypto
SL_CFLAGS  := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 \
	-Wwrite-strings -Wstrict-prototypes -Wmissing-prototypes \
	-Iinclude -MMD -MP \
	$(shell $(PKG_CONFIG) --cflags $(DEPS) 2>/dev/null)
SL_LDLIBS  := $(shell $(PKG_CONFIG) --libs $(DEPS) 2>/dev/null) -lm -pthread

# WERROR=1 turns every warning into an error; make test sets it.  It holds
# for the ASan+UBSan build too (SANITIZE=1): with GCC 12.2 at -O2, src/,
# main and every unit test compile without a warning under the sanitizers,
# so there are no false positives to exempt.  The integration helpers
# (tests/integration/c) and the fuzz harnesses (clang) build without a
# warning as well, but are built without it.
ifeq ($(WERROR),1)
SL_CFLAGS += -Werror
endif

# SANITIZE=1 builds into build/asan with ASan+UBSan.
ifeq ($(SANITIZE),1)
B := build/asan
SL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SL_LDFLAGS := -fsanitize=address,undefined
else
B := build
endif

# Objects are rebuilt when the flags change (WERROR=1 after a plain make,
# another CFLAGS): the stamp holds the flags of the last build.
SL_FLAGS_NOW := $(SL_CFLAGS) $(CPPFLAGS) $(CFLAGS)
$(shell mkdir -p $(B) && echo '$(SL_FLAGS_NOW)' | cmp -s - $(B)/cflags.stamp || \
	echo '$(SL_FLAGS_NOW)' >$(B)/cflags.stamp)

LIB_SRC  := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ  := $(LIB_SRC:src/%.c=$(B)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
IT_SRC   := $(wildcard tests/integration/c/it_*.c)
IT_BIN   := $(IT_SRC:tests/integration/c/%.c=$(B)/tests/%)

.PHONY: check-style fuzz-check test-checkouts test-deb deb dist vendor fuzz all deps test unit unit-asan valgrind integration integration-asan integration-valkey run bench soak install uninstall clean

all: $(B)/streamlag

$(B)/obj/%.o: src/%.c $(B)/cflags.stamp
	@mkdir -p $(@D)
	$(CC) $(SL_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# Only version.o carries the version; the stamp changes with it.
$(shell mkdir -p $(B) && echo '$(VERSION_INFO)' | cmp -s - $(B)/version.stamp || \
	echo '$(VERSION_INFO)' >$(B)/version.stamp)
$(B)/obj/version.o: $(B)/version.stamp
$(B)/obj/version.o: SL_CFLAGS += -DSL_VERSION='"$(VERSION)"' -DSL_COMMIT='"$(COMMIT)"'

$(B)/libstreamlag.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/streamlag: $(B)/obj/main.o $(B)/libstreamlag.a
	$(CC) $(SL_LDFLAGS) $(LDFLAGS) -o $@ $^ $(SL_LDLIBS) $(LDLIBS)

$(B)/tests/%: tests/unit/%.c tests/unit/sl_test.h $(B)/libstreamlag.a $(B)/cflags.stamp
	@mkdir -p $(@D)
	$(CC) $(SL_CFLAGS) -Itests/unit $(CPPFLAGS) $(CFLAGS) $(SL_LDFLAGS) $(LDFLAGS) \
		-o $@ $< $(B)/libstreamlag.a $(SL_LDLIBS) $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null) $(LDLIBS)

$(B)/tests/it_%: tests/integration/c/it_%.c $(B)/libstreamlag.a $(B)/cflags.stamp
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
	@$(MAKE) --no-print-directory SANITIZE=1 WERROR=1 build/asan/streamlag
	@STREAMLAG_BIN=build/asan/streamlag prove tests/integration/20-lag.t \
		tests/integration/30-nginx.t tests/integration/45-lag-truth.t \
		tests/integration/35-refusals.t tests/integration/48-lag-cost.t \
		tests/integration/62-metrics.t tests/integration/75-check.t \
		tests/integration/76-top.t tests/integration/80-faults.t \
		tests/integration/42-request-deadline.t \
		tests/integration/46-cluster.t tests/integration/56-insight.t \
		tests/integration/67-sentinel.t tests/integration/68-tls.t \
		tests/integration/67-sentinel-tls.t tests/integration/63-chunked.t

# The lag-truth and Redis Cluster tests again on Valkey 8 (Debian's bookworm-backports,
# fetched into build/servers/ by tests/servers/valkey.sh).
VALKEY_TESTS := tests/integration/45-lag-truth.t tests/integration/47-lag-differential.t \
	tests/integration/48-lag-cost.t tests/integration/46-cluster.t \
	tests/integration/46-cluster-failover.t
integration-valkey: $(B)/streamlag
	@tests/servers/valkey.sh >/dev/null
	@SL_REDIS_SERVER=valkey prove $(VALKEY_TESTS)

# The style checks that need no build: function length (tools/funclen.sh,
# with the functions still being split listed in tools/funclen.allow) and
# the licence line at the top of every source file.
SPDX_FILES := $(wildcard src/*.c src/*.sh include/streamlag/*.h tools/*.sh \
	tests/*.sh tests/unit/*.[ch] tests/fuzz/*.[ch] tests/fuzz/*.sh \
	tests/integration/*.t tests/integration/*.sh tests/integration/c/*.c \
	tests/stack/*.c tests/stack/*.sh tests/servers/*.sh)
check-style:
	@tools/funclen.sh -a tools/funclen.allow
	@missing=$$(for f in $(SPDX_FILES); do head -n 3 "$$f" | \
		grep -q 'SPDX-License-Identifier: ISC' || echo "$$f"; done); \
	[ -z "$$missing" ] || { echo "no SPDX-License-Identifier line: $$missing" >&2; exit 1; }
	@echo "check-style: ok"

# The normal build and the unit tests with WERROR=1 (passed on to unit-asan
# and valgrind by the sub-make).
test: deps check-style
	@$(MAKE) --no-print-directory WERROR=1 all unit unit-asan valgrind
	@$(MAKE) --no-print-directory integration-asan
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory integration-valkey
	@$(MAKE) --no-print-directory fuzz-check
	@$(MAKE) --no-print-directory test-deb test-checkouts

# The Debian package: built, lintian, and (as root) installed, verified,
# removed and purged on this machine.  Under a minute on an idle machine.
test-deb: deps
	@SL_TEST_DEB=1 prove -v tests/integration/85-deb.t

# make test's nginx tests again from a clone under /root (0700) as root, and
# from a clone run by an ordinary user.  Needs root (skipped otherwise).
test-checkouts: deps
	@SL_TEST_CHECKOUTS=1 prove -v tests/integration/95-checkouts.t

# libFuzzer harnesses (clang): each parser of untrusted bytes, FUZZ_SECONDS
# each, from the committed corpus.  Not part of `make test`.
FUZZ_SECONDS ?= 60
FUZZ_LIB_SRC := $(filter-out src/main.c,$(wildcard src/*.c))
fuzz:
	@command -v clang >/dev/null || tests/deps.sh clang libclang-rt-14-dev
	@mkdir -p build/fuzz
	@set -e; for f in query auth xinfo fcgi sentinel; do \
		clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE \
			-Iinclude -DSL_VERSION='"$(VERSION)"' $$($(PKG_CONFIG) --cflags $(DEPS)) \
			-o build/fuzz/fuzz_$$f tests/fuzz/fuzz_$$f.c $(FUZZ_LIB_SRC) \
			$$($(PKG_CONFIG) --libs $(DEPS)) -lpthread; \
		mkdir -p build/fuzz/corpus_$$f; \
		build/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -max_len=16384 \
			build/fuzz/corpus_$$f tests/fuzz/corpus/$$f; \
	done

# The FastCGI record fuzzer within `make test`: the committed corpus, then
# FUZZ_CHECK_SECONDS of new inputs, against the real serve path under
# ASan+UBSan; then the proof that it catches libfcgi's GET_VALUES overflow
# once the guard is compiled out (-DSL_FCGI_NO_GUARD).
FUZZ_CHECK_SECONDS ?= 30
FUZZ_CFLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -Iinclude -DSL_VERSION='"$(VERSION)"' \
	-MMD -MP $(shell $(PKG_CONFIG) --cflags $(DEPS) 2>/dev/null)
FUZZ_OBJ := $(FUZZ_LIB_SRC:src/%.c=build/fuzz/obj/%.o)
build/fuzz/obj/%.o: src/%.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<
build/fuzz/obj/noguard/worker.o: src/worker.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -DSL_FCGI_NO_GUARD -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<
build/fuzz/check_fcgi: tests/fuzz/fuzz_fcgi.c $(FUZZ_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^ $(SL_LDLIBS) -lpthread
build/fuzz/check_fcgi_noguard: tests/fuzz/fuzz_fcgi.c $(filter-out build/fuzz/obj/worker.o,$(FUZZ_OBJ)) build/fuzz/obj/noguard/worker.o
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^ $(SL_LDLIBS) -lpthread
fuzz-check:
	@command -v clang >/dev/null || tests/deps.sh clang libclang-rt-14-dev
	@$(MAKE) --no-print-directory build/fuzz/check_fcgi build/fuzz/check_fcgi_noguard
	@tests/fuzz/check.sh $(FUZZ_CHECK_SECONDS)
-include $(wildcard build/fuzz/obj/*.d build/fuzz/obj/noguard/*.d)

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

# Full load for SOAK_S seconds (default 1800) with Redis restarts and SIGHUP
# reloads, a checker of every answer, and RSS per process (docs/reliability.md).
soak: deps all
	@tests/stack/soak.sh

# make install: SOURCE:DESTINATION pairs.  The nginx files and the units
# name the Debian paths (/usr/bin/streamlag, /usr/share/streamlag, ...); they
# are rewritten to PREFIX's as they are installed.  Nothing goes to /etc:
# an operator's edited copies there are never overwritten.
SHAREDIR   := $(DATADIR)/streamlag
INST_WWW   := $(sort $(wildcard www/*.html www/*.js www/*.css www/vendor/*/*))
INST_NGINX := $(sort $(wildcard nginx/*.conf nginx/snippets/*.conf))
INST_UNITS := $(sort $(wildcard docs/systemd/*.service docs/systemd/*.socket docs/systemd/*.timer))
INST_KIT   := $(sort $(wildcard docs/prometheus/*.yml docs/grafana/*.json))
INST_DOCS  := README.md CHANGELOG.md SECURITY.md LICENSE docs/systemd/streamlag.env.example \
	$(sort $(wildcard docs/*.md docs/*.png))
INST_MAP   := $(B)/streamlag:$(BINDIR)/streamlag docs/streamlag.8:$(MANDIR)/man8/streamlag.8 \
	$(foreach f,$(INST_WWW) $(INST_NGINX),$(f):$(SHAREDIR)/$(f)) \
	$(foreach f,$(INST_KIT),$(f):$(SHAREDIR)/$(f:docs/%=%)) \
	$(foreach f,$(INST_UNITS),$(f):$(SYSTEMDUNITDIR)/$(notdir $(f))) \
	$(foreach f,$(INST_DOCS),$(f):$(DOCDIR)/$(notdir $(f)))
INST_PATHS := -e 's|/usr/bin/streamlag|$(BINDIR)/streamlag|g' \
	-e 's|/usr/share/streamlag|$(SHAREDIR)|g' -e 's|/usr/share/doc/streamlag|$(DOCDIR)|g'

install: $(B)/streamlag
	@set -e; for m in $(INST_MAP); do \
		src=$${m%%:*} dst="$(DESTDIR)$${m#*:}"; \
		install -d -m 0755 "$${dst%/*}"; \
		case $$src in \
		*/streamlag) install -m 0755 "$$src" "$$dst" ;; \
		nginx/*|docs/systemd/*|docs/prometheus/*) sed $(INST_PATHS) "$$src" >"$$dst.new"; \
			chmod 0644 "$$dst.new"; mv -f "$$dst.new" "$$dst" ;; \
		*) install -m 0644 "$$src" "$$dst" ;; \
		esac; \
		echo "$$dst"; \
	done

# Removes what install wrote, then the directories of streamlag's own that
# are left empty; shared ones (bin, man8, the unit directory) stay.
uninstall:
	@set -e; for m in $(INST_MAP); do rm -f "$(DESTDIR)$${m#*:}"; done
	@for d in "$(DESTDIR)$(SHAREDIR)" "$(DESTDIR)$(DOCDIR)"; do \
		[ ! -d "$$d" ] || find "$$d" -depth -type d -empty -delete; done

# A release tarball of HEAD, build/streamlag-VERSION.tar.gz, carrying its
# version and commit in .version (it has no .git to ask).
dist:
	@git diff-index --quiet HEAD -- || \
		{ echo "make dist: the tarball is HEAD; commit or stash the changes first" >&2; exit 1; }
	@mkdir -p build
	git archive --format=tar --prefix=streamlag-$(VERSION)/ \
		--add-virtual-file='streamlag-$(VERSION)/.version:$(VERSION_INFO)' HEAD | \
		gzip -9n >build/streamlag-$(VERSION).tar.gz
	@echo build/streamlag-$(VERSION).tar.gz

# The Debian package, build/deb/streamlag_VERSION-1_ARCH.deb, from a copy of
# this tree (uncommitted changes included) with debian/changelog set to the
# version of the build; lintian's verdict in build/deb/lintian.txt.
DEB_VERSION := $(subst -,+,$(VERSION))
deb:
	@tests/deps.sh build-essential debhelper fakeroot lintian pkg-config \
		libfcgi-dev libhiredis-dev libjson-c-dev libjwt-dev libssl-dev
	@rm -rf build/deb && mkdir -p build/deb/streamlag-$(DEB_VERSION)
	@tar -cf - --exclude=./build --exclude=./node_modules --exclude=./.git . | \
		tar -xf - -C build/deb/streamlag-$(DEB_VERSION)
	@echo '$(VERSION_INFO)' >build/deb/streamlag-$(DEB_VERSION)/.version
	@sed -i '1s/([^)]*)/($(DEB_VERSION)-1)/' build/deb/streamlag-$(DEB_VERSION)/debian/changelog
	cd build/deb/streamlag-$(DEB_VERSION) && dpkg-buildpackage -b -us -uc >../build.log 2>&1 || \
		{ tail -n 30 ../build.log >&2; exit 1; }
	@lintian --tag-display-limit 0 build/deb/streamlag_$(DEB_VERSION)-1_*.deb >build/deb/lintian.txt 2>&1 || true
	@! grep '^E: ' build/deb/lintian.txt >&2 || { echo "make deb: lintian reports errors" >&2; exit 1; }
	@ls build/deb/streamlag_$(DEB_VERSION)-1_*.deb

clean:
	rm -rf build

-include $(wildcard build/obj/*.d build/asan/obj/*.d)
