#include "regauth/registry/client_stack.hpp"

#include <mutex>

namespace regauth::registry {
namespace {

// The Authenticator's connection, shared by the threads of a command: sent on when it is free,
// else a request goes on a connection of its own, made for it and closed after it.
class SharedConnection final : public http::HttpClient {
public:
  explicit SharedConnection(TransportFactory make_transport)
      : m_make_transport(std::move(make_transport)), m_primary(m_make_transport()) {}

  Result<http::Response> send(const http::Request& request) override {
    std::unique_lock lock(m_mutex, std::try_to_lock);
    if (lock.owns_lock()) {
      return m_primary->send(request);
    }
    return m_make_transport()->send(request);
  }

private:
  TransportFactory m_make_transport;
  std::unique_ptr<http::HttpClient> m_primary;
  std::mutex m_mutex;
};

} // namespace

ClientStack::ClientStack(std::unique_ptr<http::HttpClient> owned, http::HttpClient& transport,
                         auth::SharedAuthenticator& authenticator, std::vector<auth::Scope> scopes,
                         http::RetryPolicy policy, http::Clock& clock)
    : m_owned(std::move(owned)), m_transport(transport), m_authenticator(authenticator),
      m_policy(policy), m_clock(clock), m_authorizing(m_transport, authenticator, scopes, true),
      m_retrying(m_authorizing, policy, clock),
      m_verdict_authorizing(m_transport, authenticator, std::move(scopes), false),
      m_verdict_retrying(m_verdict_authorizing, policy, clock) {}

ClientStack::~ClientStack() = default;

RegistrySession::RegistrySession(TransportFactory make_transport, std::string registry_host,
                                 std::optional<credentials::Credentials> credentials,
                                 auth::AuthOptions options, http::RetryPolicy policy,
                                 http::Clock& clock)
    : m_make_transport(std::move(make_transport)),
      m_auth_transport(std::make_unique<SharedConnection>(m_make_transport)), m_policy(policy),
      m_clock(clock) {
  if (options.clock == nullptr) {
    options.clock = &clock;
  }
  m_authenticator = std::make_unique<auth::SharedAuthenticator>(
      *m_auth_transport, std::move(registry_host), std::move(credentials), std::move(options));
}

std::unique_ptr<ClientStack> RegistrySession::connect(std::vector<auth::Scope> scopes) {
  auto transport = m_make_transport();
  http::HttpClient& connection = *transport;
  return std::make_unique<ClientStack>(std::move(transport), connection, *m_authenticator,
                                       std::move(scopes), m_policy, m_clock);
}

std::unique_ptr<ClientStack> RegistrySession::connect_shared(std::vector<auth::Scope> scopes) {
  return std::make_unique<ClientStack>(nullptr, *m_auth_transport, *m_authenticator,
                                       std::move(scopes), m_policy, m_clock);
}

std::unique_ptr<RegistrySession>
make_registry_session(TransportFactory make_transport, std::string registry_host,
                      std::optional<credentials::Credentials> credentials,
                      auth::AuthOptions options, http::RetryPolicy policy, http::Clock& clock) {
  return std::make_unique<RegistrySession>(std::move(make_transport), std::move(registry_host),
                                           std::move(credentials), std::move(options), policy,
                                           clock);
}

} // namespace regauth::registry
