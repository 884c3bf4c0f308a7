// Estimating one operator or one collective allocates nothing on the heap: sweeps call these
// millions of times from many threads.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "podperf/core/collectives.hpp"
#include "podperf/io/hwdb.hpp"
#include "podperf/core/operators.hpp"

// AddressSanitizer replaces the allocator itself; the counting replacement only runs without it.
#if defined(__SANITIZE_ADDRESS__)
#define PODPERF_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PODPERF_COUNT_ALLOCATIONS 0
#endif
#endif
#ifndef PODPERF_COUNT_ALLOCATIONS
#define PODPERF_COUNT_ALLOCATIONS 1
#endif

namespace {
std::atomic<long> g_allocations{0};
}

#if PODPERF_COUNT_ALLOCATIONS
void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

TEST_CASE("roofline and collectives allocate nothing") {
  using namespace podperf;
  const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  const System systems[] = {db.system("gb200-nvl72"), db.system("cloudmatrix-384"), db.system("atlas-950-superpod"),
                            db.system("atlas-950-supercluster")};
  const long before = g_allocations.load();
  double sink = 0;
  for (int i = 1; i < 200; ++i) {
    for (auto& s : systems) {
      sink += roofline(s.chip, ops::gemm(i, 7168, 2048, Precision::fp8, Precision::bf16, Precision::fp8)).time_s;
      sink += roofline(s.chip, ops::mla_decode(i, 4096, {128, 512, 64, 128, 128}, Precision::bf16, Precision::int8)).time_s;
      for (Coll c : {Coll::all_reduce, Coll::all_to_all, Coll::all_gather, Coll::p2p})
        sink += collective(s, c, 2 + (i * 37) % (s.chips - 1), 1e6 * i).time_s;
    }
  }
  CHECK(g_allocations.load() == before);
  CHECK(sink > 0);
}
