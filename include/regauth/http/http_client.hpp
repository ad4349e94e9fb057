// HTTP as regauth needs it: Request and Response values and the HttpClient interface, with one
// real implementation over libcurl (curl_client.hpp) and a scripted fake in the unit tests.
#pragma once

#include "regauth/result.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace regauth::http {

struct Header {
  std::string name;
  std::string value;
};

// Produces the next bytes of a streamed request body into `buffer`; returns how many (0 at the
// end).
using BodySource = std::function<Result<std::size_t>(char* buffer, std::size_t size)>;

// AWS Signature Version 4, computed by libcurl (CURLOPT_AWS_SIGV4). A session token goes in an
// `X-Amz-Security-Token` header of the request, which libcurl signs with the others.
struct AwsSigning {
  std::string provider; // "aws:amz:REGION:SERVICE", region and service always explicit
  std::string access_key_id;
  std::string secret_access_key;
};

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<Header> headers;
  std::string body;       // sent when body_source is empty
  BodySource body_source; // streamed body of body_size bytes
  std::uint64_t body_size = 0;
  // body_source's length is unknown until it ends (it returns 0): the body goes with
  // `Transfer-Encoding: chunked` (HTTP/1.1) and body_size is ignored.
  bool body_size_unknown = false;
  std::size_t max_response_body = 1 << 20; // larger bodies fail the request (protocol)
  bool follow_redirects = true;
  // When set, the bearer for `Authorization` is only sent to this origin (scheme://host:port);
  // requests that leave it lose the header.
  std::optional<std::string> credential_origin;
  // A tighter limit on the whole request than the transport's (never a looser one).
  std::optional<std::chrono::milliseconds> timeout;
  // Sent even after interrupt() (the DELETEs that cancel upload sessions); other requests end
  // at once, failing (interrupted).
  bool during_interrupt = false;
  // When set, libcurl signs the request for AWS with these keys (never sent themselves).
  std::optional<AwsSigning> aws_signing;
  // How a request with a streamed body is made ready to be sent again (a retry, a renewal
  // after 401): restarts body_source from its first byte, and may move the request (an upload
  // that needs a fresh session). Without it, such a request is sent once.
  std::function<Result<void>(Request&)> prepare_resend;
};

struct Response {
  long status = 0;
  std::vector<Header> headers; // of the final response, in order
  std::string body;
  std::string url; // after redirects
  // What the request that got this answer carried, after redirects: its method (a redirect may
  // turn a POST into a GET and drop its body) and whether `Authorization` was still on it (it is
  // dropped on the way to another origin). A response proves credentials only when the origin
  // that received them answered (see docs/security.md, "What counts as proof").
  std::string method;
  bool authorization_sent = false;

  // The first header named `name` (case-insensitive), or nullopt.
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
  // Every header named `name`, in order.
  [[nodiscard]] std::vector<std::string> header_values(std::string_view name) const;
};

class HttpClient {
public:
  virtual ~HttpClient() = default;
  // Sends the request, following redirects as the transport policy allows. Fails (network) on
  // connection, TLS and timeout errors, (protocol) on oversized or unsafe responses; any HTTP
  // status is a Response.
  virtual Result<Response> send(const Request& request) = 0;
};

// Interruption (SIGINT, SIGTERM): once interrupt() is called, every transfer in progress ends
// within a fraction of a second and every later request fails (interrupted), except those
// marked `during_interrupt`; waits between retries end too. Process-wide, thread-safe.
void interrupt(int signal_number);
// The signal interrupt() was given, or 0.
int interrupted_by();
// Sleeps for `duration` or until interrupt(), whichever comes first. Returns false when
// interrupted.
bool sleep_unless_interrupted(std::chrono::milliseconds duration);
// The error for a request that an interruption ended.
Error interrupted_error(const std::string& what);

// Case-insensitive ASCII comparison for header and scheme names.
bool equals_ignore_case(std::string_view a, std::string_view b);

} // namespace regauth::http
