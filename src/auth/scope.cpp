#include "regauth/auth/scope.hpp"

namespace regauth::auth {

std::string Scope::to_string() const {
  std::string out = type + ":" + name + ":";
  for (std::size_t i = 0; i < actions.size(); ++i) {
    out += (i ? "," : "") + actions[i];
  }
  return out;
}

Scope repository_scope(const std::string& repository, std::vector<std::string> actions) {
  return Scope{"repository", repository, std::move(actions)};
}

} // namespace regauth::auth
