// Token responses: an accepted token can go in a header and never expires before a minute.
#include "regauth/auth/token.hpp"

#include "fuzz_check.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto now = std::chrono::system_clock::now();
  auto token = regauth::auth::parse_token_response(input, now);
  if (!token) {
    return 0;
  }
  FUZZ_CHECK(!token->value.empty());
  for (char c : token->value) {
    FUZZ_CHECK(c > 0x20 && c < 0x7f);
  }
  FUZZ_CHECK(token->expires_at >= now - std::chrono::hours(1));
  FUZZ_CHECK(token->expires_at <= now + std::chrono::hours(26));
  return 0;
}
