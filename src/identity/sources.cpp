#include "regauth/identity/sources.hpp"

#include <cstdlib>
#include <pwd.h>
#include <unistd.h>

namespace regauth::identity {

Environment system_environment() {
  Environment environment;
  environment.variable = [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (!value) {
      return std::nullopt;
    }
    return std::string(value);
  };
  if (const char* home = std::getenv("HOME"); home && *home) {
    environment.home = home;
  } else if (const passwd* entry = ::getpwuid(::getuid()); entry && entry->pw_dir) {
    environment.home = entry->pw_dir;
  }
  return environment;
}

std::vector<std::unique_ptr<credentials::IdentitySource>>
make_identity_sources(const Environment& environment) {
  std::vector<std::unique_ptr<credentials::IdentitySource>> sources;
  sources.push_back(make_github_actions_source(environment));
  sources.push_back(make_gitlab_ci_source(environment));
  sources.push_back(make_google_source(environment));
  sources.push_back(make_aws_ecr_source(environment));
  return sources;
}

} // namespace regauth::identity
