// The layers the Keychain composes, asked in order for a registry's credentials, as the Docker CLI
// composes its stores: DOCKER_AUTH_CONFIG held in memory over the store chosen for the registry,
// and, for regauth, the machine's identity sources under both. A layer either answers, hands the
// question to the layer below (nullopt), or fails (never a fall back). Writes never go to a layer:
// they go to the chosen store (see Keychain).
#pragma once

#include "regauth/credentials/credentials.hpp"
#include "regauth/credentials/identity_source.hpp"
#include "regauth/result.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace regauth::credentials {

struct FoundCredentials {
  Credentials credentials;
  // "config.json path", "credential helper docker-credential-x", "DOCKER_AUTH_CONFIG", or an
  // identity source's description ("GitHub Actions GITHUB_TOKEN of octocat").
  std::string source;
  // Set for credentials from an identity source: short-lived, never to be stored.
  bool from_identity = false;
  std::optional<std::chrono::system_clock::time_point> expires_at;
  // Notices for the user ("docker-credential-gcr is not installed: using ..."); never secrets.
  std::vector<std::string> warnings;
};

struct KnownRegistry {
  std::string key;
  std::string store;
  std::string username;
  // Served by an identity source the environment configures (nothing stored; key may be a
  // pattern such as "*-docker.pkg.dev"); store then names the source.
  bool identity = false;
  // Held in memory only (DOCKER_AUTH_CONFIG): nothing stored, nothing to erase.
  bool in_memory = false;
};

struct Listing {
  std::vector<KnownRegistry> registries;
  std::vector<std::string> warnings; // repeated keys in config.json, stores that could not be read
};

class CredentialLayer {
public:
  virtual ~CredentialLayer() = default;

  // This layer's credentials for `key` (a normalized key); nullopt hands the question to the
  // layer below.
  virtual Result<std::optional<FoundCredentials>> get(const std::string& key) = 0;
  // Adds what this layer holds to `listing`, one row per registry with this layer as its store;
  // a layer that cannot be read adds a warning instead.
  virtual void list(Listing& listing) = 0;
};

// Parses DOCKER_AUTH_CONFIG as Docker CLI 28 does: one JSON object with only `auths`, whose
// entries hold only `auth`. Keys are normalized. Fails (config) on anything else.
Result<std::map<std::string, Credentials>> parse_auth_config_env(std::string_view value);

// DOCKER_AUTH_CONFIG: credentials held in memory over the chosen store, as the Docker CLI's
// memorystore with a fallback store. `get` answers from memory first and hands anything else
// down; `list` adds memory's entries (the Docker CLI's GetAll lets them win over the store's;
// `ls` shows both rows, each with its store). Writes go to the store below: what the Docker CLI
// also writes to memory ends with the process. The value is parsed on first use; a malformed one
// fails `get` and is a warning for `list`.
class MemoryLayer final : public CredentialLayer {
public:
  explicit MemoryLayer(std::string value) : m_value(std::move(value)) {}

  Result<std::optional<FoundCredentials>> get(const std::string& key) override;
  void list(Listing& listing) override;

private:
  Result<const std::map<std::string, Credentials>*> entries();

  std::string m_value;
  std::optional<std::map<std::string, Credentials>> m_entries;
};

// The store chosen for a registry (a helper, or the inline `auths`), asked under `store_key`
// (the key itself, or for auth.json helpers the registry part of it).
class StoreLayer final : public CredentialLayer {
public:
  StoreLayer(std::unique_ptr<CredentialStore> store, std::string store_key)
      : m_store(std::move(store)), m_store_key(std::move(store_key)) {}

  Result<std::optional<FoundCredentials>> get(const std::string& key) override;
  void list(Listing& listing) override;

private:
  std::unique_ptr<CredentialStore> m_store;
  std::string m_store_key;
};

// The machine's identity sources: the first that serves a registry and has an identity answers,
// with short-lived credentials that are never stored. `list` adds what the environment
// configures, fetching nothing.
class IdentityLayer final : public CredentialLayer {
public:
  explicit IdentityLayer(std::vector<std::shared_ptr<IdentitySource>> sources)
      : m_sources(std::move(sources)) {}

  // In place of a cloud credential helper that is not installed (`helper` named by `origin`):
  // the answer carries a warning saying so, and no identity is an error (helper) instead of
  // nothing.
  void substitute_for(std::string helper, std::string origin) {
    m_substitute = std::make_pair(std::move(helper), std::move(origin));
  }

  [[nodiscard]] bool serves(const std::string& key) const;
  Result<std::optional<FoundCredentials>> get(const std::string& key) override;
  void list(Listing& listing) override;

private:
  std::vector<std::shared_ptr<IdentitySource>> m_sources;
  std::optional<std::pair<std::string, std::string>> m_substitute;
};

// Asks `layers` in order: the first answer, or the first failure; nullopt when none answers.
Result<std::optional<FoundCredentials>>
get_from_layers(const std::vector<std::unique_ptr<CredentialLayer>>& layers,
                const std::string& key);

} // namespace regauth::credentials
