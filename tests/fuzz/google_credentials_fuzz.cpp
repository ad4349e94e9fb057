// Google credentials files and token answers: a parsed file always has what its type needs and
// a token_uri; an accepted access token is printable and lives between a second and a week.
#include "regauth/identity/google.hpp"

#include "fuzz_check.hpp"

#include <cstdint>
#include <string_view>

namespace google = regauth::identity::google;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    auto file = google::parse_credentials_file(input);
    if (!file) {
      FUZZ_CHECK(!file.error().message.empty());
      return 0;
    }
    FUZZ_CHECK(!file->token_uri.empty());
    if (file->type == "service_account") {
      FUZZ_CHECK(!file->client_email.empty() && !file->private_key.empty());
      auto claims = google::jwt_claims(*file, std::chrono::system_clock::now());
      FUZZ_CHECK(claims["aud"] == file->token_uri);
      auto signing_input = google::jwt_signing_input(*file, std::chrono::system_clock::now());
      FUZZ_CHECK(signing_input.find_first_of("+/= \n") == std::string::npos);
    } else {
      FUZZ_CHECK(file->type == "authorized_user");
      FUZZ_CHECK(!file->refresh_token.empty() && !file->client_id.empty());
    }
    return 0;
  }
  long status = data[0] % 4 == 1 ? 200 : 400 + data[0] % 120;
  auto token = google::parse_token_response(status, input);
  if (!token) {
    FUZZ_CHECK(!token.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(status == 200);
  FUZZ_CHECK(!token->token.empty());
  for (char c : token->token) {
    FUZZ_CHECK(c > 0x20 && c < 0x7f);
  }
  FUZZ_CHECK(token->expires_in.count() >= 1 && token->expires_in.count() <= 7 * 24 * 3600);
  return 0;
}
