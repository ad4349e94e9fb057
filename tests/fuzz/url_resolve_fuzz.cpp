// Location resolution: a reference resolved against an https base never yields a URL with
// control bytes, and only http(s).
#include "regauth/http/url.hpp"

#include "fuzz_check.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto resolved =
      regauth::http::resolve_url("https://registry.example/v2/app/blobs/uploads/", input);
  if (!resolved) {
    return 0;
  }
  for (char c : *resolved) {
    auto byte = static_cast<unsigned char>(c);
    FUZZ_CHECK(byte > 0x20 && byte != 0x7f);
  }
  auto url = regauth::http::parse_url(*resolved);
  FUZZ_CHECK(url.has_value());
  FUZZ_CHECK(url->scheme == "https" || url->scheme == "http");
  // A relative reference keeps the base's scheme: https never turns into http by itself.
  if (input.find(':') == std::string_view::npos) {
    FUZZ_CHECK(url->scheme == "https");
  }
  return 0;
}
