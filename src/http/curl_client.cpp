// The only file that drives libcurl transfers.
#include "regauth/http/curl_client.hpp"

#include "regauth/http/header_lines.hpp"
#include "regauth/util/libcrypto.hpp"

#include "libcurl.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <system_error>

namespace regauth::http {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view k_redacted = "[redacted]";

struct CurlSlist {
  curl_slist* list = nullptr;
  CurlSlist() = default;
  CurlSlist(const CurlSlist&) = delete;
  CurlSlist& operator=(const CurlSlist&) = delete;
  ~CurlSlist() { libcurl().slist_free_all(list); }
  void append(const std::string& line) { list = libcurl().slist_append(list, line.c_str()); }
};

// TLS material from Docker's certs.d layout for one host.
struct HostTls {
  std::vector<fs::path> ca_files;
  fs::path client_cert;
  fs::path client_key;
};

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

  // The store for these extra CA files (none: the system store). Owned by the cache.
  X509_STORE* get(const std::vector<fs::path>& extra_ca_files) {
    std::vector<std::string> key;
    for (const auto& file : extra_ca_files) {
      key.push_back(file.string());
    }
    std::lock_guard lock(m_mutex);
    auto& store = m_stores[key];
    if (!store) {
      store = libcrypto().store_new();
      add_system_certificates(store);
      for (const auto& file : extra_ca_files) {
        add_pem_certificates(store, file);
      }
    }
    return store;
  }

private:
  // The system CAs where OpenSSL's defaults put them (SSL_CERT_FILE and SSL_CERT_DIR honoured),
  // preferably as the hashed directory, whose certificates OpenSSL reads one by one as a
  // verification needs them: parsing Debian's whole bundle file takes OpenSSL 3.0 about 40 ms,
  // at every start of every command that speaks https. The bundle is skipped only when it is
  // the system's own and the system's hashed directory holds at least as many certificates
  // (update-ca-certificates writes both from the same certificates); a bundle with a CA
  // appended by hand, mounted over, or on a system without hash links is read as before.
  static void add_system_certificates(X509_STORE* store) {
    const LibCrypto& crypto = libcrypto();
    const char* file_env = std::getenv(crypto.default_cert_file_env());
    const char* dirs_env = std::getenv(crypto.default_cert_dir_env());
    fs::path default_dir = crypto.default_cert_dir();
    std::string dirs = dirs_env != nullptr ? dirs_env : default_dir.string();
    fs::path file = file_env != nullptr ? file_env : crypto.default_cert_file();
    bool skip_file = same_file(dirs, default_dir) && same_file(file, crypto.default_cert_file());
    std::size_t links = skip_file ? count_hash_links(default_dir) : 0;
    skip_file = skip_file && links > 0 && links >= count_pem_certificates(file);
    if (!skip_file) {
      crypto.store_load_file(store, file.c_str());
    }
    if (dirs_env != nullptr || links > 0) {
      crypto.store_load_path(store, dirs.c_str()); // a list, as OpenSSL reads it
    }
    crypto.clear_errors(); // a missing file or directory is no error of the next connection
  }

  static bool same_file(const fs::path& a, const fs::path& b) {
    std::error_code error;
    return fs::equivalent(a, b, error);
  }

  // Entries named `<8 hex digits>.<digits>` in `dir`, as c_rehash and update-ca-certificates
  // make them.
  static std::size_t count_hash_links(const fs::path& dir) {
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

  // "-----BEGIN CERTIFICATE-----" and "-----BEGIN TRUSTED CERTIFICATE-----" in `file`.
  static std::size_t count_pem_certificates(const fs::path& file) {
    std::string text;
    if (std::unique_ptr<FILE, decltype(&std::fclose)> in(std::fopen(file.c_str(), "rb"),
                                                         &std::fclose);
        in) {
      std::array<char, 1 << 16> buffer{};
      while (std::size_t got = std::fread(buffer.data(), 1, buffer.size(), in.get())) {
        text.append(buffer.data(), got);
      }
    }
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

  static void add_pem_certificates(X509_STORE* store, const fs::path& file) {
    std::unique_ptr<FILE, decltype(&std::fclose)> in(std::fopen(file.c_str(), "r"), &std::fclose);
    if (!in) {
      return;
    }
    const LibCrypto& crypto = libcrypto();
    while (X509* cert = crypto.pem_read_x509(in.get(), nullptr, nullptr, nullptr)) {
      crypto.store_add_cert(store, cert);
      crypto.x509_free(cert);
    }
  }

  std::mutex m_mutex;
  std::map<std::vector<std::string>, X509_STORE*> m_stores;
};

TrustStores& trust_stores() {
  static TrustStores stores;
  return stores;
}

// Set when the server of the handshake running on this thread asked for a client certificate
// and the connection had none: a failure is then explained as that, not as curl's "connection
// reset" or "getpeername() failed" that follows the server's refusal (TLS 1.3).
thread_local bool t_client_certificate_requested = false;

int note_client_certificate_request(SSL* /*ssl*/, X509** /*cert*/, EVP_PKEY** /*key*/) {
  t_client_certificate_requested = true;
  return 0; // none to offer
}

// Prepares one connection's SSL_CTX: the shared trust store (`user`; none when the peer is not
// verified) and the note above.
CURLcode prepare_ssl_ctx(CURL* /*curl*/, void* ssl_ctx, void* user) {
  auto* context = static_cast<SSL_CTX*>(ssl_ctx);
  if (user != nullptr) {
    libssl().ctx_set1_cert_store(context, static_cast<X509_STORE*>(user));
  }
  libssl().ctx_set_client_cert_cb(context, note_client_certificate_request);
  return CURLE_OK;
}

struct Transfer {
  bool interruptible = true;
  Response response;
  std::size_t max_body = 0;
  bool body_too_large = false;
  const BodySource* source = nullptr;
  std::optional<Error> source_error;
  const std::function<void(std::string_view)>* debug = nullptr;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  if (transfer->response.body.size() + bytes > transfer->max_body) {
    transfer->body_too_large = true;
    return 0;
  }
  transfer->response.body.append(data, bytes);
  return bytes;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  add_header_line(transfer->response.headers, std::string_view(data, bytes));
  return bytes;
}

size_t on_read(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  auto produced = (*transfer->source)(buffer, size * count);
  if (!produced) {
    transfer->source_error = produced.error();
    return CURL_READFUNC_ABORT;
  }
  return *produced;
}

// Ends the transfer once regauth is interrupted (SIGINT, SIGTERM); libcurl calls it about
// once a second at the least, and often while bytes flow.
int on_progress(void* user, curl_off_t /*dltotal*/, curl_off_t /*dlnow*/, curl_off_t /*ultotal*/,
                curl_off_t /*ulnow*/) {
  auto* transfer = static_cast<Transfer*>(user);
  return transfer->interruptible && interrupted_by() != 0 ? 1 : 0;
}

int on_debug(CURL* /*curl*/, curl_infotype type, char* data, size_t size, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  if (!transfer->debug || !*transfer->debug) {
    return 0;
  }
  const char* prefix = nullptr;
  if (type == CURLINFO_HEADER_OUT) {
    prefix = "> ";
  } else if (type == CURLINFO_HEADER_IN) {
    prefix = "< ";
  } else if (type == CURLINFO_TEXT) {
    prefix = "* ";
  } else {
    return 0;
  }
  std::string_view text(data, size);
  while (!text.empty()) {
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (!line.empty()) {
      (*transfer->debug)(std::string(prefix) + redact_header_line(line));
    }
    if (end == std::string_view::npos) {
      break;
    }
    text.remove_prefix(end + 1);
  }
  return 0;
}

bool is_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

Error network_error(const std::string& url, CURLcode code, const char* detail) {
  std::string message = url + ": ";
  message += (detail && *detail) ? detail : libcurl().easy_strerror(code);
  return make_error(ErrorKind::network, message);
}

// How a connection ends when the server refuses the handshake's (missing) client certificate:
// with TLS 1.3 the client learns it only at its first read or write.
bool ends_like_a_refused_handshake(CURLcode code) {
  return code == CURLE_SSL_CONNECT_ERROR || code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR ||
         code == CURLE_GOT_NOTHING || code == CURLE_COULDNT_CONNECT || code == CURLE_FAILED_INIT;
}

std::string strip_query(const std::string& url) {
  auto query = url.find('?');
  return query == std::string::npos ? url : url.substr(0, query);
}

class CurlClient final : public HttpClient {
public:
  explicit CurlClient(TransportOptions options) : m_options(std::move(options)) {
    m_curl = libcurl().easy_init();
    for (const auto& entry : m_options.resolve) {
      m_resolve.append(entry);
    }
  }
  CurlClient(const CurlClient&) = delete;
  CurlClient& operator=(const CurlClient&) = delete;
  ~CurlClient() override { libcurl().easy_cleanup(m_curl); }

  Result<Response> send(const Request& original) override {
    if (!m_curl) {
      return make_error(ErrorKind::internal, "libcurl could not be initialised");
    }
    Request request = original;
    auto origin = parse_url(request.url);
    if (!origin) {
      return origin.error();
    }
    std::string credential_origin = request.credential_origin.value_or(origin->origin());
    for (int hop = 0;; ++hop) {
      auto url = parse_url(request.url);
      if (!url) {
        return url.error();
      }
      if (url->scheme == "http" && !allows_insecure(m_options, *url)) {
        return make_error(ErrorKind::network,
                          "refusing plain HTTP to " + url->host_port() +
                              ": only loopback hosts and --insecure-registry hosts may use http");
      }
      if (url->origin() != credential_origin) {
        strip_authorization(request.headers);
        request.aws_signing.reset(); // nor an AWS signature to another host
      }
      auto response = perform(request, *url);
      if (!response) {
        return response.error();
      }
      if (!request.follow_redirects || !is_redirect(response->status)) {
        return response;
      }
      auto location = response->header("Location");
      if (!location) {
        return response;
      }
      if (hop + 1 > m_options.max_redirects) {
        return make_error(ErrorKind::protocol, strip_query(original.url) + ": more than " +
                                                   std::to_string(m_options.max_redirects) +
                                                   " redirects");
      }
      auto next = resolve_url(request.url, *location);
      if (!next) {
        return next.error().with_context("redirect from " + strip_query(request.url));
      }
      auto next_url = parse_url(*next);
      if (!next_url) {
        return next_url.error();
      }
      if (url->scheme == "https" && next_url->scheme == "http") {
        return make_error(ErrorKind::protocol,
                          "refusing a redirect from https to http (" + strip_query(*next) + ")");
      }
      bool keeps_method = response->status == 307 || response->status == 308;
      bool has_body = !request.body.empty() || request.body_source;
      if (has_body && keeps_method) {
        if (next_url->origin() != url->origin() || request.body_source) {
          return make_error(ErrorKind::protocol, "refusing to send a request body on to " +
                                                     strip_query(*next) + " after a redirect");
        }
      } else if (has_body || response->status == 303) {
        request.method = request.method == "HEAD" ? "HEAD" : "GET";
        request.body.clear();
        request.body_source = nullptr;
        request.body_size = 0;
      }
      request.url = *next;
    }
  }

private:
  static void strip_authorization(std::vector<Header>& headers) {
    headers.erase(std::remove_if(headers.begin(), headers.end(),
                                 [](const Header& header) {
                                   return equals_ignore_case(header.name, "Authorization") ||
                                          equals_ignore_case(header.name, "X-Amz-Security-Token");
                                 }),
                  headers.end());
  }

  Result<Response> perform(const Request& request, const Url& url) {
    CURL* curl = m_curl;
    const LibCurl& api = libcurl();
    api.easy_reset(curl);
    Transfer transfer;
    transfer.interruptible = !request.during_interrupt;
    if (transfer.interruptible && interrupted_by() != 0) {
      return interrupted_error(request.method + " " + strip_query(request.url));
    }
    transfer.max_body = request.max_response_body;
    transfer.debug = &m_options.debug;
    char error_buffer[CURL_ERROR_SIZE] = {0};
    CurlSlist headers;
    // A signed request goes without "Expect:": libcurl 7.88 lists that disabling header among
    // the signed ones without sending it, so AWS would compute another signature. Signed
    // bodies are small and draw no 100-continue anyway.
    if (!request.aws_signing) {
      headers.append("Expect:");
    }

    for (const auto& header : request.headers) {
      headers.append(header.name + ": " + header.value);
    }
    if (std::find(m_options.header_hosts.begin(), m_options.header_hosts.end(), url.host_port()) !=
        m_options.header_hosts.end()) {
      for (const auto& header : m_options.headers) {
        headers.append(header.name + ": " + header.value);
      }
    }
    api.easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    api.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (is_loopback_host(url.host)) {
      // Never through a proxy from the environment (http_proxy, HTTPS_PROXY, ALL_PROXY): the
      // proxy's loopback is not ours. Go's clients, the Docker CLI's among them, do the same.
      api.easy_setopt(curl, CURLOPT_PROXY, "");
    }
    // HTTP/1.1 even where TLS offers h2: every job has a connection of its own anyway, and over
    // h2 libcurl uploads a large blob 10 to 25% slower (flow control), as measured against
    // distribution over TLS on loopback. Go clients (the Docker CLI, skopeo) speak 1.1 to
    // registries too.
    api.easy_setopt(curl, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    api.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    api.easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    api.easy_setopt(curl, CURLOPT_USERAGENT, m_options.user_agent.c_str());
    api.easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);
    api.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    api.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                    static_cast<long>(m_options.connect_timeout.count()));
    api.easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    api.easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                    std::max(1L, static_cast<long>(m_options.stall_timeout.count() / 1000)));
    if (!request.body_source) {
      auto limit = request.timeout ? std::min(*request.timeout, m_options.request_timeout)
                                   : m_options.request_timeout;
      api.easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(limit.count()));
    }
    api.easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    api.easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    api.easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
    api.easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    api.easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
    api.easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    api.easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
    api.easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    if (m_resolve.list) {
      api.easy_setopt(curl, CURLOPT_RESOLVE, m_resolve.list);
    }
    if (m_options.debug) {
      api.easy_setopt(curl, CURLOPT_VERBOSE, 1L);
      api.easy_setopt(curl, CURLOPT_DEBUGFUNCTION, on_debug);
      api.easy_setopt(curl, CURLOPT_DEBUGDATA, &transfer);
    }
    HostTls tls;
    if (url.scheme == "https") {
      tls = find_host_tls(m_options.certs_dirs, url);
      // As the Docker CLI: loopback and --insecure-registry hosts skip verification, except a
      // loopback host whose certs.d names a CA, which is verified against it.
      if (allows_insecure(m_options, url) &&
          (!is_loopback_host(url.host) || tls.ca_files.empty())) {
        api.easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        api.easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
        api.easy_setopt(curl, CURLOPT_SSL_CTX_DATA, nullptr);
      } else {
        // libcurl loads no CA file itself; the connection gets the shared store for this
        // host (one host's certs.d CA never vouches for another host).
        api.easy_setopt(curl, CURLOPT_CAINFO, nullptr);
        api.easy_setopt(curl, CURLOPT_CAPATH, nullptr);
        api.easy_setopt(curl, CURLOPT_SSL_CTX_DATA, trust_stores().get(tls.ca_files));
      }
      api.easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, prepare_ssl_ctx);
      if (!tls.client_cert.empty()) {
        api.easy_setopt(curl, CURLOPT_SSLCERT, tls.client_cert.c_str());
        api.easy_setopt(curl, CURLOPT_SSLKEY, tls.client_key.c_str());
      }
    }
    if (request.aws_signing) {
      // libcurl computes the SigV4 Authorization header over the method, path, query, the
      // headers it sends (X-Amz-Security-Token among them) and the body's SHA-256.
      api.easy_setopt(curl, CURLOPT_AWS_SIGV4, request.aws_signing->provider.c_str());
      api.easy_setopt(curl, CURLOPT_USERNAME, request.aws_signing->access_key_id.c_str());
      api.easy_setopt(curl, CURLOPT_PASSWORD, request.aws_signing->secret_access_key.c_str());
    }
    if (request.method == "HEAD") {
      api.easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (request.method == "GET") {
      api.easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else {
      api.easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      if (request.body_source) {
        transfer.source = &request.body_source;
        api.easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        api.easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
        api.easy_setopt(curl, CURLOPT_READDATA, &transfer);
        api.easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body_size));
      } else {
        api.easy_setopt(curl, CURLOPT_POST, 1L);
        api.easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
        api.easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                        static_cast<curl_off_t>(request.body.size()));
      }
    }
    t_client_certificate_requested = false;
    CURLcode code = api.easy_perform(curl);
    if (transfer.source_error) {
      return *transfer.source_error;
    }
    if (code == CURLE_ABORTED_BY_CALLBACK) {
      return interrupted_error(request.method + " " + strip_query(request.url));
    }
    if (transfer.body_too_large) {
      return make_error(ErrorKind::protocol,
                        strip_query(request.url) + ": response body larger than " +
                            std::to_string(request.max_response_body) + " bytes");
    }
    if (code != CURLE_OK) {
      // Only for a connection that ended before any HTTP answer: a server may ask for a
      // certificate it does not need (optional client authentication), and a later timeout or
      // reset must not be blamed on it.
      long answered = 0;
      api.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answered);
      if (t_client_certificate_requested && tls.client_cert.empty() && answered == 0 &&
          ends_like_a_refused_handshake(code)) {
        std::string dir = m_options.certs_dirs.empty() ? "/etc/docker/certs.d"
                                                       : m_options.certs_dirs.back().string();
        return make_error(ErrorKind::network,
                          strip_query(request.url) +
                              ": the registry asks for a TLS client certificate and none is "
                              "configured for " +
                              url.host_port() + " (put NAME.cert and NAME.key, PEM, in " + dir +
                              "/" + url.host_port() + "/)");
      }
      Error error = network_error(strip_query(request.url), code, error_buffer);
      if (code == CURLE_PEER_FAILED_VERIFICATION) {
        error.hint = "if " + url.host_port() +
                     " uses a private CA, put its certificate in /etc/docker/certs.d/" +
                     url.host_port() + "/ca.crt, or in DIR/" + url.host_port() +
                     "/ca.crt and pass --certs-dir DIR";
      }
      return error;
    }
    long status = 0;
    api.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    transfer.response.status = status;
    transfer.response.url = request.url;
    transfer.response.method = request.method;
    transfer.response.authorization_sent =
        std::any_of(request.headers.begin(), request.headers.end(), [](const Header& header) {
          return equals_ignore_case(header.name, "Authorization");
        });
    return std::move(transfer.response);
  }

  TransportOptions m_options;
  CURL* m_curl = nullptr;
  CurlSlist m_resolve;
};

} // namespace

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

std::string redact_header_line(std::string_view line) {
  auto colon = line.find(':');
  if (colon == std::string_view::npos) {
    return std::string(line);
  }
  std::string_view name = line.substr(0, colon);
  for (std::string_view secret : {"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
                                  "X-Amz-Security-Token", "X-aws-ec2-metadata-token"}) {
    if (equals_ignore_case(name, secret)) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') {
        value.remove_prefix(1);
      }
      auto space = value.find(' ');
      // Only the authorization headers show their scheme ("Basic", "AWS4-HMAC-SHA256").
      bool has_scheme = equals_ignore_case(name, "Authorization") ||
                        equals_ignore_case(name, "Proxy-Authorization");
      std::string scheme = space == std::string_view::npos || !has_scheme
                               ? std::string()
                               : std::string(value.substr(0, space)) + " ";
      return std::string(name) + ": " + scheme + std::string(k_redacted);
    }
  }
  return std::string(line);
}

std::unique_ptr<HttpClient> make_curl_client(const TransportOptions& options) {
  return std::make_unique<CurlClient>(options);
}

void initialise_http() { (void)libcurl(); }

} // namespace regauth::http
