// The Keychain answers "which credentials for this registry, and where do they live" as the
// Docker CLI does: `credHelpers[key]`, else `credsStore`, else the inline `auths` of config.json
// (with the platform default helper detected for a config that names none), composed with the
// layers of credential_layers.hpp: DOCKER_AUTH_CONFIG in memory over the chosen store, the
// identity sources under it. config.json is read and parsed once per Keychain (or per command,
// with a shared cache).
#pragma once

#include "regauth/config/config_file.hpp"
#include "regauth/config/config_store.hpp"
#include "regauth/credentials/credential_layers.hpp"
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

// What chose the store: a `credHelpers` entry, `credsStore`, the platform default helper (for a
// config that names none), or nothing (the inline `auths`).
enum class StoreOrigin { cred_helpers, creds_store, platform_default, file };

// The origin as the config names it, for messages: "credHelpers", "credsStore", "default",
// "file".
const char* to_string(StoreOrigin origin);

struct StoreChoice {
  StoreKind kind = StoreKind::file;
  std::string helper; // for StoreKind::helper
  StoreOrigin origin = StoreOrigin::file;
};

// Picks the store for `key`. `default_helper` is the platform default, used only when the
// config names no store and holds no `auths` (see detect_default_helper). Pure.
StoreChoice choose_store(const config::ConfigFile& config, const std::string& key,
                         const std::optional<std::string>& default_helper);

// The Docker CLI's platform default on Linux: "pass" when docker-credential-pass and pass are
// on PATH (regauth also requires an initialised password store, else the login would fail),
// else "secretservice" when its helper is on PATH and a D-Bus session exists. nullopt otherwise.
std::optional<std::string> detect_default_helper(const std::string& search_path);

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
  // This command's reading of config_path, shared with whoever else reads it; nullptr: the
  // Keychain keeps its own.
  config::SharedConfigCache config_cache;
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
  // erase() for each of `keys`, in order, with one read and at most one write of config.json
  // for all of them. A failed save fails every key that had an entry there.
  std::vector<Result<EraseOutcome>> erase_all(const std::vector<std::string>& keys,
                                              bool dry_run = false);
  // Every registry any store knows.
  Result<Listing> list();

  [[nodiscard]] const std::filesystem::path& config_path() const { return m_options.config_path; }

private:
  [[nodiscard]] bool auth_file() const { return m_options.key_style == KeyStyle::auth_file; }
  // The key credHelpers and helpers know a registry by: the key itself, or for auth.json the
  // registry part of it.
  [[nodiscard]] std::string helper_key(const std::string& key) const;
  // This Keychain's (or command's) one reading of config.json.
  Result<const config::ConfigFile*> load();
  std::unique_ptr<CredentialStore> open(const StoreChoice& choice);
  std::optional<std::string> default_helper();
  StoreChoice choice_in(const config::ConfigFile& config, const std::string& key);
  // The layers get() asks for `key` under DOCKER_AUTH_CONFIG, in order: the chosen store (or
  // the identity source standing in for a cloud helper that is not installed), then the
  // identity sources unless the config turns them off.
  std::vector<std::unique_ptr<CredentialLayer>> layers_for(const config::ConfigFile& config,
                                                           const std::string& key);

  KeychainOptions m_options;
  ProcessRunner& m_runner;
  std::optional<std::optional<std::string>> m_default_helper;
};

} // namespace regauth::credentials
