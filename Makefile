# SPDX-License-Identifier: BSD-2-Clause
#
# Thin convenience wrapper around CMake and ctest; CMake is the build system. Targets:
#   make / make build   install missing Debian packages, build in build/
#   make test           build, then run the whole ctest suite
#   make asan           gcc build with ASan+UBSan in build-asan/, run the ctest suite
#   make fuzz           clang + libFuzzer build in build-fuzz/, run each harness for FUZZ_SECONDS
#   make lint           include-direction, banned-function, symbol-prefix and format checks
#   make serve          build, make sample images, run jpipd on 127.0.0.1:PORT (8080)
#   make clean          remove the three build directories above
# Variables: BUILD_DIR ASAN_DIR FUZZ_DIR FUZZ_SECONDS JOBS CLANG_FORMAT CMAKE_ARGS.

BUILD_DIR ?= build
ASAN_DIR ?= build-asan
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS ?= 2
CMAKE ?= cmake
CTEST ?= ctest
CLANG_FORMAT ?= clang-format
CMAKE_ARGS ?=

# Sources checked by clang-format (the fuzz corpus and build trees are not).
FORMAT_FILES = $(shell find lib include tools tests bench -type f \( -name '*.c' -o -name '*.h' \) \
                 -not -path 'tests/fuzz/corpus/*' 2>/dev/null | sort)

.PHONY: all build test asan fuzz lint serve clean deps

all: build

deps:
	@bash scripts/deps.sh

build: deps
	$(CMAKE) -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)
	$(CMAKE) --build $(BUILD_DIR) -j$(JOBS)

test: build
	$(CTEST) --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)

# -O1 keeps the sanitized suite fast enough while leaving stack traces readable.
asan: deps
	$(CMAKE) -S . -B $(ASAN_DIR) -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_C_FLAGS_DEBUG="-g -O1" -DJPIP_SANITIZE="address;undefined" $(CMAKE_ARGS)
	$(CMAKE) --build $(ASAN_DIR) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(CTEST) --test-dir $(ASAN_DIR) --output-on-failure -j$(JOBS)

# Each harness tests/fuzz/<name>_fuzz.c runs for FUZZ_SECONDS from a scratch copy of
# tests/fuzz/corpus/<name>/ (the checked-in corpus is never written), with tests/fuzz/<name>.dict
# or else tests/fuzz/jpip.dict. Crash reproducers land in $(FUZZ_DIR)/fuzz-work/<name>/.
fuzz: deps
	$(CMAKE) -S . -B $(FUZZ_DIR) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DJPIP_FUZZ=ON -DJPIP_BUILD_TOOLS=OFF $(CMAKE_ARGS)
	$(CMAKE) --build $(FUZZ_DIR) -j$(JOBS) --target jpip_fuzzers
	@set -u; failed=""; count=0; \
	for src in tests/fuzz/*_fuzz.c; do \
	  [ -e "$$src" ] || continue; \
	  file=$$(basename "$$src" .c); name=$${file%_fuzz}; count=$$((count + 1)); \
	  work="$(FUZZ_DIR)/fuzz-work/$$name"; \
	  rm -rf "$$work"; mkdir -p "$$work/corpus" "$$work/artifacts"; \
	  for dir in "tests/fuzz/corpus/$$name" "tests/fuzz/corpus/$$file"; do \
	    if [ -d "$$dir" ]; then cp -R "$$dir/." "$$work/corpus/"; break; fi; \
	  done; \
	  dict="tests/fuzz/$$name.dict"; [ -f "$$dict" ] || dict=tests/fuzz/jpip.dict; \
	  echo "fuzz: $$name for $(FUZZ_SECONDS) s (seeds: $$(ls "$$work/corpus" | wc -l), dict: $$dict)"; \
	  if "$(FUZZ_DIR)/tests/fuzz/$$file" -max_total_time=$(FUZZ_SECONDS) -timeout=25 \
	      -rss_limit_mb=2048 -print_final_stats=1 -dict="$$dict" \
	      -artifact_prefix="$$work/artifacts/" "$$work/corpus" >"$$work/log" 2>&1; then \
	    echo "fuzz: $$name ok: $$(grep -h 'stat::number_of_executed_units' "$$work/log" | \
	      awk '{print $$2}') runs, corpus $$(ls "$$work/corpus" | wc -l) inputs"; \
	  else \
	    tail -n 80 "$$work/log"; \
	    echo "fuzz: $$name FAILED; reproducer(s):" $$(ls "$$work/artifacts"); \
	    failed="$$failed $$name"; \
	  fi; \
	done; \
	if [ $$count -eq 0 ]; then echo "fuzz: no harnesses in tests/fuzz/"; fi; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed"; exit 1; fi

lint: deps
	bash scripts/check_includes.sh
	bash scripts/check_banned.sh
	bash scripts/check_symbols.sh $(BUILD_DIR)
	@command -v $(CLANG_FORMAT) >/dev/null || { echo "lint: $(CLANG_FORMAT) not found (make deps)"; exit 1; }
	$(CLANG_FORMAT) --dry-run -Werror $(FORMAT_FILES)
	@echo "lint: ok"

# Make the sample images in $(BUILD_DIR)/samples and run jpipd on them in the foreground
# (scripts/serve.sh; PORT=8080 and HOST=127.0.0.1 unless set).
serve: build
	BUILD_DIR=$(BUILD_DIR) bash scripts/serve.sh

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)
