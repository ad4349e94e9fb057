// Credentials for one registry and the CredentialStore interface that every store implements:
// the inline `auths` of config.json, and docker-credential-* helpers.
#pragma once

#include "regauth/result.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace regauth::credentials {

struct Credentials {
  std::string username;
  std::string password;
  std::string identity_token; // an OAuth2 refresh token, used instead of the password
  std::string registry_token; // a bearer token sent to the registry as is

  [[nodiscard]] bool empty() const {
    return username.empty() && password.empty() && identity_token.empty() && registry_token.empty();
  }
};

// The username the Docker CLI files an identity token under in a credential helper.
inline constexpr const char* k_token_username = "<token>";

class CredentialStore {
public:
  virtual ~CredentialStore() = default;

  // A short description for messages: "config.json" or "credential helper docker-credential-pass".
  [[nodiscard]] virtual std::string description() const = 0;

  // The credentials filed under `key`; nullopt when there are none. Fails when the store fails.
  virtual Result<std::optional<Credentials>> get(const std::string& key) = 0;
  // Files credentials under `key`, replacing what was there.
  virtual Result<void> store(const std::string& key, const Credentials& credentials) = 0;
  // Removes what is filed under `key`; returns whether something was there.
  virtual Result<bool> erase(const std::string& key) = 0;
  // Every key the store holds, with its username.
  virtual Result<std::map<std::string, std::string>> list() = 0;

  // Warnings collected since the last call (e.g. permissions tightened).
  virtual std::vector<std::string> take_warnings() { return {}; }
};

} // namespace regauth::credentials
