// The one libcurl-backed HttpClient. It enforces the policy of transport.hpp: TLS verified
// against system CAs plus Docker's certs.d layout (trust_store.hpp), plain HTTP and unverified
// TLS only for loopback and --insecure-registry hosts, redirects as redirect_policy.hpp decides.
#pragma once

#include "regauth/http/http_client.hpp"
#include "regauth/http/transport.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace regauth::http {

// Creates the libcurl client. One instance holds one connection cache: reuse it within a
// command, and use one per parallel job.
std::unique_ptr<HttpClient> make_curl_client(const TransportOptions& options);

// Loads and initialises libcurl now rather than on first use (thread-safe, idempotent).
void initialise_http();

// libcurl's version ("7.88.1"), from curl_version_info; loads libcurl.
std::string libcurl_version();

} // namespace regauth::http
