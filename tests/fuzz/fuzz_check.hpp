// A property check that aborts, so that the fuzzer (and the corpus replay) reports it.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                                      \
  do {                                                                                             \
    if (!(condition)) {                                                                            \
      std::fprintf(stderr, "property failed: %s (%s:%d)\n", #condition, __FILE__, __LINE__);       \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)
