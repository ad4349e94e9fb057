// config.json: an accepted file serializes to JSON that parses back to the same document.
#include "regauth/config/config_file.hpp"

#include "fuzz_check.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto config = regauth::config::ConfigFile::parse(input);
  if (!config) {
    FUZZ_CHECK(config.error().kind == regauth::ErrorKind::config);
    return 0;
  }
  std::string written = config->serialize();
  FUZZ_CHECK(written.rfind("\xEF\xBB\xBF", 0) != 0);
  auto again = regauth::config::ConfigFile::parse(written);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->json() == config->json());
  FUZZ_CHECK(again->serialize() == written);
  return 0;
}
