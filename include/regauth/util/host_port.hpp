// Splitting "host[:port]" the way registries are addressed: a host name or a bracketed IPv6
// literal, then an optional port. Shared by registry keys (config/) and image references
// (registry/), which then apply their own rules to the host name. Pure.
#pragma once

#include "regauth/result.hpp"

#include <string_view>

namespace regauth {

struct HostPort {
  std::string_view host; // the name, or the IPv6 literal with its brackets
  std::string_view port; // what follows the ':' (unchecked); empty when there is none
  bool has_port = false;
  bool ipv6 = false;
};

// Splits `text` at its port colon: the first ':' of a host name, the one right after ']' of an
// IPv6 literal. Neither the host name nor the port is checked (see is_valid_port); an IPv6
// literal is: it fails (usage) with "malformed IPv6 address" when the ']' is missing or what is
// between the brackets is empty or holds anything but hex digits, ':' and '.' (an IPv4 tail),
// and with "unexpected text after IPv6 address" when something other than ':' follows the ']'.
Result<HostPort> split_host_port(std::string_view text);

// True when `port` is a decimal number from 1 to 65535 (digits only, at most 5 of them).
bool is_valid_port(std::string_view port);

} // namespace regauth
