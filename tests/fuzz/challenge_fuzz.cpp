// WWW-Authenticate: a parsed challenge list re-serializes to headers that parse to the same list.
#include "regauth/auth/challenge.hpp"

#include "fuzz_check.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = regauth::auth::parse_challenges(input);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().message.empty());
    return 0;
  }
  for (const auto& challenge : *parsed) {
    FUZZ_CHECK(!challenge.scheme.empty());
    if (!challenge.token68.empty()) {
      continue;
    }
    auto again = regauth::auth::parse_challenges(regauth::auth::to_header(challenge));
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->size() == 1);
    FUZZ_CHECK(again->front() == challenge);
  }
  return 0;
}
