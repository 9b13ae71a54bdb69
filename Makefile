# The README's commands. CMake does the real work in build/ (run) and
# build-test/ (sanitizers, tests).
BUILD      ?= build
TEST_BUILD ?= build-test
JOBS       ?= $(shell nproc)

.PHONY: all deps run test build test-build bench demo clean format

all: build

deps:
	@scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# Starts redirectd, relayd and proxyd in the foreground on 127.0.0.1 with
# conf/*.conf; Ctrl-C stops all three.
run: build
	@scripts/run.sh $(BUILD)

test-deps:
	@scripts/deps.sh --test

test-build: test-deps
	cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPINHOLE_SANITIZE=ON >/dev/null
	cmake --build $(TEST_BUILD) -j $(JOBS)

# The whole test suite: unit, integration and (as root) end-to-end. The
# plain build (no sanitizers) is what the valgrind test runs.
test: test-build build
	cd $(TEST_BUILD) && PLAIN_BUILD_DIR=$(CURDIR)/$(BUILD) ctest --output-on-failure -j $(JOBS)

bench: build
	@bench/run.sh $(BUILD)

# The patent's figure 2c for real (needs root): figure 1 built from network
# namespaces with NAT, one call with audio, printed as a ladder; torn down.
demo: build
	@scripts/demo.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(TEST_BUILD)

format:
	clang-format -i include/pinhole/*.h src/*/*.c src/*/*.h src/common/*/*.c src/common/*/*.h tests/unit/*.c tests/unit/*.h
