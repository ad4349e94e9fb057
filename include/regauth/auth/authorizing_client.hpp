// Authorization for many connections to one registry: SharedAuthenticator owns the
// Authenticator (its tokens, its renewals) and the lock that every job takes to use it, and
// AuthorizingClient is the HttpClient decorator that puts the Authorization value for its
// scopes on each request and renews once on 401.
#pragma once

#include "regauth/auth/authenticator.hpp"
#include "regauth/http/http_client.hpp"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace regauth::auth {

// The Authenticator of one registry, shared by every job of a command; thread-safe.
class SharedAuthenticator {
public:
  // `client` is the Authenticator's own (ping, tokens); it must outlive this object.
  SharedAuthenticator(http::HttpClient& client, std::string registry_host,
                      std::optional<credentials::Credentials> credentials, AuthOptions options);

  // Authenticator::ping.
  Result<void> ping();
  // Authenticator::login.
  Result<LoginProof> login();
  // Authenticator::authorization (pings first when it has not).
  Result<std::optional<std::string>> authorization(const std::vector<Scope>& scopes);
  // After a 401 to a request that carried `sent` for `scopes`: forgets the cached tokens, unless
  // another job already did (the value for these scopes is no longer `sent`), so that parallel
  // jobs that all meet a dead token fetch one new token, not one each.
  void renew_after_401(const std::vector<Scope>& scopes, const std::optional<std::string>& sent);
  // Authenticator::challenge, copied.
  [[nodiscard]] std::optional<Challenge> challenge() const;
  // Authenticator::assumed, forget_assumed, confirm and authorizes_at_once.
  [[nodiscard]] bool assumed() const;
  void forget_assumed();
  void confirm();
  [[nodiscard]] bool authorizes_at_once(const std::vector<Scope>& scopes) const;
  // Whether a refused fresh token can be followed by new credentials (AuthOptions).
  [[nodiscard]] bool renews_credentials() const;
  // "https://host[:port]" after ping, "" before.
  [[nodiscard]] std::string base_url() const;
  // The registry's origin ("https://host:443"), the only one Authorization goes to; "" before
  // ping.
  [[nodiscard]] std::string origin() const;

private:
  mutable std::mutex m_mutex;
  Authenticator m_authenticator;
};

// Sends through `inner` with the Authorization value for `scopes` (none when the registry
// wants none), only to the registry's origin (Request::credential_origin). A request whose URL
// starts with '/' is sent to the registry (base_url + path). On 401 (when `renew` is set) it
// renews once and sends again: a fresh token, and when that one is refused too and the
// credentials can be renewed, once more with new credentials. A streamed body is sent again
// only after its prepare_resend; without one the 401 is returned after the renewal, and the
// next request carries the new value.
class AuthorizingClient final : public http::HttpClient {
public:
  AuthorizingClient(http::HttpClient& inner, SharedAuthenticator& authenticator,
                    std::vector<Scope> scopes, bool renew = true);
  Result<http::Response> send(const http::Request& request) override;

  [[nodiscard]] const std::vector<Scope>& scopes() const { return m_scopes; }
  // The Authorization value this client put on the last request it sent; nullopt when none.
  [[nodiscard]] const std::optional<std::string>& last_authorization() const {
    return m_last_authorization;
  }
  [[nodiscard]] SharedAuthenticator& authenticator() const { return m_authenticator; }

private:
  Result<http::Response> send_once(http::Request request);

  http::HttpClient& m_inner;
  SharedAuthenticator& m_authenticator;
  std::vector<Scope> m_scopes;
  bool m_renew;
  std::optional<std::string> m_last_authorization;
};

} // namespace regauth::auth
