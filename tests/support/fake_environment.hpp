// A made-up environment for identity sources: variables from a map, and nothing else unless a
// test sets it (no home, no HTTP client, no process runner, a DMI folder that does not exist).
#pragma once

#include "regauth/identity/sources.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace regauth::testing {

using Variables = std::map<std::string, std::string>;

// `variable` reading `variables` as they are when asked (the test may change them later). The
// map must outlive the returned function.
inline std::function<std::optional<std::string>(std::string_view)>
variables_in(const Variables& variables) {
  return [&variables](std::string_view name) -> std::optional<std::string> {
    if (auto it = variables.find(std::string(name)); it != variables.end()) {
      return it->second;
    }
    return std::nullopt;
  };
}

// An Environment whose variables are a copy of `variables`.
inline identity::Environment environment_of(Variables variables) {
  identity::Environment environment;
  environment.variable =
      [variables = std::move(variables)](std::string_view name) -> std::optional<std::string> {
    if (auto it = variables.find(std::string(name)); it != variables.end()) {
      return it->second;
    }
    return std::nullopt;
  };
  environment.dmi_dir = "/nonexistent-dmi";
  return environment;
}

} // namespace regauth::testing
