#include "regauth/auth/token.hpp"

#include "regauth/http/error_body.hpp"
#include "regauth/http/url.hpp"
#include "regauth/util/base64.hpp"
#include "regauth/util/libcrypto.hpp"
#include "regauth/util/terminal_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>

namespace regauth::auth {
namespace {

constexpr std::chrono::seconds k_min_lifetime{60};
constexpr std::chrono::seconds k_max_lifetime{24 * 3600};

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text) {
  std::tm tm{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) {
    return std::nullopt;
  }
  while (*rest == '.' || (*rest >= '0' && *rest <= '9')) {
    ++rest; // fractional seconds
  }
  long offset = 0;
  if (*rest == '+' || *rest == '-') {
    int hours = 0;
    int minutes = 0;
    if (std::sscanf(rest + 1, "%2d:%2d", &hours, &minutes) != 2) {
      return std::nullopt;
    }
    offset = (*rest == '+' ? 1 : -1) * (hours * 3600L + minutes * 60L);
  } else if (*rest != 'Z' && *rest != 'z') {
    return std::nullopt;
  }
  // system_clock counts nanoseconds in 64 bits (up to year 2262): refuse what would overflow.
  if (tm.tm_year < 70 || tm.tm_year > 300) {
    return std::nullopt;
  }
  time_t seconds = timegm(&tm);
  if (seconds == static_cast<time_t>(-1)) {
    return std::nullopt;
  }
  return std::chrono::system_clock::from_time_t(seconds - offset);
}

bool is_header_safe(std::string_view token) {
  return !token.empty() &&
         std::all_of(token.begin(), token.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string registrable_domain(const std::string& host) {
  const char* domain = libpsl().registrable_domain(libpsl().builtin(), host.c_str());
  return domain ? std::string(domain) : std::string();
}

std::string join_scopes(const std::vector<Scope>& scopes) {
  std::string joined;
  for (const auto& scope : scopes) {
    joined += (joined.empty() ? "" : " ") + scope.to_string();
  }
  return joined;
}

Error token_refused(const http::Response& response, const std::string& realm) {
  std::string words = http::describe_error_body(response.body);
  auto kind = http::kind_for_status(response.status);
  if (response.status == 401 || response.status == 403) {
    kind = ErrorKind::unauthorized;
    if (words.empty()) {
      words = "authentication required";
    }
    if (words.rfind("unauthorized", 0) != 0) {
      words = "unauthorized: " + words;
    }
    return make_error(kind, words);
  }
  return http::response_error("fetching a token from " + realm, response);
}

Result<Token> read_token(const http::Response& response, const std::string& realm) {
  if (response.status != 200) {
    return token_refused(response, realm);
  }
  auto token = parse_token_response(response.body, std::chrono::system_clock::now());
  if (!token) {
    return token.error().with_context("token from " + realm);
  }
  return token;
}

} // namespace

Result<Token> parse_token_response(std::string_view body,
                                   std::chrono::system_clock::time_point now) {
  auto json = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return make_error(ErrorKind::protocol, "the token response is not a JSON object");
  }
  auto string_member = [&](const char* name) {
    auto it = json.find(name);
    return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  Token token;
  token.value = string_member("access_token");
  if (token.value.empty()) {
    token.value = string_member("token");
  }
  if (token.value.empty()) {
    return make_error(ErrorKind::protocol, "the token response holds no token");
  }
  if (!is_header_safe(token.value)) {
    return make_error(ErrorKind::protocol,
                      "the token holds spaces or control characters and cannot be sent");
  }
  token.refresh_token = string_member("refresh_token");
  if (!token.refresh_token.empty() && !is_header_safe(token.refresh_token)) {
    return make_error(ErrorKind::protocol, "the refresh token holds spaces or control characters");
  }
  std::chrono::seconds lifetime = k_min_lifetime;
  if (auto it = json.find("expires_in"); it != json.end() && it->is_number()) {
    double seconds = it->get<double>();
    if (seconds > static_cast<double>(k_max_lifetime.count())) {
      lifetime = k_max_lifetime;
    } else if (seconds > static_cast<double>(k_min_lifetime.count())) {
      lifetime = std::chrono::seconds(static_cast<long long>(seconds));
    }
  }
  auto issued = now;
  if (auto issued_at = string_member("issued_at"); !issued_at.empty()) {
    if (auto parsed = parse_rfc3339(issued_at); parsed) {
      // A server clock far from ours must not make the token look expired or eternal.
      auto skew = *parsed - now;
      if (skew < std::chrono::hours(1) && skew > -std::chrono::hours(1)) {
        issued = *parsed;
      }
    }
  }
  token.expires_at = issued + lifetime;
  return token;
}

Result<void> check_realm(std::string_view realm, std::string_view registry_url,
                         const std::vector<std::string>& trusted_hosts) {
  auto realm_url = http::parse_url(realm);
  if (!realm_url) {
    return make_error(ErrorKind::protocol, "refusing token realm \"" + escape_for_terminal(realm) +
                                               "\": not an http(s) URL");
  }
  auto registry = http::parse_url(registry_url);
  if (!registry) {
    return registry.error();
  }
  auto refuse = [&](const std::string& why) {
    return make_error(ErrorKind::protocol,
                      "refusing to contact token realm \"" + escape_for_terminal(realm) +
                          "\" for " + registry->host_port() + ": " + why + " (pass --trust-realm " +
                          realm_url->host + " if it is yours)");
  };
  if (realm_url->scheme == "http" && registry->scheme != "http") {
    return refuse("plain http for a registry reached over https");
  }
  auto trusted = std::any_of(trusted_hosts.begin(), trusted_hosts.end(), [&](const auto& host) {
    return http::equals_ignore_case(host, realm_url->host) ||
           http::equals_ignore_case(host, realm_url->host_port());
  });
  if (trusted || realm_url->host == registry->host) {
    return {};
  }
  if (http::is_ip_literal(realm_url->host) || http::is_ip_literal(registry->host)) {
    return refuse("an IP address other than the registry's");
  }
  std::string realm_domain = registrable_domain(realm_url->host);
  if (realm_domain.empty() || realm_domain != registrable_domain(registry->host)) {
    return refuse("a host outside the registry's domain");
  }
  return {};
}

Result<Token> fetch_token(http::HttpClient& client, const TokenRequest& request) {
  const auto& credentials = request.credentials;
  auto realm_origin = http::parse_url(request.realm);
  if (!realm_origin) {
    return realm_origin.error();
  }
  if (credentials && !credentials->identity_token.empty()) {
    // oauth.md: one `scope` field with space-separated scopes.
    std::vector<std::pair<std::string, std::string>> form = {
        {"grant_type", "refresh_token"},
        {"refresh_token", credentials->identity_token},
        {"client_id", request.client_id}};
    if (!request.service.empty()) {
      form.emplace_back("service", request.service);
    }
    if (!request.scopes.empty()) {
      form.emplace_back("scope", join_scopes(request.scopes));
    }
    if (request.offline) {
      form.emplace_back("access_type", "offline");
    }
    std::string body = http::append_query("", form).substr(1);
    http::Request post;
    post.method = "POST";
    post.url = request.realm;
    post.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    post.body = std::move(body);
    post.follow_redirects = true;
    auto response = client.send(post);
    if (!response) {
      return response.error();
    }
    if (response->status != 404) {
      // The refresh token travels in the body: only the realm's origin, answering the POST
      // itself, can have issued a token for it.
      if (response->status == 200) {
        http::Proof proof{realm_origin->origin(), "POST", false};
        if (auto checked =
                http::check_answered_by(*response, proof, "the refresh token for " + request.realm);
            !checked) {
          return checked.error();
        }
      }
      auto token = read_token(*response, request.realm);
      if (token && token->refresh_token.empty()) {
        token->refresh_token = credentials->identity_token;
      }
      return token;
    }
  }
  std::vector<std::pair<std::string, std::string>> query;
  if (!request.service.empty()) {
    query.emplace_back("service", request.service);
  }
  for (const auto& scope : request.scopes) {
    query.emplace_back("scope", scope.to_string());
  }
  http::Request get;
  get.url = request.realm;
  std::string basic_user;
  std::string basic_secret;
  if (credentials && !credentials->identity_token.empty() && !credentials->username.empty()) {
    basic_user = credentials->username;
    basic_secret = credentials->identity_token;
  } else if (credentials && !credentials->username.empty() && !credentials->password.empty()) {
    basic_user = credentials->username;
    basic_secret = credentials->password;
  }
  if (!basic_user.empty()) {
    query.emplace_back("account", basic_user);
    get.headers.push_back({"Authorization", basic_authorization(basic_user, basic_secret)});
    get.credential_origin = realm_origin->origin();
  }
  if (request.offline) {
    query.emplace_back("client_id", request.client_id);
    query.emplace_back("offline_token", "true");
  }
  get.url = http::append_query(request.realm, query);
  auto response = client.send(get);
  if (!response) {
    return response.error();
  }
  // A token issued where a redirect led, by an origin that never saw the credentials, proves
  // nothing about them.
  if (!basic_user.empty() && response->status == 200) {
    http::Proof proof{realm_origin->origin(), "GET", true};
    if (auto checked =
            http::check_answered_by(*response, proof, "the credentials for " + request.realm);
        !checked) {
      return checked.error();
    }
  }
  return read_token(*response, request.realm);
}

} // namespace regauth::auth
