// main() for the Google Benchmark suites: the heap on huge pages as the pingan binary has it
// (core/huge_pages.h), then the library's usual main.
#pragma once

#include <benchmark/benchmark.h>

#include "core/huge_pages.h"

#define PINGAN_BENCHMARK_MAIN()                                      \
  int main(int argc, char** argv) {                                  \
    pingan::UseHugePagesForHeap(argv);                               \
    benchmark::Initialize(&argc, argv);                              \
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1; \
    benchmark::RunSpecifiedBenchmarks();                             \
    benchmark::Shutdown();                                           \
    return 0;                                                        \
  }
