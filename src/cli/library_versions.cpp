// The versions of the libraries regauth loads on first use, for `regauth --version`.
#include "regauth/cli/version.hpp"
#include "regauth/http/curl_client.hpp"
#include "regauth/image/compression.hpp"
#include "regauth/image/docker_archive.hpp"
#include "regauth/util/libcrypto.hpp"

namespace regauth {

std::vector<std::pair<std::string, std::string>> library_versions() {
  const char* openssl = libcrypto().version(OPENSSL_VERSION_STRING); // "3.0.11"
  const char* psl = libpsl().get_version();                          // "0.21.2"
  std::vector<std::pair<std::string, std::string>> versions = {
      {"libcurl", http::libcurl_version()},
      {"OpenSSL", openssl != nullptr ? openssl : "unknown"},
      {"libarchive", image::libarchive_version()},
      {"libpsl", psl != nullptr ? psl : "unknown"},
  };
  for (auto& library : image::compression_library_versions()) {
    versions.push_back(std::move(library));
  }
  return versions;
}

} // namespace regauth
