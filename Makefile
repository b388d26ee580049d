# ARAS top-level entry points. Meson does the real build; this file only
# strings together "install what is missing, build, run/test".
#   make run    install deps, build, start arasd on the embedded simulated cluster
#   make check  install deps, build (plain + ASan/UBSan), run every test
BUILD      ?= build
BUILD_SAN  ?= build-san

.PHONY: all deps build build-san run check format format-check bench clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

$(BUILD_SAN)/build.ninja:
	CC=clang meson setup $(BUILD_SAN) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

build-san: deps $(BUILD_SAN)/build.ninja
	ninja -C $(BUILD_SAN)

run: build
	@scripts/run-demo.sh $(BUILD)

check: build build-san
	@scripts/check.sh $(BUILD) $(BUILD_SAN)

format:
	@{ git ls-files '*.c' '*.h'; git ls-files --others --exclude-standard '*.c' '*.h'; } | xargs -r clang-format -i

format-check:
	@scripts/format-check.sh

bench: build
	@bench/run-all.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_SAN)
