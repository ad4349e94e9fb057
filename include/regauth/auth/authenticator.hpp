// The Registry v2 auth handshake for one registry:
//   1. ping GET /v2/ without credentials (https; http only for loopback/insecure hosts);
//   2. 200 means no auth; 401 carries WWW-Authenticate challenges, Bearer preferred over Basic;
//   3. Basic: send the credentials to the registry itself;
//   4. Bearer: check the realm, fetch a token for the scopes (GET, or POST with a refresh token);
//   5. the caller sends with Authorization (AuthorizingClient); after a 401 it invalidates and
//      asks again.
// Token requests that meet a network error, 408, 429 or 5xx are tried again (RetryingClient).
#pragma once

#include "regauth/auth/challenge.hpp"
#include "regauth/auth/scope.hpp"
#include "regauth/auth/token.hpp"
#include "regauth/credentials/credentials.hpp"
#include "regauth/http/clock.hpp"
#include "regauth/http/http_client.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace regauth::auth {

// Fresh credentials from where the first ones came (the machine's identity), with their end;
// nullopt when there are none any more. Called by the Authenticator when its credentials have
// expired, or when the registry or its token server refuses credentials that worked.
struct RenewedCredentials {
  credentials::Credentials credentials;
  std::optional<std::chrono::system_clock::time_point> expires_at;
};
using CredentialsRenewal = std::function<Result<std::optional<RenewedCredentials>>()>;

// What an earlier command's ping found at a registry: where it answered and its challenge
// (nullopt: it asked for no authentication). Taken instead of a ping, it lets the first request
// carry credentials for the protection space that the same origin asked them for before
// (RFC 7617 section 2.2), one round trip sooner.
struct RememberedChallenge {
  std::string base_url; // "https://host[:port]" (http only where AuthOptions::may_use_http)
  std::optional<Challenge> challenge;
};

struct AuthOptions {
  std::vector<std::string> trusted_realms; // hosts allowed as token realms anyway
  std::string client_id = "regauth";
  bool may_use_http = false; // loopback or --insecure-registry: http after https fails
  bool http_first = false;   // with may_use_http: probe http, then https (prefers_plain_http)
  // Short-lived credentials: when they end, and how to get new ones (both optional).
  std::optional<std::chrono::system_clock::time_point> credentials_expire_at;
  CredentialsRenewal renew_credentials;
  // Waits between ping rounds and token retries; nullptr: http::real_clock().
  http::Clock* clock = nullptr;
  // Taken as the ping's answer until the registry refuses something (see assumed()); ignored
  // when its base is not this registry's.
  std::optional<RememberedChallenge> remembered;
};

struct LoginProof {
  bool verified = false;     // false when the registry asks for no authentication at all
  std::string scheme;        // "basic", "bearer" or ""
  std::string refresh_token; // issued by the token server, to store as the identity token
};

class Authenticator {
public:
  Authenticator(http::HttpClient& client, std::string registry_host,
                std::optional<credentials::Credentials> credentials, AuthOptions options);

  // Step 1-2. Fails (network) when the registry cannot be reached (after a few rounds with
  // backoff for resets, 5xx and 429), (not_found) when it does not speak the v2 API, (protocol)
  // when its challenge is malformed.
  Result<void> ping();
  // "https://host[:port]" after ping.
  [[nodiscard]] const std::string& base_url() const { return m_base_url; }
  // The chosen challenge after ping; nullopt when the registry wants no auth.
  [[nodiscard]] const std::optional<Challenge>& challenge() const { return m_challenge; }

  // Proves the credentials as the Docker CLI's login does. Fails (unauthorized) with the
  // registry's or token server's own words.
  Result<LoginProof> login();

  // The Authorization value for a request needing `scopes`; nullopt when none is needed.
  // Tokens are cached per scope set until 30 s before they expire.
  Result<std::optional<std::string>> authorization(const std::vector<Scope>& scopes);
  // Forgets cached tokens (after a 401). A 401 for a token fetched moments ago, or for Basic
  // credentials, means the credentials themselves died: with a renewal, the next authorization
  // fetches new ones first.
  void invalidate();

  // True while the challenge is AuthOptions::remembered, not yet confirmed by an answer of the
  // registry's to a request that carried its credentials.
  [[nodiscard]] bool assumed() const { return m_assumed; }
  // After a refusal while assumed(): forgets the remembered challenge (and tokens), so that the
  // next authorization() pings. Nothing when the challenge was not assumed.
  void forget_assumed();
  // The registry accepted what the remembered challenge led to: it is no longer assumed.
  void confirm() { m_assumed = false; }
  // Whether authorization(scopes) would answer without sending a request.
  [[nodiscard]] bool authorizes_at_once(const std::vector<Scope>& scopes) const;

  // True when refused credentials can be replaced (AuthOptions::renew_credentials).
  [[nodiscard]] bool renews_credentials() const {
    return static_cast<bool>(m_options.renew_credentials);
  }

private:
  // One ping; sets `retry` when the failure is one that a later attempt may not meet.
  Result<void> ping_once(bool& retry);
  Result<Token> token_for(const std::vector<Scope>& scopes, bool offline);
  Result<std::string> realm_url();
  // Replaces the credentials through the renewal (when there is one); false when it has none.
  Result<bool> renew();

  http::HttpClient& m_client;
  std::string m_registry_host;
  std::optional<credentials::Credentials> m_credentials;
  AuthOptions m_options;
  std::string m_base_url;
  std::optional<Challenge> m_challenge;
  std::map<std::string, Token> m_tokens;
  std::chrono::steady_clock::time_point m_last_fetch{};
  bool m_renew_next = false;
  bool m_invalidated = false;
  bool m_fetched_after_invalidate = false;
  bool m_assumed = false;
};

} // namespace regauth::auth
