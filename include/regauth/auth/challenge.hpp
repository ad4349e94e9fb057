// WWW-Authenticate parsing to the RFC 9110 section 11.6.1 grammar: several headers, several
// challenges per header, case-insensitive schemes and parameter names, quoted strings with
// backslash escapes, token68. Pure.
#pragma once

#include "regauth/result.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace regauth::auth {

struct Challenge {
  std::string scheme;                        // lower case: "bearer", "basic"
  std::map<std::string, std::string> params; // names in lower case
  std::string token68;                       // when the challenge carries one instead of params

  // The value of a parameter, or "".
  [[nodiscard]] std::string param(const std::string& name) const;
  bool operator==(const Challenge&) const = default;
};

// Parses one header value. Fails (protocol) on malformed syntax and duplicate parameters,
// quoting the offending position.
Result<std::vector<Challenge>> parse_challenges(std::string_view header);

// Parses every WWW-Authenticate header of a response, in order.
Result<std::vector<Challenge>> parse_challenge_headers(const std::vector<std::string>& headers);

// Serializes a challenge back to header syntax (quoted-string parameters, sorted names).
std::string to_header(const Challenge& challenge);

// Picks the challenge regauth answers: Bearer over Basic. Fails (protocol) when neither is
// offered, or when a Bearer challenge has no realm.
Result<Challenge> choose_challenge(const std::vector<Challenge>& challenges);

} // namespace regauth::auth
