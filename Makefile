# pingan: `make run` and `make test` work on a fresh Debian 12 machine as root.
.PHONY: all deps build dev run test test-fast bench fuzz clean format

DATA ?= data
SEED ?= 1
SCALE ?= 1
JOBS ?= $(shell nproc)

# ccache: share hits between clones (CI builds a fresh clone in another folder).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
export CCACHE_MAXSIZE ?= 5G

all: build

deps:
	@scripts/deps.sh

build/release/build.ninja: CMakeLists.txt CMakePresets.json | deps
	@cmake --preset release >/dev/null

build/dev/build.ninja: CMakeLists.txt CMakePresets.json | deps
	@cmake --preset dev >/dev/null

# Release build: the binary at build/release/pingan, and the benchmarks.
build: deps build/release/build.ninja
	@cmake --build build/release -j $(JOBS)

# Debug build with ASan+UBSan: what the tests run under.
dev: deps build/dev/build.ninja
	@cmake --build build/dev -j $(JOBS)

# Builds, creates the demo city in $(DATA) if absent, and shows what it holds.
run: build
	@scripts/run.sh "$(DATA)" "$(SEED)" "$(SCALE)"

# Every test, under ASan+UBSan (the slow suites carry the label "slow" and run too).
test: dev
	@cd build/dev && ctest --output-on-failure -j $(JOBS)

# The quick suites only.
test-fast: dev
	@cd build/dev && ctest --output-on-failure -j $(JOBS) -LE slow

bench: build
	@scripts/bench.sh

clean:
	rm -rf build

format:
	@clang-format -i $$(git ls-files '*.cc' '*.h')
