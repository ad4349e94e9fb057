// Response header lines as a server sends them, turned into name/value pairs. A line that
// starts with a space or a tab continues the previous header (obs-fold): RFC 9112 section 5.2
// tells a user agent to replace the fold with a space before interpreting the value.
#pragma once

#include "regauth/http/http_client.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace regauth::http {

// Adds one raw header line (CR and LF already removed or still there) to `headers`: a
// continuation line is appended to the previous header's value after one space, a "name: value"
// line becomes a new header (value trimmed of spaces and tabs), a status line ("HTTP/...")
// clears `headers` (a new response after 1xx or a redirect), and anything else is ignored (a
// line without a colon, or a continuation with no header before it).
void add_header_line(std::vector<Header>& headers, std::string_view line);

// Splits `block` at LF and adds each line as add_header_line does.
std::vector<Header> parse_header_block(std::string_view block);

// Redacts a header line for --debug: Authorization, Proxy-Authorization, Cookie, Set-Cookie,
// X-Amz-Security-Token, X-aws-ec2-metadata-token.
std::string redact_header_line(std::string_view line);

} // namespace regauth::http
