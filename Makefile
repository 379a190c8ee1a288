# pingan: `make run` and `make test` work on a fresh Debian 12 machine as root.
.PHONY: all deps build dev web screenshots run test test-fast bench fuzz clean format

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

# The web app (web/, Vite): built into web/dist when its sources changed.
WEB_SOURCES := $(shell find web -path web/dist -prune -o -type f -print 2>/dev/null)
web/dist/index.html: $(WEB_SOURCES) package-lock.json | deps
	@echo "web: building the app (vite)"
	@npm run --silent web:build >/dev/null
web: web/dist/index.html

# Release build: the binary at build/release/pingan, the benchmarks, and the web app.
build: deps build/release/build.ninja web/dist/index.html
	@cmake --build build/release -j $(JOBS)

# Debug build with ASan+UBSan: what the tests run under.
dev: deps build/dev/build.ninja
	@cmake --build build/dev -j $(JOBS)

# Builds, creates the demo city in $(DATA) if absent, and shows what it holds.
run: build
	@scripts/run.sh "$(DATA)" "$(SEED)" "$(SCALE)"

# Every test, under ASan+UBSan (the slow suites carry the label "slow" and run too), and the
# web app's end-to-end tests in headless Chromium against the dev server.
test: dev web/dist/index.html
	@cd build/dev && ctest --output-on-failure -j $(JOBS)

# Screenshots of every page at desktop and phone widths into docs/screenshots/ (Release
# server on the demo city in $(DATA): make run first).
screenshots: build
	@scripts/e2e.sh build/release/pingan "$(DATA)" docs/screenshots

# The quick suites only.
test-fast: dev
	@cd build/dev && ctest --output-on-failure -j $(JOBS) -LE slow

bench: build
	@scripts/bench.sh

# libFuzzer on the address normaliser, the geocoder's matcher, one record of ingest, the period
# grammar, reading other encodings and Excel workbooks (clang, ASan+UBSan), each for FUZZ_SECONDS, from the seeds in fuzz/corpus/<name> (with fuzz/<name>.dict
# when there is one); what they find is kept in build/fuzz/corpus, crashes in build/fuzz/. CI
# runs them briefly (.ci/run).
FUZZ_SECONDS ?= 60
fuzz: deps
	@dpkg-query -W -f='$${Status}' libclang-rt-dev 2>/dev/null | grep -q "install ok installed" || { \
	  echo "fuzz: installing libclang-rt-dev (libFuzzer and the sanitizer runtimes for clang)"; \
	  SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends libclang-rt-dev >/dev/null; }
	@CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DPINGAN_FUZZ=ON -DPINGAN_SANITIZE=ON -DPINGAN_BENCH=OFF >/dev/null
	@cmake --build build/fuzz --target normalize_fuzzer geocode_fuzzer ingest_fuzzer period_fuzzer transcode_fuzzer xlsx_fuzzer -j $(JOBS)
	@for name in normalize geocode ingest period transcode xlsx; do \
	  mkdir -p build/fuzz/corpus/$$name; \
	  echo "fuzz: $$name for $(FUZZ_SECONDS) s"; \
	  build/fuzz/fuzz/$${name}_fuzzer -max_total_time=$(FUZZ_SECONDS) -max_len=2048 -timeout=10 \
	    -dict=$$([ -f fuzz/$$name.dict ] && echo fuzz/$$name.dict || echo fuzz/normalize.dict) \
	    -artifact_prefix=build/fuzz/ -print_final_stats=1 \
	    build/fuzz/corpus/$$name fuzz/corpus/$$name || exit 1; \
	done

clean:
	rm -rf build

format:
	@clang-format -i $$(git ls-files '*.cc' '*.h')
