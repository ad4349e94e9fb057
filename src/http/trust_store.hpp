// The TLS material regauth trusts and presents: the system CAs, Docker's certs.d layout
// (HOST[:PORT]/{*.crt,*.cert,*.key}), and one process-wide cache of trust stores. Every file is
// read through safe_file (regular files only, never waited on) and handed over as bytes, so
// neither OpenSSL nor libcurl opens a path a user named. Private to src/http/.
#pragma once

#include "regauth/http/url.hpp"
#include "regauth/result.hpp"

#include <openssl/x509.h>

#include <filesystem>
#include <string>
#include <vector>

namespace regauth::http {

// TLS material from Docker's certs.d layout for one host.
struct HostTls {
  std::vector<std::filesystem::path> ca_files; // *.crt, sorted, from every certs.d root
  std::filesystem::path client_cert;           // the first *.cert that has its *.key
  std::filesystem::path client_key;
};

// Scans `certs_dirs` for `url`'s host[:port] folder. Missing folders are no error.
HostTls find_host_tls(const std::vector<std::filesystem::path>& certs_dirs, const Url& url);

// The trust store for the system CAs plus `extra_ca_files` (a host's certs.d CAs), built once
// per process and shared by every connection; owned by the cache. Fails (config) when a CA
// file, or the bundle SSL_CERT_FILE names, exists but is not a regular file (a FIFO, a device, a
// folder) or cannot be read; a missing system bundle is no error.
Result<X509_STORE*> trust_store_for(const std::vector<std::filesystem::path>& extra_ca_files);

// The bytes of a certs.d client certificate or key, read as the CA files are. Fails (config).
Result<std::string> read_tls_file(const std::filesystem::path& path);

} // namespace regauth::http
