# Thin wrapper around CMake: `make run` installs, builds (Release) and runs the main job;
# `make test` builds and runs the whole test suite through CTest.
BUILD ?= build
JOBS  ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: deps build run test test-mpi bench clean
deps:
	bash scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/podperf compare cloudmatrix-384 gb200-nvl72

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	BUILD=$(BUILD) bash bench/run.sh

clean:
	rm -rf $(BUILD)

test-mpi:
	bash scripts/mpi-check.sh
