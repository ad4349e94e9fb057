// How a command talks to one registry, built in one place for login, token and push: a
// transport per connection, the shared Authenticator (SharedAuthenticator), and per connection
// the decorators AuthorizingClient (Authorization, one renewal on 401) and RetryingClient
// (network errors, 408, 429, 5xx, with backoff and Retry-After).
#pragma once

#include "regauth/auth/authorizing_client.hpp"
#include "regauth/http/clock.hpp"
#include "regauth/http/http_client.hpp"
#include "regauth/http/retrying_client.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace regauth::registry {

// One connection's stack. Not thread-safe: one per job.
class ClientStack {
public:
  ClientStack(std::unique_ptr<http::HttpClient> owned, http::HttpClient& transport,
              auth::SharedAuthenticator& authenticator, std::vector<auth::Scope> scopes,
              http::RetryPolicy policy, http::Clock& clock);
  ClientStack(const ClientStack&) = delete;
  ClientStack& operator=(const ClientStack&) = delete;
  ~ClientStack();

  // The bare connection: requests that carry an Authorization value of their own.
  [[nodiscard]] http::HttpClient& transport() { return m_transport; }
  // Authorization, renewed once on 401; no retries (chunk PATCHes, which resume instead).
  [[nodiscard]] auth::AuthorizingClient& authorizing() { return m_authorizing; }
  // Retries over authorizing(): most requests.
  [[nodiscard]] http::HttpClient& client() { return m_retrying; }
  // Authorization without renewal: a 401 is the answer (the push gate, a cancel).
  [[nodiscard]] auth::AuthorizingClient& verdict_authorizing() { return m_verdict_authorizing; }
  // Retries over verdict_authorizing().
  [[nodiscard]] http::HttpClient& verdict_client() { return m_verdict_retrying; }
  [[nodiscard]] auth::SharedAuthenticator& authenticator() { return m_authenticator; }
  [[nodiscard]] const http::RetryPolicy& retry_policy() const { return m_policy; }
  [[nodiscard]] http::Clock& clock() { return m_clock; }

private:
  std::unique_ptr<http::HttpClient> m_owned;
  http::HttpClient& m_transport;
  auth::SharedAuthenticator& m_authenticator;
  http::RetryPolicy m_policy;
  http::Clock& m_clock;
  auth::AuthorizingClient m_authorizing;
  http::RetryingClient m_retrying;
  auth::AuthorizingClient m_verdict_authorizing;
  http::RetryingClient m_verdict_retrying;
};

// Makes one connection (an HttpClient holding one connection cache).
using TransportFactory = std::function<std::unique_ptr<http::HttpClient>()>;

// Everything a command needs for one registry: the Authenticator's connection, the shared
// Authenticator, and connections for jobs. Thread-safe where SharedAuthenticator is.
class RegistrySession {
public:
  RegistrySession(TransportFactory make_transport, std::string registry_host,
                  std::optional<credentials::Credentials> credentials, auth::AuthOptions options,
                  http::RetryPolicy policy, http::Clock& clock);
  RegistrySession(const RegistrySession&) = delete;
  RegistrySession& operator=(const RegistrySession&) = delete;

  [[nodiscard]] auth::SharedAuthenticator& authenticator() { return *m_authenticator; }
  // A stack on a new connection of its own (one per parallel job).
  std::unique_ptr<ClientStack> connect(std::vector<auth::Scope> scopes);
  // A stack on the Authenticator's own connection (the gate's, warm once it has passed): no new
  // connection to set up. Thread-safe: a request that finds that connection in use by another
  // thread (a token fetch while a job uploads) goes on a connection made for it alone.
  std::unique_ptr<ClientStack> connect_shared(std::vector<auth::Scope> scopes);

private:
  TransportFactory m_make_transport;
  std::unique_ptr<http::HttpClient> m_auth_transport;
  std::unique_ptr<auth::SharedAuthenticator> m_authenticator;
  http::RetryPolicy m_policy;
  http::Clock& m_clock;
};

// The one way login, token and push build their stack.
std::unique_ptr<RegistrySession>
make_registry_session(TransportFactory make_transport, std::string registry_host,
                      std::optional<credentials::Credentials> credentials,
                      auth::AuthOptions options, http::RetryPolicy policy = {},
                      http::Clock& clock = http::real_clock());

} // namespace regauth::registry
