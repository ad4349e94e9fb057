#include "regauth/http/url.hpp"

#include "regauth/util/strings.hpp"

#include "libcurl.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <arpa/inet.h>
#include <memory>

namespace regauth::http {
namespace {

using UrlHandle = std::unique_ptr<CURLU, void (*)(CURLU*)>;

std::string part(CURLU* handle, CURLUPart which, unsigned flags = 0) {
  char* value = nullptr;
  if (libcurl().url_get(handle, which, &value, flags) != CURLUE_OK || !value) {
    return {};
  }
  std::string out(value);
  libcurl().free(value);
  return out;
}

// The URL text for messages: user information (maybe a password) replaced by "[redacted]",
// capped at 200 bytes.
std::string shown_url(std::string_view text) {
  std::string shown(text.substr(0, 200));
  auto scheme_end = shown.find("://");
  std::size_t start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  auto authority_end = shown.find_first_of("/?#", start);
  auto authority = shown.substr(start, authority_end == std::string::npos ? std::string::npos
                                                                          : authority_end - start);
  if (auto at = authority.rfind('@'); at != std::string::npos) {
    shown.replace(start, at, "[redacted]");
  }
  return shown;
}

bool has_unsafe_bytes(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte <= 0x20 || byte == 0x7f;
  });
}

Result<Url> from_handle(CURLU* handle, std::string_view text) {
  auto fail = [&](const std::string& why) {
    return make_error(ErrorKind::protocol, "invalid URL \"" + shown_url(text) + "\": " + why);
  };
  Url url;
  url.scheme = to_lower(part(handle, CURLUPART_SCHEME));
  if (url.scheme != "http" && url.scheme != "https") {
    return fail("only http and https are allowed");
  }
  if (!part(handle, CURLUPART_USER).empty() || !part(handle, CURLUPART_PASSWORD).empty()) {
    return fail("user information is not allowed");
  }
  url.host = to_lower(part(handle, CURLUPART_HOST));
  if (url.host.size() > 2 && url.host.front() == '[' && url.host.back() == ']') {
    url.host = url.host.substr(1, url.host.size() - 2);
  }
  if (url.host.empty()) {
    return fail("no host");
  }
  std::string port = part(handle, CURLUPART_PORT, CURLU_DEFAULT_PORT);
  url.port = port.empty() ? 0 : std::stoi(port);
  url.path = part(handle, CURLUPART_PATH);
  url.query = part(handle, CURLUPART_QUERY);
  if (url.path.empty()) {
    url.path = "/";
  }
  return url;
}

} // namespace

std::string Url::host_port() const {
  std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  return default_port ? shown : shown + ":" + std::to_string(port);
}

std::string Url::origin() const {
  std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return scheme + "://" + shown + ":" + std::to_string(port);
}

Result<Url> parse_url(std::string_view text) {
  if (has_unsafe_bytes(text)) {
    return make_error(ErrorKind::protocol, "invalid URL: contains spaces or control characters");
  }
  UrlHandle handle(libcurl().url(), libcurl().url_cleanup);
  std::string copy(text);
  if (libcurl().url_set(handle.get(), CURLUPART_URL, copy.c_str(), 0) != CURLUE_OK) {
    return make_error(ErrorKind::protocol, "invalid URL \"" + shown_url(text) + "\"");
  }
  return from_handle(handle.get(), text);
}

Result<std::string> resolve_url(std::string_view base, std::string_view reference) {
  if (has_unsafe_bytes(reference)) {
    return make_error(ErrorKind::protocol,
                      "refusing a URL with spaces or control characters from the server");
  }
  UrlHandle handle(libcurl().url(), libcurl().url_cleanup);
  std::string base_copy(base);
  std::string reference_copy(reference);
  if (libcurl().url_set(handle.get(), CURLUPART_URL, base_copy.c_str(), 0) != CURLUE_OK ||
      libcurl().url_set(handle.get(), CURLUPART_URL, reference_copy.c_str(), 0) != CURLUE_OK) {
    return make_error(ErrorKind::protocol, "invalid URL \"" + shown_url(reference) + "\"");
  }
  auto checked = from_handle(handle.get(), reference);
  if (!checked) {
    return checked.error();
  }
  return part(handle.get(), CURLUPART_URL);
}

std::string url_encode(std::string_view text) {
  char* encoded = libcurl().easy_escape(nullptr, text.data(), static_cast<int>(text.size()));
  std::string out = encoded ? encoded : "";
  libcurl().free(encoded);
  return out;
}

std::string append_query(std::string url,
                         const std::vector<std::pair<std::string, std::string>>& params) {
  auto fragment = url.find('#');
  if (fragment != std::string::npos) {
    url.resize(fragment);
  }
  char separator = url.find('?') == std::string::npos ? '?' : '&';
  if (!url.empty() && (url.back() == '?' || url.back() == '&')) {
    separator = '\0';
  }
  for (const auto& [name, value] : params) {
    if (separator != '\0') {
      url += separator;
    }
    url += url_encode(name) + "=" + url_encode(value);
    separator = '&';
  }
  return url;
}

bool is_ip_literal(std::string_view host) {
  std::string copy(host);
  if (copy.size() > 2 && copy.front() == '[' && copy.back() == ']') {
    copy = copy.substr(1, copy.size() - 2);
  }
  unsigned char buffer[16];
  return inet_pton(AF_INET, copy.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, copy.c_str(), buffer) == 1;
}

bool is_loopback_host(std::string_view host) {
  std::string copy = to_lower(std::string(host));
  if (copy.size() > 2 && copy.front() == '[' && copy.back() == ']') {
    copy = copy.substr(1, copy.size() - 2);
  }
  if (copy == "localhost") {
    return true;
  }
  unsigned char v4[4];
  if (inet_pton(AF_INET, copy.c_str(), v4) == 1) {
    return v4[0] == 127;
  }
  unsigned char v6[16];
  if (inet_pton(AF_INET6, copy.c_str(), v6) == 1) {
    static constexpr unsigned char k_loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                                     0, 0, 0, 0, 0, 0, 0, 1};
    return std::equal(std::begin(v6), std::end(v6), std::begin(k_loopback));
  }
  return false;
}

Result<void> check_answered_by(const Response& response, const Proof& proof,
                               const std::string& what) {
  auto answered = parse_url(response.url);
  std::string from = answered ? answered->origin() : std::string("an unknown origin");
  std::string head = what + " went to " + proof.origin + ", but the " +
                     std::to_string(response.status) + " answer came from ";
  if (!answered || answered->origin() != proof.origin) {
    return make_error(ErrorKind::protocol,
                      head + from + " after a redirect, and that origin never received " +
                          (proof.with_authorization ? "the credentials" : "the request"));
  }
  if (!proof.method.empty() && response.method != proof.method) {
    return make_error(ErrorKind::protocol, head + from + " to a " + response.method +
                                               " after a redirect, without the " + proof.method +
                                               " request's body");
  }
  if (proof.with_authorization && !response.authorization_sent) {
    return make_error(ErrorKind::protocol, head + from +
                                               " after a redirect through another origin, "
                                               "without the credentials");
  }
  return {};
}

} // namespace regauth::http
