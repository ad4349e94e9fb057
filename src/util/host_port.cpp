#include "regauth/util/host_port.hpp"

#include <algorithm>
#include <cctype>

namespace regauth {

Result<HostPort> split_host_port(std::string_view text) {
  HostPort parts;
  if (text.empty() || text.front() != '[') {
    auto colon = text.find(':');
    parts.host = text.substr(0, colon);
    if (colon != std::string_view::npos) {
      parts.port = text.substr(colon + 1);
      parts.has_port = true;
    }
    return parts;
  }
  auto close = text.find(']');
  if (close == std::string_view::npos) {
    return make_error(ErrorKind::usage, "malformed IPv6 address");
  }
  auto inside = text.substr(1, close - 1);
  if (inside.empty() || !std::all_of(inside.begin(), inside.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
      })) {
    return make_error(ErrorKind::usage, "malformed IPv6 address");
  }
  parts.host = text.substr(0, close + 1);
  parts.ipv6 = true;
  auto rest = text.substr(close + 1);
  if (!rest.empty()) {
    if (rest.front() != ':') {
      return make_error(ErrorKind::usage, "unexpected text after IPv6 address");
    }
    parts.port = rest.substr(1);
    parts.has_port = true;
  }
  return parts;
}

bool is_valid_port(std::string_view port) {
  if (port.empty() || port.size() > 5) {
    return false;
  }
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value >= 1 && value <= 65535;
}

} // namespace regauth
