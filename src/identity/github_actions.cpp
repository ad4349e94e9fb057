// GitHub Actions: every job gets GITHUB_TOKEN, which ghcr.io accepts as the password of the
// actor who started the run (docker/login-action documents exactly this pair). The token goes
// to ghcr.io and to no other host, and only when the runner says it is GitHub Actions.
#include "regauth/identity/sources.hpp"

namespace regauth::identity {
namespace {

constexpr std::string_view k_registry = "ghcr.io";

class GithubActionsSource final : public credentials::IdentitySource {
public:
  explicit GithubActionsSource(Environment environment) : m_environment(std::move(environment)) {}

  [[nodiscard]] std::string name() const override { return "github-actions"; }

  [[nodiscard]] bool serves(std::string_view registry) const override {
    return registry == k_registry;
  }

  [[nodiscard]] std::vector<std::string> configured_registries() const override {
    auto token = m_environment.variable("GITHUB_TOKEN");
    if (m_environment.variable("GITHUB_ACTIONS") != "true" || !token || token->empty()) {
      return {};
    }
    return {std::string(k_registry)};
  }

  Result<std::optional<credentials::IdentityCredentials>>
  get(const std::string& registry) override {
    if (!serves(registry) || m_environment.variable("GITHUB_ACTIONS") != "true") {
      return std::optional<credentials::IdentityCredentials>();
    }
    auto token = m_environment.variable("GITHUB_TOKEN");
    if (!token || token->empty()) {
      return std::optional<credentials::IdentityCredentials>();
    }
    auto actor = m_environment.variable("GITHUB_ACTOR");
    // ghcr.io checks only the token; the actor names the login in messages and logs.
    std::string username = actor && !actor->empty() ? *actor : "github-actions";
    credentials::IdentityCredentials found;
    found.credentials.username = username;
    found.credentials.password = *token;
    found.description = "GitHub Actions GITHUB_TOKEN of " + username;
    return std::optional<credentials::IdentityCredentials>(std::move(found));
  }

private:
  Environment m_environment;
};

} // namespace

std::unique_ptr<credentials::IdentitySource>
make_github_actions_source(const Environment& environment) {
  return std::make_unique<GithubActionsSource>(environment);
}

} // namespace regauth::identity
