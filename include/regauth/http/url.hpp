// URL handling through libcurl's URL API: parsing, origins, resolving references (Location
// headers, relative realms) and query building. Pure: no I/O.
#pragma once

#include "regauth/http/http_client.hpp"
#include "regauth/result.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace regauth::http {

struct Url {
  std::string scheme; // lower case
  std::string host;   // lower case; IPv6 without brackets
  int port = 0;       // explicit or the scheme's default
  std::string path;   // with leading '/'
  std::string query;  // without '?'

  // "scheme://host:port" with the port always given.
  [[nodiscard]] std::string origin() const;
  // "host" or "host:port" when the port is not the scheme's default; IPv6 in brackets.
  [[nodiscard]] std::string host_port() const;
};

// Parses an absolute http(s) URL. Fails (protocol) on anything else, on control bytes, spaces
// or user information.
Result<Url> parse_url(std::string_view text);

// Resolves `reference` (absolute, or relative like "/v2/x/blobs/uploads/abc?_state=y") against
// `base`. The result is an absolute http(s) URL. Fails (protocol) on CR/LF or other schemes.
Result<std::string> resolve_url(std::string_view base, std::string_view reference);

// Percent-encodes a query component.
std::string url_encode(std::string_view text);

// Appends `name=value` pairs (encoded) to a URL, keeping its existing query.
std::string append_query(std::string url,
                         const std::vector<std::pair<std::string, std::string>>& params);

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(std::string_view host);

// True when host is an IPv4 or IPv6 literal.
bool is_ip_literal(std::string_view host);

// What a response must show to count as the answer of the server that received a request:
// every use of a response as proof goes through check_answered_by (docs/security.md, "What
// counts as proof").
struct Proof {
  std::string origin;              // the origin the request went to (Url::origin())
  std::string method;              // the method it was sent with ("" when it does not matter)
  bool with_authorization = false; // it carried Authorization, which must still be on it
};

// Succeeds when `response` came from `proof.origin` (after any redirects), on a request that
// kept `proof.method` (a redirect that turns a POST or PUT into a GET drops the body) and, with
// `with_authorization`, still carried Authorization. Fails (protocol) with "<what> went to
// <origin>, but the <status> answer came from <where>..." so that the caller can add what was
// not done ("nothing was stored").
Result<void> check_answered_by(const Response& response, const Proof& proof,
                               const std::string& what);

} // namespace regauth::http
