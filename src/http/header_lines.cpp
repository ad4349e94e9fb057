#include "regauth/http/header_lines.hpp"

#include <string>

namespace regauth::http {
namespace {

constexpr std::string_view k_redacted = "[redacted]";

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Blanks, and stray CRs that a line ending in several of them leaves.
std::string_view trim(std::string_view text) {
  auto trimmed = [](char c) { return is_blank(c) || c == '\r'; };
  while (!text.empty() && trimmed(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && trimmed(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

} // namespace

void add_header_line(std::vector<Header>& headers, std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  if (line.empty()) {
    return;
  }
  if (is_blank(line.front())) {
    // obs-fold (RFC 9112 5.2): the fold and the blanks around it become one space.
    std::string_view more = trim(line);
    if (headers.empty() || more.empty()) {
      return;
    }
    std::string& value = headers.back().value;
    value += value.empty() ? "" : " ";
    value += more;
    return;
  }
  if (line.substr(0, 5) == "HTTP/") {
    headers.clear();
    return;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return;
  }
  headers.push_back(
      {std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1)))});
}

std::vector<Header> parse_header_block(std::string_view block) {
  std::vector<Header> headers;
  while (!block.empty()) {
    auto end = block.find('\n');
    add_header_line(headers, block.substr(0, end));
    if (end == std::string_view::npos) {
      break;
    }
    block.remove_prefix(end + 1);
  }
  return headers;
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

} // namespace regauth::http
