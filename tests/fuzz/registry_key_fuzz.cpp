// Registry keys: an accepted key has no control bytes or spaces, is stable, and matches itself;
// auth.json keys are stable too.
#include "regauth/config/registry_key.hpp"

#include "fuzz_check.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // auth.json keys: stable, and their lookups end at their registry.
  if (auto auth_key = regauth::config::normalize_auth_file_key(input)) {
    auto again = regauth::config::normalize_auth_file_key(*auth_key);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(*again == *auth_key);
    auto lookups = regauth::config::auth_file_lookup_keys(*auth_key);
    FUZZ_CHECK(!lookups.empty() && lookups.front() == *auth_key);
    FUZZ_CHECK(lookups.back() == regauth::config::auth_file_registry(*auth_key));
  }
  auto key = regauth::config::normalize_registry_key(input);
  if (!key) {
    return 0;
  }
  for (char c : *key) {
    auto byte = static_cast<unsigned char>(c);
    FUZZ_CHECK(byte > 0x20 && byte != 0x7f);
  }
  auto again = regauth::config::normalize_registry_key(*key);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(*again == *key);
  FUZZ_CHECK(regauth::config::registry_key_matches(*key, *key));
  return 0;
}
