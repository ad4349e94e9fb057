// The only file that drives libcurl transfers.
#include "regauth/http/curl_client.hpp"

#include "regauth/http/header_lines.hpp"
#include "regauth/http/redirect_policy.hpp"
#include "regauth/util/libcrypto.hpp"

#include "libcurl.hpp"
#include "trust_store.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace regauth::http {
namespace {

struct CurlSlist {
  curl_slist* list = nullptr;
  CurlSlist() = default;
  CurlSlist(const CurlSlist&) = delete;
  CurlSlist& operator=(const CurlSlist&) = delete;
  ~CurlSlist() { libcurl().slist_free_all(list); }
  void append(const std::string& line) { list = libcurl().slist_append(list, line.c_str()); }
};

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
      if (!may_carry_authorization(*url, credential_origin)) {
        strip_authorization(request.headers);
        request.aws_signing.reset(); // nor an AWS signature to another host
      }
      auto response = perform(request, *url);
      if (!response) {
        return response.error();
      }
      if (!request.follow_redirects || !is_redirect_status(response->status)) {
        return response;
      }
      auto location = response->header("Location");
      if (!location) {
        return response;
      }
      RedirectedRequest redirected;
      redirected.method = request.method;
      redirected.body = request.body_source    ? BodyKind::streamed
                        : request.body.empty() ? BodyKind::none
                                               : BodyKind::in_memory;
      redirected.authorization = response->authorization_sent;
      redirected.credential_origin = credential_origin;
      redirected.redirects_followed = hop;
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
      auto decision =
          decide_redirect(redirected, *url, *next_url, response->status, m_options.max_redirects);
      switch (decision.verdict) {
      case RedirectVerdict::follow:
        break;
      case RedirectVerdict::too_many: // checked above, before the Location is read
        return make_error(ErrorKind::protocol, strip_query(original.url) + ": more than " +
                                                   std::to_string(m_options.max_redirects) +
                                                   " redirects");
      case RedirectVerdict::https_to_http:
        return make_error(ErrorKind::protocol,
                          "refusing a redirect from https to http (" + strip_query(*next) + ")");
      case RedirectVerdict::body_elsewhere:
        return make_error(ErrorKind::protocol, "refusing to send a request body on to " +
                                                   strip_query(*next) + " after a redirect");
      }
      request.method = decision.method;
      if (decision.drop_body) {
        request.body.clear();
        request.body_source = nullptr;
        request.body_size = 0;
      }
      if (!decision.authorization) {
        strip_authorization(request.headers);
        request.aws_signing.reset();
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
    std::string client_cert;
    std::string client_key;
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
        auto store = trust_store_for(tls.ca_files);
        if (!store) {
          return store.error();
        }
        api.easy_setopt(curl, CURLOPT_CAINFO, nullptr);
        api.easy_setopt(curl, CURLOPT_CAPATH, nullptr);
        api.easy_setopt(curl, CURLOPT_SSL_CTX_DATA, *store);
      }
      api.easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, prepare_ssl_ctx);
      if (!tls.client_cert.empty()) {
        // As bytes, read as regular files: libcurl never opens a path a user named.
        auto cert = read_tls_file(tls.client_cert);
        auto key = cert ? read_tls_file(tls.client_key) : Result<std::string>(cert.error());
        if (!key) {
          return key.error();
        }
        client_cert = std::move(*cert);
        client_key = std::move(*key);
        curl_blob cert_blob{client_cert.data(), client_cert.size(), CURL_BLOB_COPY};
        curl_blob key_blob{client_key.data(), client_key.size(), CURL_BLOB_COPY};
        api.easy_setopt(curl, CURLOPT_SSLCERT_BLOB, &cert_blob);
        api.easy_setopt(curl, CURLOPT_SSLKEY_BLOB, &key_blob);
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
        api.easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
                        request.body_size_unknown ? curl_off_t{-1}
                                                  : static_cast<curl_off_t>(request.body_size));
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

std::unique_ptr<HttpClient> make_curl_client(const TransportOptions& options) {
  return std::make_unique<CurlClient>(options);
}

void initialise_http() { (void)libcurl(); }

} // namespace regauth::http
