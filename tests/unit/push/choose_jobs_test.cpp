#include "regauth/push/plan.hpp"

#include <catch2/catch.hpp>

#include <vector>

using regauth::image::BlobDescriptor;
using regauth::push::choose_jobs;

namespace {

std::vector<BlobDescriptor> blobs_of(std::size_t count, std::uint64_t size) {
  std::vector<BlobDescriptor> blobs(count);
  for (auto& blob : blobs) {
    blob.size = size;
  }
  return blobs;
}

} // namespace

TEST_CASE("push jobs: one connection per small blob, up to sixteen", "[push]") {
  CHECK(choose_jobs(blobs_of(1, 1000), 0) == 1);
  CHECK(choose_jobs(blobs_of(5, 256 << 10), 0) == 5);
  CHECK(choose_jobs(blobs_of(21, 256 << 10), 0) == 16);
  CHECK(choose_jobs({}, 0) == 1);
}

TEST_CASE("push jobs: a few connections for large blobs", "[push]") {
  CHECK(choose_jobs(blobs_of(3, 64ULL << 20), 0) == 3);
  CHECK(choose_jobs(blobs_of(10, 100ULL << 20), 0) == 4);
  auto mixed = blobs_of(10, 100ULL << 20);
  auto small = blobs_of(6, 1000);
  mixed.insert(mixed.end(), small.begin(), small.end());
  CHECK(choose_jobs(mixed, 0) == 4 + 6);
}

TEST_CASE("push jobs: --jobs wins, but never more connections than blobs", "[push]") {
  CHECK(choose_jobs(blobs_of(21, 1000), 2) == 2);
  CHECK(choose_jobs(blobs_of(21, 1000), 32) == 21);
  CHECK(choose_jobs(blobs_of(3, 100ULL << 20), 8) == 3);
}
