// The seam through which the Keychain asks for credentials that come from the machine's own
// identity (a cloud role, a CI job token) rather than from a store: short-lived, fetched when
// needed, never written anywhere. Implementations live in identity/.
#pragma once

#include "regauth/credentials/credentials.hpp"
#include "regauth/result.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace regauth::credentials {

struct IdentityCredentials {
  Credentials credentials;
  // Where they came from, for people: "GitHub Actions GITHUB_TOKEN of octocat",
  // "AWS web identity, role pusher". Never holds a secret.
  std::string description;
  // When the credentials stop working; nullopt when the source does not say.
  std::optional<std::chrono::system_clock::time_point> expires_at;
};

class IdentitySource {
public:
  virtual ~IdentitySource() = default;

  // A short stable name: "github-actions", "gitlab-ci", "aws-ecr", "google".
  [[nodiscard]] virtual std::string name() const = 0;
  // True when this source answers for `registry` (a normalized key: host[:port]). Pure.
  [[nodiscard]] virtual bool serves(std::string_view registry) const = 0;
  // Credentials for `registry`; nullopt when this machine has no such identity (nothing in the
  // environment names one). Fails, with the source's name and the issuer's own words, when an
  // identity is configured but refused or unreachable.
  virtual Result<std::optional<IdentityCredentials>> get(const std::string& registry) = 0;
  // The registries this source would answer for on this machine, for `ls`: the fixed or
  // environment-named hosts whose identity the environment configures (a pattern such as
  // "*-docker.pkg.dev" when the source serves a family). Empty when nothing is configured. Never
  // fetches anything and never holds a secret.
  [[nodiscard]] virtual std::vector<std::string> configured_registries() const { return {}; }
};

} // namespace regauth::credentials
