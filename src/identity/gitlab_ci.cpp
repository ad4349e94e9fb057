// GitLab CI: every job gets the registry of its project (CI_REGISTRY, host[:port]) and
// credentials for it: CI_REGISTRY_USER / CI_REGISTRY_PASSWORD (GitLab's documented pair for
// `docker login $CI_REGISTRY`), or else the job token as gitlab-ci-token. They go to that one
// registry and to no other host, and only when the runner says it is GitLab CI.
#include "regauth/config/registry_key.hpp"
#include "regauth/identity/sources.hpp"

namespace regauth::identity {
namespace {

class GitlabCiSource final : public credentials::IdentitySource {
public:
  explicit GitlabCiSource(Environment environment) : m_environment(std::move(environment)) {}

  [[nodiscard]] std::string name() const override { return "gitlab-ci"; }

  [[nodiscard]] bool serves(std::string_view registry) const override {
    auto own = registry_key();
    return own && *own == registry;
  }

  [[nodiscard]] std::vector<std::string> configured_registries() const override {
    if (auto own = registry_key()) {
      return {*own};
    }
    return {};
  }

  Result<std::optional<credentials::IdentityCredentials>>
  get(const std::string& registry) override {
    if (!serves(registry)) {
      return std::optional<credentials::IdentityCredentials>();
    }
    credentials::IdentityCredentials found;
    auto user = non_empty("CI_REGISTRY_USER");
    auto password = non_empty("CI_REGISTRY_PASSWORD");
    if (user && password) {
      found.credentials = {*user, *password, "", ""};
      found.description = "GitLab CI CI_REGISTRY_PASSWORD of " + *user;
    } else if (auto job_token = non_empty("CI_JOB_TOKEN")) {
      found.credentials = {"gitlab-ci-token", *job_token, "", ""};
      found.description = "GitLab CI CI_JOB_TOKEN as gitlab-ci-token";
    } else {
      return std::optional<credentials::IdentityCredentials>();
    }
    if (auto job = non_empty("CI_JOB_ID")) {
      found.description += " (job " + *job + ")";
    }
    return std::optional<credentials::IdentityCredentials>(std::move(found));
  }

private:
  std::optional<std::string> non_empty(std::string_view name) const {
    auto value = m_environment.variable(name);
    if (!value || value->empty()) {
      return std::nullopt;
    }
    return value;
  }

  // The normalized key of CI_REGISTRY on a GitLab CI runner; nullopt elsewhere.
  std::optional<std::string> registry_key() const {
    if (m_environment.variable("GITLAB_CI") != "true") {
      return std::nullopt;
    }
    auto registry = non_empty("CI_REGISTRY");
    if (!registry) {
      return std::nullopt;
    }
    auto key = config::normalize_registry_key(*registry);
    if (!key || config::is_docker_hub_key(*key)) {
      return std::nullopt;
    }
    return *key;
  }

  Environment m_environment;
};

} // namespace

std::unique_ptr<credentials::IdentitySource> make_gitlab_ci_source(const Environment& environment) {
  return std::make_unique<GitlabCiSource>(environment);
}

} // namespace regauth::identity
