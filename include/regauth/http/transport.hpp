// What a transport must do, whichever implements it: timeouts, --insecure-registry hosts,
// certs.d directories, --resolve entries, config.json's HttpHeaders, and the rules for plain
// HTTP. The CLI and the push code configure HTTP through these types alone.
#pragma once

#include "regauth/http/http_client.hpp"
#include "regauth/http/url.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace regauth::http {

// The longest one request may take when --timeout does not say (docs/usage.md, --timeout).
inline constexpr std::chrono::milliseconds k_default_request_timeout{60000};

struct TransportOptions {
  std::vector<std::string> insecure_registries;  // host or host:port
  std::vector<std::string> resolve;              // HOST:PORT:ADDRESS, as curl's --resolve
  std::vector<std::filesystem::path> certs_dirs; // each holds HOST[:PORT]/{*.crt,*.cert,*.key}
  std::chrono::milliseconds connect_timeout{15000};
  std::chrono::milliseconds stall_timeout{30000}; // no byte moved for this long
  std::chrono::milliseconds request_timeout = k_default_request_timeout; // except streamed bodies
  int max_redirects = 5;
  std::string user_agent = "regauth";
  std::function<void(std::string_view)> debug; // receives redacted request/response lines
  // Sent with every request to a host in header_hosts (host[:port] as Url::host_port gives
  // it), on any path and either scheme; never to another host (a token realm elsewhere, a
  // redirect target). config.json's HttpHeaders, as the Docker CLI sends them.
  std::vector<Header> headers;
  std::vector<std::string> header_hosts;
};

// True when `url` may use plain HTTP or unverified TLS: a loopback host, or one listed in
// insecure_registries (by host:port or by host alone).
bool allows_insecure(const TransportOptions& options, const Url& url);

// True when a registry at `url` is best probed over plain HTTP first: a loopback host with no
// certs.d directory. A loopback port speaks one protocol, the probe carries no credential, and
// trying https first costs a TLS set-up (and on a plain port a failed handshake) for nothing.
// The outcome is the one the Docker CLI reaches by trying https first and falling back.
bool prefers_plain_http(const TransportOptions& options, const Url& url);

} // namespace regauth::http
