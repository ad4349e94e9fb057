// Credential helper output: parsing never crashes; sanitized messages hold no control bytes.
#include "regauth/credentials/helper_messages.hpp"

#include "fuzz_check.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)regauth::credentials::parse_get_response(input);
  (void)regauth::credentials::parse_list_response(input);
  std::string shown = regauth::credentials::sanitize_helper_message(input, "s3cret");
  for (char c : shown) {
    auto byte = static_cast<unsigned char>(c);
    FUZZ_CHECK(byte >= 0x20 && byte != 0x7f);
  }
  FUZZ_CHECK(shown.find("s3cret") == std::string::npos);
  return 0;
}
