#include "trust_store.hpp"

#include "regauth/safe_file.hpp"

#include "libcrypto.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <system_error>

namespace regauth::http {
namespace fs = std::filesystem;
namespace {

// More than any CA bundle or certificate holds (Debian's whole bundle is about 200 KiB).
constexpr std::uint64_t k_max_tls_file = 16ULL << 20;

// Adds every PEM certificate in `pem` to `store`. OpenSSL reads them from a FILE over the bytes
// (fmemopen), so that it never opens the path itself.
void add_pem_certificates(X509_STORE* store, std::string& pem) {
  if (pem.empty()) {
    return;
  }
  std::unique_ptr<FILE, decltype(&std::fclose)> in(fmemopen(pem.data(), pem.size(), "r"),
                                                   &std::fclose);
  if (!in) {
    return;
  }
  const LibCrypto& crypto = libcrypto();
  while (X509* cert = crypto.pem_read_x509(in.get(), nullptr, nullptr, nullptr)) {
    crypto.store_add_cert(store, cert);
    crypto.x509_free(cert);
  }
  crypto.clear_errors(); // the end of the bytes reads as an error
}

// The bytes of a CA file; "" when it does not exist and `missing_ok`.
Result<std::string> read_ca_file(const fs::path& path, bool missing_ok) {
  auto bytes = read_regular_file(path, ErrorKind::config, k_max_tls_file);
  if (!bytes && missing_ok && bytes.error().kind == ErrorKind::not_found) {
    return std::string();
  }
  if (!bytes) {
    Error error = bytes.error();
    error.kind = ErrorKind::config;
    return error.with_context("reading CA certificates");
  }
  return bytes;
}

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code error;
  return fs::equivalent(a, b, error);
}

// Entries named `<8 hex digits>.<digits>` in `dir`, as c_rehash and update-ca-certificates
// make them.
std::size_t count_hash_links(const fs::path& dir) {
  std::size_t count = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    std::string name = entry.path().filename().string();
    count +=
        name.size() >= 10 && name[8] == '.' &&
        std::all_of(name.begin(), name.begin() + 8,
                    [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }) &&
        std::all_of(name.begin() + 9, name.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
  }
  return count;
}

// "-----BEGIN CERTIFICATE-----" and "-----BEGIN TRUSTED CERTIFICATE-----" in `text`.
std::size_t count_pem_certificates(const std::string& text) {
  std::size_t count = 0;
  for (std::string_view marker :
       {"-----BEGIN CERTIFICATE-----", "-----BEGIN TRUSTED CERTIFICATE-----"}) {
    for (auto at = text.find(marker); at != std::string::npos;
         at = text.find(marker, at + marker.size())) {
      ++count;
    }
  }
  return count;
}

// The system CAs where OpenSSL's defaults put them (SSL_CERT_FILE and SSL_CERT_DIR honoured),
// preferably as the hashed directory, whose certificates OpenSSL reads one by one as a
// verification needs them: parsing Debian's whole bundle file costs OpenSSL 3.0 tens of
// milliseconds at every start of every command that speaks https (docs/benchmarks.md). The
// bundle is skipped only when it is the system's own and the system's hashed directory holds at
// least as many certificates (update-ca-certificates writes both from the same certificates); a
// bundle with a CA appended by hand, mounted over, or on a system without hash links is read.
Result<void> add_system_certificates(X509_STORE* store) {
  const LibCrypto& crypto = libcrypto();
  const char* file_env = std::getenv(crypto.default_cert_file_env());
  const char* dirs_env = std::getenv(crypto.default_cert_dir_env());
  fs::path default_dir = crypto.default_cert_dir();
  std::string dirs = dirs_env != nullptr ? dirs_env : default_dir.string();
  fs::path file = file_env != nullptr ? file_env : crypto.default_cert_file();
  auto bundle = read_ca_file(file, true);
  if (!bundle) {
    return bundle.error();
  }
  bool skip_file = same_file(dirs, default_dir) && same_file(file, crypto.default_cert_file());
  std::size_t links = skip_file ? count_hash_links(default_dir) : 0;
  skip_file = skip_file && links > 0 && links >= count_pem_certificates(*bundle);
  if (!skip_file) {
    add_pem_certificates(store, *bundle);
  }
  if (dirs_env != nullptr || links > 0) {
    crypto.store_load_path(store, dirs.c_str()); // a list, as OpenSSL reads it
  }
  crypto.clear_errors(); // a missing directory is no error of the next connection
  return {};
}

// Trust stores, built once per process and shared by every connection: the system CAs, plus a
// host's certs.d CAs for that host only. Parsing the system bundle costs tens of milliseconds;
// libcurl would otherwise do it for every new connection of every handle.
class TrustStores {
public:
  TrustStores() = default;
  TrustStores(const TrustStores&) = delete;
  TrustStores& operator=(const TrustStores&) = delete;
  ~TrustStores() {
    for (auto& [key, store] : m_stores) {
      libcrypto().store_free(store);
    }
  }

  Result<X509_STORE*> get(const std::vector<fs::path>& extra_ca_files) {
    std::vector<std::string> key;
    for (const auto& file : extra_ca_files) {
      key.push_back(file.string());
    }
    std::lock_guard lock(m_mutex);
    if (auto found = m_stores.find(key); found != m_stores.end()) {
      return found->second;
    }
    // Every file is read before the store is built: a failure leaves nothing half-made.
    std::vector<std::string> extra;
    for (const auto& file : extra_ca_files) {
      auto bytes = read_ca_file(file, false);
      if (!bytes) {
        return bytes.error();
      }
      extra.push_back(std::move(*bytes));
    }
    X509_STORE* store = libcrypto().store_new();
    if (auto added = add_system_certificates(store); !added) {
      libcrypto().store_free(store);
      return added.error();
    }
    for (auto& pem : extra) {
      add_pem_certificates(store, pem);
    }
    m_stores.emplace(std::move(key), store);
    return store;
  }

private:
  std::mutex m_mutex;
  std::map<std::vector<std::string>, X509_STORE*> m_stores;
};

} // namespace

HostTls find_host_tls(const std::vector<fs::path>& certs_dirs, const Url& url) {
  HostTls tls;
  for (const auto& root : certs_dirs) {
    std::error_code error;
    fs::path dir = root / url.host_port();
    if (!fs::is_directory(dir, error)) {
      continue;
    }
    std::vector<fs::path> entries;
    for (const auto& entry : fs::directory_iterator(dir, error)) {
      entries.push_back(entry.path());
    }
    std::sort(entries.begin(), entries.end());
    for (const auto& path : entries) {
      if (path.extension() == ".crt") {
        tls.ca_files.push_back(path);
      } else if (path.extension() == ".cert" && tls.client_cert.empty()) {
        fs::path key = path;
        key.replace_extension(".key");
        if (fs::exists(key, error)) {
          tls.client_cert = path;
          tls.client_key = key;
        }
      }
    }
  }
  return tls;
}

Result<X509_STORE*> trust_store_for(const std::vector<fs::path>& extra_ca_files) {
  static TrustStores stores;
  return stores.get(extra_ca_files);
}

Result<std::string> read_tls_file(const fs::path& path) {
  auto bytes = read_regular_file(path, ErrorKind::config, k_max_tls_file);
  if (!bytes) {
    Error error = bytes.error();
    error.kind = ErrorKind::config;
    return error.with_context("reading a TLS client certificate or key");
  }
  return bytes;
}

} // namespace regauth::http
