// Token scopes (distribution's scope.md): resourcetype[(class)]:resourcename:action[,action]*.
#pragma once

#include <string>
#include <vector>

namespace regauth::auth {

struct Scope {
  std::string type = "repository";
  std::string name;
  std::vector<std::string> actions;

  // "repository:library/alpine:pull,push".
  [[nodiscard]] std::string to_string() const;
  bool operator==(const Scope&) const = default;
};

// A repository scope for `repository` with `actions`.
Scope repository_scope(const std::string& repository, std::vector<std::string> actions);

} // namespace regauth::auth
