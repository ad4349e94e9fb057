// `auths` entries: decoding never fails with the secret in the message; encode/decode round-trips.
#include "regauth/credentials/auth_entry.hpp"

#include "fuzz_check.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  regauth::config::Json entry = regauth::config::Json::object();
  entry["auth"] = std::string(input);
  auto decoded = regauth::credentials::decode_auth_entry(entry, "fuzz.example");
  if (decoded && *decoded) {
    const auto& credentials = **decoded;
    FUZZ_CHECK(!credentials.username.empty());
    FUZZ_CHECK(credentials.username.find(':') == std::string::npos);
    auto encoded =
        regauth::credentials::encode_auth_entry(regauth::config::Json::object(), credentials);
    auto again = regauth::credentials::decode_auth_entry(encoded, "fuzz.example");
    FUZZ_CHECK(again && *again);
    FUZZ_CHECK((*again)->username == credentials.username);
    FUZZ_CHECK((*again)->password == credentials.password);
  } else if (!decoded) {
    // Failures are one of the fixed messages: nothing of the entry, so no secret, is quoted.
    const std::string& message = decoded.error().message;
    const std::string prefix = "credentials for \"fuzz.example\": \"auth\" ";
    FUZZ_CHECK(message == prefix + "is not valid base64" ||
               message == prefix + "has no ':' between username and password" ||
               message == prefix + "has an empty username");
  }
  return 0;
}
