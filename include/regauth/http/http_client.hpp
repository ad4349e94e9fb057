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
  std::size_t max_response_body = 1 << 20; // larger bodies fail the request (protocol)
  bool follow_redirects = true;
  // When set, the bearer for `Authorization` is only sent to this origin (scheme://host:port);
  // requests that leave it lose the header.
  std::optional<std::string> credential_origin;
  // A tighter limit on the whole request than the transport's (never a looser one).
  std::optional<std::chrono::milliseconds> timeout;
  // When set, libcurl signs the request for AWS with these keys (never sent themselves).
  std::optional<AwsSigning> aws_signing;
};

struct Response {
  long status = 0;
  std::vector<Header> headers; // of the final response, in order
  std::string body;
  std::string url; // after redirects

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

// Case-insensitive ASCII comparison for header and scheme names.
bool equals_ignore_case(std::string_view a, std::string_view b);

} // namespace regauth::http
