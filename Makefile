# A thin front door: meson does the building, scripts/ do the rest.
#   make run    the kiosk in a window on the simulated card
#   make test   unit + integration tests, again under ASan/UBSan, one journey under valgrind
#   make bench  the speed and memory figures, the fleet's jitter, a 5000-journey soak (tests/bench/)
#   make deb    the Debian package, built from a copy of the checkout, into tests/out/deb/
BUILD ?= build
ASAN  ?= build-asan

.PHONY: all deps build asan run test bench deb clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

$(ASAN)/build.ninja:
	meson setup $(ASAN) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

asan: deps $(ASAN)/build.ninja
	ninja -C $(ASAN)

run: build
	@scripts/run-dev.sh $(BUILD)

test: build asan
	@scripts/test-all.sh $(BUILD) $(ASAN)

# All run even if one fails; any failing fails the target.
bench: build
	@rc=0; /usr/bin/python3 tests/bench/bench.py --kiosk $(BUILD)/kiosk || rc=1; \
	$(BUILD)/src/syncd/fleet-jitter || rc=1; \
	/usr/bin/python3 tests/bench/soak.py --kiosk $(BUILD)/kiosk || rc=1; exit $$rc

# dpkg-buildpackage writes beside the tree it builds and leaves obj-*/ in
# it: scripts/build-deb.sh builds a copy in /tmp, so the checkout stays clean.
deb: deps
	@scripts/build-deb.sh

clean:
	rm -rf $(BUILD) $(ASAN) tests/out
