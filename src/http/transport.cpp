#include "regauth/http/transport.hpp"

#include <algorithm>
#include <system_error>

namespace regauth::http {
namespace fs = std::filesystem;

bool allows_insecure(const TransportOptions& options, const Url& url) {
  if (is_loopback_host(url.host)) {
    return true;
  }
  std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  std::string with_port = host + ":" + std::to_string(url.port);
  return std::any_of(options.insecure_registries.begin(), options.insecure_registries.end(),
                     [&](const std::string& entry) {
                       return equals_ignore_case(entry, host) ||
                              equals_ignore_case(entry, with_port) ||
                              equals_ignore_case(entry, url.host_port());
                     });
}

bool prefers_plain_http(const TransportOptions& options, const Url& url) {
  if (!is_loopback_host(url.host)) {
    return false;
  }
  return std::none_of(options.certs_dirs.begin(), options.certs_dirs.end(), [&](const auto& root) {
    std::error_code error;
    return fs::is_directory(root / url.host_port(), error);
  });
}

} // namespace regauth::http
