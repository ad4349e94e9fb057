#include "regauth/credentials/keychain.hpp"

#include "regauth/config/registry_key.hpp"
#include "regauth/credentials/auth_entry.hpp"
#include "regauth/credentials/file_store.hpp"
#include "regauth/credentials/helper_store.hpp"
#include "regauth/util/search_path.hpp"

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <set>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>

namespace regauth::credentials {
namespace {

// A config that names regauth itself as a credential helper ("credHelpers": {"h": "regauth"},
// or "credsStore": "regauth") is how Docker reaches regauth's identity sources. regauth must not
// run docker-credential-regauth from there: it would be asking itself, one process deeper each
// time. For regauth that choice means its own file store, a config.json-shaped file beside
// config.json. Not config.json itself: Docker rewrites config.json from memory after a helper's
// `store` returns, which would drop an entry regauth wrote there.
constexpr const char* k_self_helper = "regauth";
constexpr const char* k_self_store_file = "regauth-credentials.json";

bool on_path(const std::string& program, const std::string& search_path) {
  return find_on_path(program, search_path).has_value();
}

// The cloud helpers whose work an identity source does in process.
bool is_cloud_helper(const std::string& helper) {
  return helper == "ecr-login" || helper == "gcr" || helper == "gcloud";
}

bool password_store_initialised() {
  std::string dir;
  if (const char* env = std::getenv("PASSWORD_STORE_DIR"); env && *env) {
    dir = env;
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    dir = std::string(home) + "/.password-store";
  } else {
    return false;
  }
  struct stat info {};
  return ::stat((dir + "/.gpg-id").c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

} // namespace

const char* to_string(StoreOrigin origin) {
  switch (origin) {
  case StoreOrigin::cred_helpers:
    return "credHelpers";
  case StoreOrigin::creds_store:
    return "credsStore";
  case StoreOrigin::platform_default:
    return "default";
  case StoreOrigin::file:
    break;
  }
  return "file";
}

StoreChoice choose_store(const config::ConfigFile& config, const std::string& key,
                         const std::optional<std::string>& default_helper) {
  if (auto helper = config.cred_helper(key); helper && !helper->empty()) {
    return {StoreKind::helper, *helper, StoreOrigin::cred_helpers};
  }
  if (auto helper = config.creds_store(); !helper.empty()) {
    return {StoreKind::helper, helper, StoreOrigin::creds_store};
  }
  if (default_helper && config.has_no_auth_settings()) {
    return {StoreKind::helper, *default_helper, StoreOrigin::platform_default};
  }
  return {StoreKind::file, "", StoreOrigin::file};
}

std::optional<std::string> detect_default_helper(const std::string& search_path) {
  if (on_path("docker-credential-pass", search_path) && on_path("pass", search_path) &&
      password_store_initialised()) {
    return "pass";
  }
  const char* bus = std::getenv("DBUS_SESSION_BUS_ADDRESS");
  if (bus && *bus && on_path("docker-credential-secretservice", search_path)) {
    return "secretservice";
  }
  return std::nullopt;
}

Keychain::Keychain(KeychainOptions options, ProcessRunner& runner)
    : m_options(std::move(options)), m_runner(runner) {
  if (!m_options.config_cache) {
    m_options.config_cache = std::make_shared<config::ConfigCache>();
  }
}

Result<const config::ConfigFile*> Keychain::load() {
  auto loaded = m_options.config_cache->get(m_options.config_path);
  if (!loaded) {
    return loaded.error();
  }
  return &(*loaded)->config;
}

std::string Keychain::helper_key(const std::string& key) const {
  return auth_file() ? config::auth_file_registry(key) : key;
}

std::optional<std::string> Keychain::default_helper() {
  if (auth_file()) {
    return std::nullopt;
  }
  if (!m_default_helper) {
    m_default_helper = detect_default_helper(m_options.search_path);
  }
  return *m_default_helper;
}

std::unique_ptr<CredentialStore> Keychain::open(const StoreChoice& choice) {
  if (choice.kind == StoreKind::helper && choice.helper == k_self_helper) {
    return std::make_unique<FileStore>(m_options.config_path.parent_path() / k_self_store_file,
                                       m_options.save);
  }
  if (choice.kind == StoreKind::helper) {
    return std::make_unique<HelperStore>(choice.helper, m_runner, m_options.helper_timeout,
                                         m_options.search_path);
  }
  return std::make_unique<FileStore>(m_options.config_path, m_options.save, m_options.key_style,
                                     m_options.config_cache);
}

Result<StoreChoice> Keychain::choice_for(const std::string& key) {
  auto config = load();
  if (!config) {
    return config.error();
  }
  return choice_in(**config, key);
}

StoreChoice Keychain::choice_in(const config::ConfigFile& config, const std::string& key) {
  if (auth_file()) {
    // credHelpers are named by registry host only (containers-auth.json(5)).
    auto registry = config::normalize_registry_key(helper_key(key));
    return choose_store(config, registry ? *registry : helper_key(key), std::nullopt);
  }
  return choose_store(config, key, default_helper());
}

std::vector<std::unique_ptr<CredentialLayer>> Keychain::layers_for(const config::ConfigFile& config,
                                                                   const std::string& key) {
  std::vector<std::unique_ptr<CredentialLayer>> layers;
  auto choice = choice_in(config, key);
  const bool identity = config.identity_enabled();
  if (identity && choice.kind == StoreKind::helper && is_cloud_helper(choice.helper) &&
      !on_path("docker-credential-" + choice.helper, m_options.search_path)) {
    auto substitute = std::make_unique<IdentityLayer>(m_options.identity_sources);
    if (substitute->serves(key)) {
      // It answers or fails: the layers below are never asked.
      substitute->substitute_for(choice.helper, to_string(choice.origin));
      layers.push_back(std::move(substitute));
      return layers;
    }
  }
  layers.push_back(std::make_unique<StoreLayer>(
      open(choice), choice.kind == StoreKind::helper ? helper_key(key) : key));
  // Stored credentials always win; the machine's identity answers only when none are stored.
  if (identity) {
    layers.push_back(std::make_unique<IdentityLayer>(m_options.identity_sources));
  }
  return layers;
}

Result<std::optional<FoundCredentials>> Keychain::get(const std::string& key) {
  // DOCKER_AUTH_CONFIG in memory over everything else; it answers before config.json is read (a
  // broken config.json does not hide it).
  if (m_options.auth_config_env && !auth_file()) {
    auto found = MemoryLayer(*m_options.auth_config_env).get(key);
    if (!found || *found) {
      return found;
    }
  }
  auto config = load();
  if (!config) {
    return config.error();
  }
  return get_from_layers(layers_for(**config, key), key);
}

Result<std::optional<FoundCredentials>> Keychain::get_from_identity(const std::string& key) {
  auto config = load();
  if (!config) {
    return config.error();
  }
  if (!(*config)->identity_enabled()) {
    return std::optional<FoundCredentials>();
  }
  return IdentityLayer(m_options.identity_sources).get(key);
}

Result<StoreOutcome> Keychain::store(const std::string& key, const Credentials& credentials) {
  auto choice = choice_for(key);
  if (!choice) {
    return choice.error();
  }
  auto store = open(*choice);
  if (auto stored =
          store->store(choice->kind == StoreKind::helper ? helper_key(key) : key, credentials);
      !stored) {
    return stored.error();
  }
  StoreOutcome outcome;
  outcome.store = store->description();
  outcome.warnings = store->take_warnings();
  if (auth_file() && choice->kind == StoreKind::helper) {
    return outcome; // containers/image leaves `auths` alone when a helper holds the secret
  }
  if (choice->kind == StoreKind::file) {
    outcome.plaintext = true;
    return outcome;
  }
  // As the Docker CLI: the helper holds the secret, `auths` keeps a `{}` placeholder (which
  // also drops any stale inline secret for this key), and a detected default is remembered.
  auto saved = config::update_config(
      m_options.config_path,
      [&](config::ConfigFile& config) -> Result<bool> {
        const config::Json* existing = config.auth_entry(key);
        config.set_auth_entry(key,
                              encode_auth_entry(existing ? *existing : config::Json::object(), {}));
        if (choice->origin == StoreOrigin::platform_default) {
          config.set_creds_store(choice->helper);
        }
        return true;
      },
      m_options.save, m_options.config_cache.get());
  if (!saved) {
    return saved.error().with_context("credentials were stored in " + outcome.store +
                                      " but config.json could not be updated");
  }
  outcome.warnings.insert(outcome.warnings.end(), saved->warnings.begin(), saved->warnings.end());
  return outcome;
}

namespace {

// The `auths` entries that name each of `wanted`'s keys (normalized keys, each with its index
// in `found`), found in one pass: the exact key first, then other spellings in file order, as
// positions in `auths`; and whether any of them holds a secret (a `{}` placeholder is not a
// login; an entry that does not decode counts as one). Vectors and positions, not hash maps of
// keys: `logout --all` looks for 100,000 keys.
struct StoredEntries {
  std::vector<std::size_t> positions;
  bool held_secret = false;
};

using WantedKeys = std::unordered_map<std::string_view, std::size_t>;

struct Found {
  std::vector<StoredEntries> by_key; // indexed as `wanted`'s values
  bool any = false;
};

Found stored_entries(const config::ConfigFile& config, const WantedKeys& wanted, std::size_t count,
                     bool auth_file) {
  Found found;
  found.by_key.resize(count);
  const auto& json = config.json();
  auto auths = json.find("auths");
  if (auths == json.end() || !auths->is_object()) {
    return found;
  }
  std::size_t position = 0;
  for (const auto& member : auths->get_ref<const config::Json::object_t&>()) {
    const std::string& stored = member.first;
    const config::Json& entry = member.second;
    auto add = [&](WantedKeys::const_iterator key, bool exact) {
      auto& entries = found.by_key[key->second];
      entries.positions.insert(exact ? entries.positions.begin() : entries.positions.end(),
                               position);
      entries.held_secret = entries.held_secret || holds_credentials(entry);
      found.any = true;
    };
    if (auto key = wanted.find(stored); key != wanted.end()) {
      add(key, true);
    }
    if (!config::normalizing_keeps_key(stored)) {
      auto normalized = auth_file ? config::normalize_auth_file_key(stored)
                                  : config::normalize_registry_key(stored);
      if (normalized && *normalized != stored) {
        if (auto key = wanted.find(*normalized); key != wanted.end()) {
          add(key, false);
        }
      }
    }
    ++position;
  }
  return found;
}

} // namespace

Result<EraseOutcome> Keychain::erase(const std::string& key, bool dry_run) {
  return std::move(erase_all({key}, dry_run).front());
}

std::vector<Result<EraseOutcome>> Keychain::erase_all(const std::vector<std::string>& keys,
                                                      bool dry_run) {
  std::vector<Result<EraseOutcome>> results;
  results.reserve(keys.size()); // `logout --all` may erase 100,000 keys: no move on growth
  // One read decides everything; the file is only locked and rewritten when it holds a key.
  auto config = load();
  if (!config) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      results.emplace_back(config.error());
    }
    return results;
  }
  WantedKeys wanted;
  wanted.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    wanted.try_emplace(keys[i], wanted.size()); // a repeated key shares the first one's index
  }
  auto inline_entries = stored_entries(**config, wanted, wanted.size(), auth_file());
  std::vector<EraseOutcome> outcomes(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string& key = keys[i];
    EraseOutcome& outcome = outcomes[i];
    auto choice = choice_in(**config, key);
    // auth.json: a namespace key has no helper entry of its own (helpers know registries).
    if (choice.kind != StoreKind::helper || helper_key(key) != key) {
      continue;
    }
    auto helper = open(choice);
    auto found = helper->get(key);
    if (!found) {
      outcome.helper_failure = found.error();
    } else if (*found) {
      if (dry_run) {
        outcome.removed_from.push_back(helper->description());
      } else if (auto erased = helper->erase(key); !erased) {
        outcome.helper_failure = erased.error();
      } else {
        outcome.removed_from.push_back(helper->description());
      }
    }
  }
  // One locked read-modify-write removes the inline entries of every key.
  std::optional<Error> save_failure;
  std::vector<std::string> save_warnings;
  if (!dry_run && inline_entries.any) {
    auto saved = config::update_config(
        m_options.config_path,
        [&](config::ConfigFile& latest) -> Result<bool> {
          // The entries found above, unless the file changed since: then its own.
          Found fresh;
          if (&latest != *config) {
            fresh = stored_entries(latest, wanted, wanted.size(), auth_file());
          }
          std::vector<std::size_t> doomed;
          for (const auto& entries : (&latest == *config ? inline_entries : fresh).by_key) {
            doomed.insert(doomed.end(), entries.positions.begin(), entries.positions.end());
          }
          return latest.erase_auth_entries_at(doomed) > 0;
        },
        m_options.save, m_options.config_cache.get());
    if (saved) {
      save_warnings = std::move(saved->warnings);
    } else {
      save_failure = saved.error();
    }
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const StoredEntries& held = inline_entries.by_key[wanted.at(keys[i])];
    if (held.positions.empty()) {
      results.emplace_back(std::move(outcomes[i]));
      continue;
    }
    if (save_failure) {
      results.emplace_back(*save_failure);
      continue;
    }
    outcomes[i].warnings = std::exchange(save_warnings, {});
    if (held.held_secret) {
      outcomes[i].removed_from.push_back(m_options.config_path.string());
    }
    results.emplace_back(std::move(outcomes[i]));
  }
  return results;
}

Result<Listing> Keychain::list() {
  auto loaded = load();
  if (!loaded) {
    return loaded.error();
  }
  const config::ConfigFile& config = **loaded;
  Listing listing;
  listing.warnings = config::describe_duplicate_keys(config, m_options.config_path);
  auto normalize = [&](std::string_view key) {
    return auth_file() ? config::normalize_auth_file_key(key) : config::normalize_registry_key(key);
  };
  // The config is read once: its inline entries come from the copy loaded above.
  FileStore file(m_options.config_path, m_options.save, m_options.key_style);
  const std::string file_store = file.description();
  auto inline_entries = list_inline_entry_views(config);
  // Each entry is shown under its normalized key, a store lists a registry once. The views
  // point into the config's keys or, for a key that normalizing changes, into `shown_keys`.
  // The config's keys are unique: two entries can only share a registry that some key was
  // renamed to, so only those are looked up (100,000 keys that normalize to themselves are
  // neither normalized nor hashed).
  std::deque<std::string> shown_keys;
  std::vector<std::string_view> shown(inline_entries.size());
  std::unordered_set<std::string_view> renamed;
  for (std::size_t i = 0; i < inline_entries.size(); ++i) {
    std::string_view key = inline_entries[i].first;
    shown[i] = key;
    if (config::normalizing_keeps_key(key)) {
      continue;
    }
    if (auto normalized = normalize(key); normalized && *normalized != key) {
      shown[i] = shown_keys.emplace_back(std::move(*normalized));
      renamed.insert(shown[i]);
    }
  }
  // The registries already listed, per store; the file store's, once another store's rows
  // could share its name.
  std::unordered_map<std::string, std::unordered_set<std::string_view>> seen;
  std::unordered_set<std::string_view> file_seen;
  listing.registries.reserve(inline_entries.size());
  for (std::size_t i = 0; i < inline_entries.size(); ++i) {
    if (renamed.count(shown[i]) == 0 || file_seen.insert(shown[i]).second) {
      listing.registries.push_back(
          {std::string(shown[i]), file_store, std::move(inline_entries[i].second)});
    }
  }
  auto add = [&](std::string_view key, const std::string& store, std::string user) {
    auto normalized = normalize(key);
    std::string_view name = normalized && *normalized != key
                                ? std::string_view(shown_keys.emplace_back(std::move(*normalized)))
                                : std::string_view(shown_keys.emplace_back(key));
    auto [store_seen, first] = seen.try_emplace(store);
    if (first && store == file_store) {
      store_seen->second.insert(shown.begin(), shown.end());
    }
    if (store_seen->second.insert(name).second) {
      listing.registries.push_back({std::string(name), store, std::move(user)});
    }
  };
  auto helper_store = choose_store(config, "", default_helper());
  if (!config.creds_store().empty()) {
    helper_store = {StoreKind::helper, config.creds_store(), StoreOrigin::creds_store};
  }
  if (helper_store.kind == StoreKind::helper &&
      helper_store.origin != StoreOrigin::platform_default) {
    Listing from_helper;
    StoreLayer(open(helper_store), "").list(from_helper);
    for (const auto& row : from_helper.registries) {
      add(row.key, row.store, row.username);
    }
    listing.warnings.insert(listing.warnings.end(), from_helper.warnings.begin(),
                            from_helper.warnings.end());
  }
  for (const auto& [key, name] : config.cred_helpers()) {
    auto helper = open({StoreKind::helper, name, StoreOrigin::cred_helpers});
    auto normalized =
        auth_file() ? config::normalize_auth_file_key(key) : config::normalize_registry_key(key);
    auto found = helper->get(normalized ? *normalized : key);
    if (!found) {
      listing.warnings.push_back(found.error().message);
    } else if (*found) {
      add(key, helper->description(),
          (*found)->username.empty() ? k_token_username : (*found)->username);
    }
  }
  // The layers over and under the stores: DOCKER_AUTH_CONFIG, then the machine's identity.
  if (m_options.auth_config_env && !auth_file()) {
    MemoryLayer(*m_options.auth_config_env).list(listing);
  }
  if (config.identity_enabled()) {
    IdentityLayer(m_options.identity_sources).list(listing);
  }
  return listing;
}

} // namespace regauth::credentials
