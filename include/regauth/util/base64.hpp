// Standard base64 (RFC 4648, with padding) through OpenSSL's EVP encoder.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace regauth {

// Encodes bytes as one line of standard base64.
std::string base64_encode(std::string_view bytes);

// Decodes standard base64 (line breaks allowed, padding required); nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view text);

// "user:password" as base64, the `auth` field of config.json.
std::string encode_basic_auth(std::string_view username, std::string_view password);

// "Basic <base64 of user:password>", an Authorization header value (RFC 7617).
std::string basic_authorization(std::string_view username, std::string_view password);

} // namespace regauth
