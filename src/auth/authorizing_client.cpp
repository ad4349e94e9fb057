#include "regauth/auth/authorizing_client.hpp"

#include "regauth/http/url.hpp"

namespace regauth::auth {

SharedAuthenticator::SharedAuthenticator(http::HttpClient& client, std::string registry_host,
                                         std::optional<credentials::Credentials> credentials,
                                         AuthOptions options)
    : m_authenticator(client, std::move(registry_host), std::move(credentials),
                      std::move(options)) {}

Result<void> SharedAuthenticator::ping() {
  std::lock_guard lock(m_mutex);
  return m_authenticator.ping();
}

Result<LoginProof> SharedAuthenticator::login() {
  std::lock_guard lock(m_mutex);
  return m_authenticator.login();
}

Result<std::optional<std::string>>
SharedAuthenticator::authorization(const std::vector<Scope>& scopes) {
  std::lock_guard lock(m_mutex);
  return m_authenticator.authorization(scopes);
}

void SharedAuthenticator::renew_after_401(const std::vector<Scope>& scopes,
                                          const std::optional<std::string>& sent) {
  std::lock_guard lock(m_mutex);
  auto current = m_authenticator.authorization(scopes);
  if (!current || *current == sent) {
    m_authenticator.invalidate();
  }
}

std::optional<Challenge> SharedAuthenticator::challenge() const {
  std::lock_guard lock(m_mutex);
  return m_authenticator.challenge();
}

bool SharedAuthenticator::assumed() const {
  std::lock_guard lock(m_mutex);
  return m_authenticator.assumed();
}

void SharedAuthenticator::forget_assumed() {
  std::lock_guard lock(m_mutex);
  m_authenticator.forget_assumed();
}

void SharedAuthenticator::confirm() {
  std::lock_guard lock(m_mutex);
  m_authenticator.confirm();
}

bool SharedAuthenticator::authorizes_at_once(const std::vector<Scope>& scopes) const {
  std::lock_guard lock(m_mutex);
  return m_authenticator.authorizes_at_once(scopes);
}

bool SharedAuthenticator::renews_credentials() const {
  std::lock_guard lock(m_mutex);
  return m_authenticator.renews_credentials();
}

std::string SharedAuthenticator::base_url() const {
  std::lock_guard lock(m_mutex);
  return m_authenticator.base_url();
}

std::string SharedAuthenticator::origin() const {
  std::string base = base_url();
  if (base.empty()) {
    return {};
  }
  auto parsed = http::parse_url(base + "/");
  return parsed ? parsed->origin() : std::string();
}

AuthorizingClient::AuthorizingClient(http::HttpClient& inner, SharedAuthenticator& authenticator,
                                     std::vector<Scope> scopes, bool renew)
    : m_inner(inner), m_authenticator(authenticator), m_scopes(std::move(scopes)), m_renew(renew) {}

Result<http::Response> AuthorizingClient::send_once(http::Request request) {
  auto value = m_authenticator.authorization(m_scopes); // pings first when needed
  if (!value) {
    return value.error();
  }
  m_last_authorization = *value;
  if (*value) {
    request.headers.push_back({"Authorization", **value});
  }
  if (!request.url.empty() && request.url.front() == '/') {
    request.url = m_authenticator.base_url() + request.url;
  }
  request.credential_origin = m_authenticator.origin();
  return m_inner.send(request);
}

Result<http::Response> AuthorizingClient::send(const http::Request& original) {
  http::Request request = original;
  auto response = send_once(request);
  // A second chance after a fresh token; a third when that one was refused as well and the
  // credentials can be renewed (the Authenticator then fetches new ones first).
  int renewals = m_authenticator.renews_credentials() ? 2 : 1;
  for (int renewal = 0; m_renew && renewal < renewals; ++renewal) {
    if (!response || response->status != 401) {
      return response;
    }
    m_authenticator.renew_after_401(m_scopes, m_last_authorization);
    if (request.body_source) {
      if (!request.prepare_resend) {
        return response; // the next request carries the new value
      }
      if (auto rewound = request.prepare_resend(request); !rewound) {
        return rewound.error();
      }
    }
    response = send_once(request);
  }
  return response;
}

} // namespace regauth::auth
