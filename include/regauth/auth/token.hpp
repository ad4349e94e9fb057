// The token endpoint of the Docker Registry v2 token protocol: the response format
// (token.md), the realm check that decides whether a realm may receive credentials, and the
// GET (token.md) and POST (oauth.md) requests.
#pragma once

#include "regauth/auth/challenge.hpp"
#include "regauth/auth/scope.hpp"
#include "regauth/credentials/credentials.hpp"
#include "regauth/http/http_client.hpp"
#include "regauth/result.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace regauth::auth {

struct Token {
  std::string value;
  std::chrono::system_clock::time_point expires_at;
  std::string refresh_token; // when the server issued one (offline_token / access_type=offline)
};

// Parses a token response. `access_token` wins over `token` when both are set (as distribution's
// client does); `expires_in` missing or under 60 s means 60 s and is capped at 24 h; `issued_at`
// (RFC 3339) defaults to `now`. Fails (protocol) when no token is present or it has bytes that
// cannot go in a header.
Result<Token> parse_token_response(std::string_view body,
                                   std::chrono::system_clock::time_point now);

// Decides whether `realm` (already resolved to an absolute URL) may receive credentials meant
// for the registry at `registry_url`: https (http only when the registry itself is http), and a
// host equal to the registry's, or sharing its registrable domain (public suffix list), or named
// in `trusted_hosts`. IP literals only when equal. Fails (protocol) naming the realm.
Result<void> check_realm(std::string_view realm, std::string_view registry_url,
                         const std::vector<std::string>& trusted_hosts);

struct TokenRequest {
  std::string realm;   // absolute URL
  std::string service; // may be empty
  std::vector<Scope> scopes;
  std::optional<credentials::Credentials> credentials;
  std::string client_id = "regauth";
  bool offline = false; // ask for a refresh token (login)
};

// Fetches a token: POST grant_type=refresh_token for an identity token (GET on 404), else GET
// with Basic credentials when there are some, anonymous otherwise. Fails (unauthorized) with the
// server's own words when it refuses.
Result<Token> fetch_token(http::HttpClient& client, const TokenRequest& request);

} // namespace regauth::auth
