#include "regauth/auth/authenticator.hpp"

#include "regauth/http/error_body.hpp"
#include "regauth/http/retrying_client.hpp"
#include "regauth/http/url.hpp"
#include "regauth/util/base64.hpp"
#include "regauth/util/terminal_text.hpp"

namespace regauth::auth {
namespace {

constexpr std::chrono::seconds k_renew_margin{30};
constexpr std::chrono::milliseconds k_quick_failure{1000};
// A token refused this soon after it was issued says the credentials behind it have ended.
constexpr std::chrono::seconds k_fresh_token{10};

// The ping's rounds: as many, and as far apart, as any request's attempts.
const http::RetryPolicy k_ping_policy{};

http::Clock& clock_of(const AuthOptions& options) {
  return options.clock != nullptr ? *options.clock : http::real_clock();
}

std::string scope_key(const std::vector<Scope>& scopes) {
  std::string key;
  for (const auto& scope : scopes) {
    key += scope.to_string() + " ";
  }
  return key;
}

} // namespace

Authenticator::Authenticator(http::HttpClient& client, std::string registry_host,
                             std::optional<credentials::Credentials> credentials,
                             AuthOptions options)
    : m_client(client), m_registry_host(std::move(registry_host)),
      m_credentials(std::move(credentials)), m_options(std::move(options)) {
  if (m_options.remembered) {
    const std::string& base = m_options.remembered->base_url;
    if (base == "https://" + m_registry_host ||
        (m_options.may_use_http && base == "http://" + m_registry_host)) {
      m_base_url = base;
      m_challenge = m_options.remembered->challenge;
      m_assumed = true;
    }
  }
}

void Authenticator::forget_assumed() {
  if (!m_assumed) {
    return;
  }
  m_assumed = false;
  m_base_url.clear();
  m_challenge.reset();
  m_tokens.clear();
}

bool Authenticator::authorizes_at_once(const std::vector<Scope>& scopes) const {
  if (m_base_url.empty()) {
    return false;
  }
  if (!m_challenge || m_challenge->scheme == "basic" ||
      (m_credentials && !m_credentials->registry_token.empty())) {
    return true;
  }
  auto cached = m_tokens.find(scope_key(scopes));
  return cached != m_tokens.end() &&
         cached->second.expires_at - k_renew_margin > std::chrono::system_clock::now();
}

Result<void> Authenticator::ping() {
  // A ping that fails the way a busy or flaky server fails (a reset or refused connection on
  // every scheme, 5xx, 429) is tried again, a bounded number of rounds with backoff; one that
  // took its time (a timeout, a trickle) is not: --timeout already bounded that wait.
  http::Clock& clock = clock_of(m_options);
  for (int round = 1;; ++round) {
    bool retry = false;
    auto started = clock.now();
    auto pinged = ping_once(retry);
    retry = retry && clock.now() - started < k_quick_failure;
    if (pinged || !retry || round >= k_ping_policy.max_attempts) {
      return pinged;
    }
    (void)clock.sleep(http::retry_delay(k_ping_policy, nullptr, round - 1));
  }
}

Result<void> Authenticator::ping_once(bool& retry) {
  std::vector<std::string> schemes = {"https"};
  if (m_options.may_use_http) {
    schemes.insert(m_options.http_first ? schemes.begin() : schemes.end(), "http");
  }
  // When both fail, the https attempt's error is the one to report: it is the protocol a
  // registry is expected to speak, and the one whose TLS failures say something.
  std::optional<Error> https_failure;
  std::optional<Error> http_failure;
  for (std::size_t i = 0; i < schemes.size(); ++i) {
    const std::string& scheme = schemes[i];
    std::string base = scheme + "://" + m_registry_host;
    bool last = i + 1 == schemes.size();
    http::Request request;
    request.url = base + "/v2/";
    auto response = m_client.send(request);
    if (!response) {
      if (response.error().kind != ErrorKind::network) {
        return response.error();
      }
      (scheme == "https" ? https_failure : http_failure) = response.error();
      if (last) {
        retry = true;
        return https_failure ? *https_failure : *http_failure;
      }
      continue; // e.g. https spoken to a plain HTTP port on a loopback registry
    }
    if (scheme == "http" && !last &&
        (response->status == 400 || (response->status >= 300 && response->status < 400))) {
      // A TLS port answering plain HTTP: Go's "Client sent an HTTP request to an HTTPS
      // server" (400), nginx's 400 or its redirect to https.
      continue;
    }
    m_base_url = base;
    if (response->status == 200) {
      m_challenge.reset();
      return {};
    }
    if (response->status == 401) {
      auto parsed = parse_challenge_headers(response->header_values("WWW-Authenticate"));
      if (!parsed) {
        return parsed.error().with_context("GET " + request.url);
      }
      auto chosen = choose_challenge(*parsed);
      if (!chosen) {
        return chosen.error().with_context("GET " + request.url);
      }
      m_challenge = std::move(*chosen);
      return {};
    }
    if (response->status == 404) {
      return make_error(ErrorKind::not_found, "GET " + request.url +
                                                  ": 404 Not Found: not a Docker Registry v2 "
                                                  "endpoint");
    }
    retry = http::is_retryable_status(response->status);
    return http::response_error("GET " + request.url, *response);
  }
  return make_error(ErrorKind::network, "cannot reach " + m_registry_host); // not reached
}

Result<std::string> Authenticator::realm_url() {
  auto resolved = http::resolve_url(m_base_url + "/v2/", m_challenge->param("realm"));
  if (!resolved) {
    return make_error(ErrorKind::protocol, "the registry's token realm \"" +
                                               escape_for_terminal(m_challenge->param("realm")) +
                                               "\" is not a valid URL");
  }
  if (auto checked = check_realm(*resolved, m_base_url, m_options.trusted_realms); !checked) {
    return checked.error();
  }
  return resolved;
}

Result<Token> Authenticator::token_for(const std::vector<Scope>& scopes, bool offline) {
  auto realm = realm_url();
  if (!realm) {
    return realm.error();
  }
  TokenRequest request;
  request.realm = *realm;
  request.service = m_challenge->param("service");
  request.scopes = scopes;
  request.credentials = m_credentials;
  request.client_id = m_options.client_id;
  request.offline = offline;
  // A token server's 5xx, 429 or dropped connection is no verdict on the credentials.
  http::RetryingClient retrying(m_client, {}, clock_of(m_options));
  return fetch_token(retrying, request);
}

Result<LoginProof> Authenticator::login() {
  if (m_base_url.empty()) {
    if (auto pinged = ping(); !pinged) {
      return pinged.error();
    }
  }
  LoginProof proof;
  if (!m_challenge) {
    return proof; // nothing to prove: the registry is open
  }
  proof.scheme = m_challenge->scheme;
  http::Request check;
  check.url = m_base_url + "/v2/";
  check.credential_origin = http::parse_url(m_base_url + "/")->origin();
  if (m_challenge->scheme == "basic") {
    if (!m_credentials || m_credentials->username.empty()) {
      return make_error(ErrorKind::unauthorized, "unauthorized: authentication required");
    }
    check.headers.push_back(
        {"Authorization", basic_authorization(m_credentials->username, m_credentials->password)});
  } else {
    if (m_credentials && !m_credentials->registry_token.empty()) {
      check.headers.push_back({"Authorization", "Bearer " + m_credentials->registry_token});
    } else {
      auto token = token_for({}, true);
      if (!token) {
        return token.error();
      }
      proof.refresh_token = token->refresh_token;
      check.headers.push_back({"Authorization", "Bearer " + token->value});
    }
  }
  auto response = m_client.send(check);
  if (!response) {
    return response.error();
  }
  if (response->status != 200) {
    auto error = http::response_error("login attempt to " + check.url + " failed", *response);
    if (auto words = http::describe_error_body(response->body);
        response->status == 401 && !words.empty()) {
      error.message = words;
    }
    return error;
  }
  // Only the origin that received the credentials can vouch for them: a 200 from wherever a
  // redirect led proves nothing (the redirect dropped Authorization on the way).
  http::Proof answered{*check.credential_origin, "GET", true};
  if (auto checked = http::check_answered_by(*response, answered, "GET " + check.url); !checked) {
    return checked.error().with_context("the login to " + m_registry_host + " is not verified");
  }
  proof.verified = true;
  return proof;
}

void Authenticator::invalidate() {
  if (m_assumed) {
    forget_assumed(); // a refusal of what the remembered challenge led to: ask the registry
    return;
  }
  bool basic = m_challenge && m_challenge->scheme == "basic";
  // Fresh: fetched just now to replace a token that a 401 had dropped.
  bool fresh_refused =
      m_fetched_after_invalidate && std::chrono::steady_clock::now() - m_last_fetch < k_fresh_token;
  if (m_options.renew_credentials && (basic || fresh_refused)) {
    m_renew_next = true;
  }
  m_tokens.clear();
  m_invalidated = true;
  m_fetched_after_invalidate = false;
}

Result<bool> Authenticator::renew() {
  if (!m_options.renew_credentials) {
    return false;
  }
  auto renewed = m_options.renew_credentials();
  if (!renewed) {
    return renewed.error();
  }
  if (!*renewed) {
    return false;
  }
  m_credentials = std::move((*renewed)->credentials);
  m_options.credentials_expire_at = (*renewed)->expires_at;
  m_tokens.clear();
  return true;
}

Result<std::optional<std::string>> Authenticator::authorization(const std::vector<Scope>& scopes) {
  if (m_base_url.empty()) {
    if (auto pinged = ping(); !pinged) {
      return pinged.error();
    }
  }
  if (!m_challenge) {
    return std::optional<std::string>();
  }
  // Short-lived credentials are renewed when they end and when they were just refused.
  if (m_renew_next ||
      (m_options.credentials_expire_at &&
       *m_options.credentials_expire_at - k_renew_margin <= std::chrono::system_clock::now())) {
    m_renew_next = false;
    if (auto renewed = renew(); !renewed) {
      return renewed.error();
    }
  }
  if (m_challenge->scheme == "basic") {
    if (!m_credentials || m_credentials->username.empty()) {
      return std::optional<std::string>();
    }
    return std::optional<std::string>(
        basic_authorization(m_credentials->username, m_credentials->password));
  }
  if (m_credentials && !m_credentials->registry_token.empty()) {
    return std::optional<std::string>("Bearer " + m_credentials->registry_token);
  }
  std::string key = scope_key(scopes);
  auto cached = m_tokens.find(key);
  if (cached == m_tokens.end() ||
      cached->second.expires_at - k_renew_margin <= std::chrono::system_clock::now()) {
    auto token = token_for(scopes, false);
    if (!token && token.error().kind == ErrorKind::unauthorized && m_options.renew_credentials) {
      // The token server refuses credentials that may have just ended: try fresh ones once.
      auto renewed = renew();
      if (!renewed) {
        return renewed.error();
      }
      if (*renewed) {
        token = token_for(scopes, false);
      }
    }
    if (!token && m_assumed && token.error().kind != ErrorKind::interrupted) {
      // A realm remembered from an earlier command may be out of date: ask the registry.
      forget_assumed();
      return authorization(scopes);
    }
    if (!token) {
      return token.error();
    }
    m_last_fetch = std::chrono::steady_clock::now();
    m_fetched_after_invalidate = m_invalidated;
    cached = m_tokens.insert_or_assign(key, std::move(*token)).first;
  }
  return std::optional<std::string>("Bearer " + cached->second.value);
}

} // namespace regauth::auth
