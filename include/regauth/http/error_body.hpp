// Reading failures from registries and token servers: the registry's error JSON
// ({"errors":[{"code","message","detail"}]}), token servers' {"details"} and OAuth's
// {"error","error_description"}, mapped to an Error with the server's own words. Pure.
#pragma once

#include "regauth/http/http_client.hpp"
#include "regauth/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace regauth::http {

struct ServerError {
  std::string code;    // "UNAUTHORIZED", or empty
  std::string message; // "authentication required"
};

// The errors a body carries, in order; empty when it carries none we can read.
std::vector<ServerError> parse_error_body(std::string_view body);

// "unauthorized: authentication required; denied: ..." from a body, or "" when it says nothing.
// Control bytes are escaped (escape_for_terminal) and the text is capped at 300 bytes, so a hostile
// server cannot paint the terminal.
std::string describe_error_body(std::string_view body);

// The kind of a failed status: 401 unauthorized, 403 denied, 404 not_found, a retryable one
// (is_retryable_status: 408, 429, 5xx) network, anything else protocol.
ErrorKind kind_for_status(long status);

// An Error for a failed response: "<what>: <status> <reason>: <server's words>".
Error response_error(const std::string& what, const Response& response);

} // namespace regauth::http
