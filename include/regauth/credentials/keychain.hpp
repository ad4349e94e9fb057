// The Keychain answers "which credentials for this registry, and where do they live" as the
// Docker CLI does: `credHelpers[key]`, else `credsStore`, else the inline `auths` of config.json
// (with the platform default helper detected for a config that names none), with
// DOCKER_AUTH_CONFIG's entries taking precedence on reads.
#pragma once

#include "regauth/config/config_file.hpp"
#include "regauth/config/config_store.hpp"
#include "regauth/credentials/credentials.hpp"
#include "regauth/credentials/file_store.hpp"
#include "regauth/credentials/identity_source.hpp"
#include "regauth/credentials/process_runner.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace regauth::credentials {

enum class StoreKind { file, helper };

struct StoreChoice {
  StoreKind kind = StoreKind::file;
  std::string helper; // for StoreKind::helper
  std::string origin; // "credHelpers", "credsStore", "default" or "file"
};

// Picks the store for `key`. `default_helper` is the platform default, used only when the
// config names no store and holds no `auths` (see detect_default_helper). Pure.
StoreChoice choose_store(const config::ConfigFile& config, const std::string& key,
                         const std::optional<std::string>& default_helper);

// The Docker CLI's platform default on Linux: "pass" when docker-credential-pass and pass are
// on PATH (regauth also requires an initialised password store, else the login would fail),
// else "secretservice" when its helper is on PATH and a D-Bus session exists. nullopt otherwise.
std::optional<std::string> detect_default_helper(const std::string& search_path);

// Parses DOCKER_AUTH_CONFIG as Docker CLI 28 does: one JSON object with only `auths`, whose
// entries hold only `auth`. Keys are normalized. Fails (config) on anything else.
Result<std::map<std::string, Credentials>> parse_auth_config_env(std::string_view value);

struct KeychainOptions {
  std::filesystem::path config_path;
  std::chrono::milliseconds helper_timeout{30000};
  config::SaveOptions save;
  std::optional<std::string> auth_config_env; // the value of DOCKER_AUTH_CONFIG, when set
  std::string search_path;                    // PATH, to find helpers
  // Asked, in order, when no store holds credentials for a registry (empty: --no-identity).
  // The config's `"regauth": {"identity": false}` turns them off too.
  std::vector<std::shared_ptr<IdentitySource>> identity_sources;
  // KeyStyle::auth_file: config_path is a containers auth.json (--authfile, REGISTRY_AUTH_FILE):
  // keys may name namespaces, credHelpers are chosen and asked by registry host, and there is
  // no platform default helper, no `{}` placeholder and no DOCKER_AUTH_CONFIG.
  KeyStyle key_style = KeyStyle::docker;
};

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

struct StoreOutcome {
  std::string store; // where the secret went
  bool plaintext = false;
  std::vector<std::string> warnings;
};

struct EraseOutcome {
  std::vector<std::string> removed_from; // descriptions of stores that held (or, in a dry run,
                                         // hold) something
  std::vector<std::string> warnings;
  // The helper's failure, when the helper could not be asked or could not erase. The inline
  // entries of config.json are removed all the same (a logout removes what it can).
  std::optional<Error> helper_failure;
};

struct KnownRegistry {
  std::string key;
  std::string store;
  std::string username;
  // Served by an identity source the environment configures (nothing stored; key may be a
  // pattern such as "*-docker.pkg.dev"); store then names the source.
  bool identity = false;
};

struct Listing {
  std::vector<KnownRegistry> registries;
  std::vector<std::string> warnings; // repeated keys in config.json, stores that could not be read
};

class Keychain {
public:
  Keychain(KeychainOptions options, ProcessRunner& runner);

  // The store a write for `key` goes to.
  Result<StoreChoice> choice_for(const std::string& key);
  // Credentials for a normalized key, or nullopt: DOCKER_AUTH_CONFIG, then the chosen store, then
  // the identity sources that serve the registry. A failing store is an error, never a fall back.
  Result<std::optional<FoundCredentials>> get(const std::string& key);
  // Only the identity sources' answer for `key` (nullopt when none serves it or none has an
  // identity, or when they are turned off).
  Result<std::optional<FoundCredentials>> get_from_identity(const std::string& key);
  // Files credentials in the chosen store; a helper's secret leaves a `{}` placeholder in `auths`.
  Result<StoreOutcome> store(const std::string& key, const Credentials& credentials);
  // Removes every trace of `key`: the helper's entry and every `auths` spelling. A failing helper
  // does not stop the removal of the inline entries: it is returned in `helper_failure`. With
  // `dry_run` nothing is changed and `removed_from` names the stores that hold something. Fails
  // when config.json cannot be read or saved.
  Result<EraseOutcome> erase(const std::string& key, bool dry_run = false);
  // Every registry any store knows.
  Result<Listing> list();

  [[nodiscard]] const std::filesystem::path& config_path() const { return m_options.config_path; }

private:
  [[nodiscard]] bool auth_file() const { return m_options.key_style == KeyStyle::auth_file; }
  // The key credHelpers and helpers know a registry by: the key itself, or for auth.json the
  // registry part of it.
  [[nodiscard]] std::string helper_key(const std::string& key) const;
  Result<config::ConfigFile> load();
  std::unique_ptr<CredentialStore> open(const StoreChoice& choice);
  std::optional<std::string> default_helper();
  Result<std::optional<FoundCredentials>> ask_identity_sources(const std::string& key);
  StoreChoice choice_in(const config::ConfigFile& config, const std::string& key);

  KeychainOptions m_options;
  ProcessRunner& m_runner;
  std::optional<std::optional<std::string>> m_default_helper;
};

} // namespace regauth::credentials
