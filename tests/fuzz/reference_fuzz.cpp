// Image references: an accepted reference names a lower-case repository, prints back to a
// string that parses to the same reference, and its digest (if any) is valid.
#include "regauth/oci/digest.hpp"
#include "regauth/registry/reference.hpp"

#include "fuzz_check.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto reference = regauth::registry::parse_reference(input);
  if (!reference) {
    return 0;
  }
  FUZZ_CHECK(!reference->repository.empty());
  for (char c : reference->repository) {
    FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
    FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20);
  }
  if (!reference->digest.empty()) {
    FUZZ_CHECK(regauth::oci::validate_digest(reference->digest).has_value());
  }
  auto again = regauth::registry::parse_reference(reference->to_string());
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->registry == reference->registry);
  FUZZ_CHECK(again->repository == reference->repository);
  FUZZ_CHECK(again->tag == reference->tag);
  FUZZ_CHECK(again->digest == reference->digest);
  return 0;
}
