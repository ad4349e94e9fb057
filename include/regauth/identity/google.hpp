// Google's application default credentials, the pure parts: the credentials file (a service
// account key or gcloud's authorized_user file), the claims of the RS256 JWT a service account
// signs, the token endpoint's answer, which registries take a Google access token, and whether
// the machine says it is a Compute Engine instance. The source itself is src/identity/google.cpp.
#pragma once

#include "regauth/result.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace regauth::identity::google {

inline constexpr std::string_view k_default_token_uri = "https://oauth2.googleapis.com/token";
inline constexpr std::string_view k_scope = "https://www.googleapis.com/auth/cloud-platform";
inline constexpr std::string_view k_jwt_bearer_grant =
    "urn:ietf:params:oauth:grant-type:jwt-bearer";
// The user name under which Artifact Registry and GCR take an access token.
inline constexpr std::string_view k_registry_username = "oauth2accesstoken";

struct CredentialsFile {
  std::string type; // "service_account" or "authorized_user"
  // service_account
  std::string client_email;
  std::string private_key; // PEM
  std::string private_key_id;
  // authorized_user
  std::string client_id;
  std::string client_secret;
  std::string refresh_token;
  // Both: where tokens are asked for (the file's, else Google's).
  std::string token_uri;
};

// Parses an application default credentials file. Fails (config) naming the missing or
// mistyped field, or a type regauth does not handle (external_account, impersonated, ...).
Result<CredentialsFile> parse_credentials_file(std::string_view json);

// The claims a service account signs: iss, scope, aud (the token_uri), iat, exp (an hour on).
nlohmann::json jwt_claims(const CredentialsFile& file, std::chrono::system_clock::time_point now);

// base64url(header) "." base64url(claims): the bytes RS256 signs.
std::string jwt_signing_input(const CredentialsFile& file,
                              std::chrono::system_clock::time_point now);

// Base64url without padding (RFC 7515 section 2).
std::string base64url(std::string_view bytes);

struct AccessToken {
  std::string token;
  std::chrono::seconds expires_in{0};
};

// Reads a token endpoint's or metadata server's answer. A 2xx needs a non-empty access_token
// and a positive expires_in; anything else fails (unauthorized for 400/401/403, else protocol or
// network) with Google's own words: "invalid_grant: Invalid JWT Signature.".
Result<AccessToken> parse_token_response(long status, std::string_view body);

// True for the registries that take a Google access token: *-docker.pkg.dev, gcr.io, *.gcr.io.
bool serves(std::string_view registry);

// True when DMI says Google Compute Engine, as Google's libraries check: product_name
// "Google Compute Engine" or "Google", or sys_vendor / bios_vendor "Google" (trailing newline
// and spaces ignored).
bool dmi_says_gce(std::string_view product_name, std::string_view sys_vendor,
                  std::string_view bios_vendor);

} // namespace regauth::identity::google
