#include "regauth/credentials/keychain.hpp"

#include "regauth/config/registry_key.hpp"
#include "regauth/credentials/auth_entry.hpp"
#include "regauth/credentials/file_store.hpp"
#include "regauth/credentials/helper_store.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace regauth::credentials {
namespace {

constexpr const char* k_env_source = "DOCKER_AUTH_CONFIG";

// A config that names regauth itself as a credential helper ("credHelpers": {"h": "regauth"},
// or "credsStore": "regauth") is how Docker reaches regauth's identity sources. regauth must not
// run docker-credential-regauth from there: it would be asking itself, one process deeper each
// time. For regauth that choice means its own file store, a config.json-shaped file beside
// config.json. Not config.json itself: Docker rewrites config.json from memory after a helper's
// `store` returns, which would drop an entry regauth wrote there.
constexpr const char* k_self_helper = "regauth";
constexpr const char* k_self_store_file = "regauth-credentials.json";

bool on_path(const std::string& program, const std::string& search_path) {
  std::string_view rest = search_path;
  while (true) {
    auto colon = rest.find(':');
    std::string_view dir = rest.substr(0, colon);
    if (!dir.empty() && dir.front() == '/') {
      std::string candidate = std::string(dir) + "/" + program;
      if (::access(candidate.c_str(), X_OK) == 0) {
        return true;
      }
    }
    if (colon == std::string_view::npos) {
      return false;
    }
    rest.remove_prefix(colon + 1);
  }
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

StoreChoice choose_store(const config::ConfigFile& config, const std::string& key,
                         const std::optional<std::string>& default_helper) {
  if (auto helper = config.cred_helper(key); helper && !helper->empty()) {
    return {StoreKind::helper, *helper, "credHelpers"};
  }
  if (auto helper = config.creds_store(); !helper.empty()) {
    return {StoreKind::helper, helper, "credsStore"};
  }
  if (default_helper && config.has_no_auth_settings()) {
    return {StoreKind::helper, *default_helper, "default"};
  }
  return {StoreKind::file, "", "file"};
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

Result<std::map<std::string, Credentials>> parse_auth_config_env(std::string_view value) {
  auto fail = [](const std::string& why) {
    return make_error(ErrorKind::config, "DOCKER_AUTH_CONFIG: " + why);
  };
  auto json = nlohmann::json::parse(value.begin(), value.end(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return fail("not a JSON object");
  }
  std::map<std::string, Credentials> entries;
  for (const auto& [field, content] : json.items()) {
    if (field != "auths") {
      return fail("unknown field \"" + field + "\"");
    }
    if (!content.is_object()) {
      return fail("\"auths\" is not an object");
    }
    for (const auto& [server, entry] : content.items()) {
      if (!entry.is_object()) {
        return fail("entry \"" + server + "\" is not an object");
      }
      for (const auto& [name, unused] : entry.items()) {
        if (name != "auth") {
          return fail("entry \"" + server + "\": unknown field \"" + name + "\"");
        }
      }
      auto key = config::normalize_registry_key(server);
      if (!key) {
        return fail(key.error().message);
      }
      auto decoded = decode_auth_entry(config::Json::parse(entry.dump()), *key);
      if (!decoded) {
        return fail(decoded.error().message);
      }
      if (*decoded) {
        entries[*key] = **decoded;
      }
    }
  }
  return entries;
}

Keychain::Keychain(KeychainOptions options, ProcessRunner& runner)
    : m_options(std::move(options)), m_runner(runner) {}

Result<config::ConfigFile> Keychain::load() {
  auto loaded = config::load_config(m_options.config_path);
  if (!loaded) {
    return loaded.error();
  }
  return std::move(loaded->config);
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
  return std::make_unique<FileStore>(m_options.config_path, m_options.save, m_options.key_style);
}

Result<StoreChoice> Keychain::choice_for(const std::string& key) {
  auto config = load();
  if (!config) {
    return config.error();
  }
  return choice_in(*config, key);
}

StoreChoice Keychain::choice_in(const config::ConfigFile& config, const std::string& key) {
  if (auth_file()) {
    // credHelpers are named by registry host only (containers-auth.json(5)).
    auto registry = config::normalize_registry_key(helper_key(key));
    return choose_store(config, registry ? *registry : helper_key(key), std::nullopt);
  }
  return choose_store(config, key, default_helper());
}

Result<std::optional<FoundCredentials>> Keychain::get(const std::string& key) {
  if (m_options.auth_config_env && !auth_file()) {
    auto entries = parse_auth_config_env(*m_options.auth_config_env);
    if (!entries) {
      return entries.error();
    }
    if (auto it = entries->find(key); it != entries->end()) {
      return std::optional<FoundCredentials>(
          FoundCredentials{it->second, k_env_source, false, std::nullopt, {}});
    }
  }
  auto config = load();
  if (!config) {
    return config.error();
  }
  auto choice = choice_in(*config, key);
  if (choice.kind == StoreKind::helper && is_cloud_helper(choice.helper) &&
      !on_path("docker-credential-" + choice.helper, m_options.search_path) &&
      config->identity_enabled()) {
    // What AWS's and Google's docs tell users to write, on a machine without their helper: the
    // built-in source for the registry serves instead of failing with "helper not found".
    bool served = std::any_of(m_options.identity_sources.begin(), m_options.identity_sources.end(),
                              [&](const auto& source) { return source->serves(key); });
    if (served) {
      auto found = ask_identity_sources(key);
      if (!found) {
        return found.error();
      }
      if (!*found) {
        return make_error(ErrorKind::helper,
                          "docker-credential-" + choice.helper + " (" + choice.origin +
                              ") is not installed, and this machine has no identity that "
                              "regauth's built-in source could use for " +
                              key);
      }
      (*found)->warnings.push_back("docker-credential-" + choice.helper + " (" + choice.origin +
                                   ") is not installed: using regauth's built-in identity "
                                   "source, " +
                                   (*found)->source);
      return found;
    }
  }
  auto store = open(choice);
  auto found = store->get(choice.kind == StoreKind::helper ? helper_key(key) : key);
  if (!found) {
    return found.error();
  }
  if (*found) {
    return std::optional<FoundCredentials>(
        FoundCredentials{std::move(**found), store->description(), false, std::nullopt, {}});
  }
  // Stored credentials always win; the machine's identity answers only when none are stored.
  if (!config->identity_enabled()) {
    return std::optional<FoundCredentials>();
  }
  return ask_identity_sources(key);
}

Result<std::optional<FoundCredentials>> Keychain::get_from_identity(const std::string& key) {
  auto config = load();
  if (!config) {
    return config.error();
  }
  if (!config->identity_enabled()) {
    return std::optional<FoundCredentials>();
  }
  return ask_identity_sources(key);
}

Result<std::optional<FoundCredentials>> Keychain::ask_identity_sources(const std::string& key) {
  for (const auto& source : m_options.identity_sources) {
    if (!source->serves(key)) {
      continue;
    }
    auto found = source->get(key);
    if (!found) {
      return found.error();
    }
    if (*found) {
      FoundCredentials result{std::move((*found)->credentials),
                              std::move((*found)->description),
                              true,
                              (*found)->expires_at,
                              {}};
      return std::optional<FoundCredentials>(std::move(result));
    }
  }
  return std::optional<FoundCredentials>();
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
        if (choice->origin == "default") {
          config.set_creds_store(choice->helper);
        }
        return true;
      },
      m_options.save);
  if (!saved) {
    return saved.error().with_context("credentials were stored in " + outcome.store +
                                      " but config.json could not be updated");
  }
  outcome.warnings.insert(outcome.warnings.end(), saved->warnings.begin(), saved->warnings.end());
  return outcome;
}

Result<EraseOutcome> Keychain::erase(const std::string& key, bool dry_run) {
  // One read decides everything; the file is only locked and rewritten when it holds the key.
  auto config = load();
  if (!config) {
    return config.error();
  }
  auto choice = choice_in(*config, key);
  EraseOutcome outcome;
  // auth.json: a namespace key has no helper entry of its own (helpers know registries).
  if (choice.kind == StoreKind::helper && helper_key(key) == key) {
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
  auto stored_keys =
      auth_file() ? config->matching_auth_file_keys(key) : config->matching_auth_keys(key);
  if (stored_keys.empty()) {
    return outcome;
  }
  // A `{}` placeholder is not a login; an entry that does not decode is reported as removed.
  bool held_secret = std::any_of(stored_keys.begin(), stored_keys.end(), [&](const auto& stored) {
    return holds_credentials(*config->auth_entry(stored));
  });
  if (!dry_run) {
    auto saved = config::update_config(
        m_options.config_path,
        [&](config::ConfigFile& latest) -> Result<bool> {
          bool removed = false;
          for (const auto& stored :
               auth_file() ? latest.matching_auth_file_keys(key) : latest.matching_auth_keys(key)) {
            removed = latest.erase_auth_entry(stored) || removed;
          }
          return removed;
        },
        m_options.save);
    if (!saved) {
      return saved.error();
    }
    outcome.warnings = std::move(saved->warnings);
  }
  if (held_secret) {
    outcome.removed_from.push_back(m_options.config_path.string());
  }
  return outcome;
}

Result<Listing> Keychain::list() {
  auto config = load();
  if (!config) {
    return config.error();
  }
  Listing listing;
  listing.warnings = config::describe_duplicate_keys(*config, m_options.config_path);
  std::set<std::pair<std::string, std::string>> seen;
  auto add = [&](const std::string& key, const std::string& store, const std::string& user) {
    auto normalized =
        auth_file() ? config::normalize_auth_file_key(key) : config::normalize_registry_key(key);
    std::string shown = normalized ? *normalized : key;
    if (seen.emplace(shown, store).second) {
      listing.registries.push_back({shown, store, user});
    }
  };
  // The config is read once: its inline entries come from the copy loaded above.
  FileStore file(m_options.config_path, m_options.save, m_options.key_style);
  for (const auto& [key, user] : list_inline_entries(*config)) {
    add(key, file.description(), user);
  }
  auto helper_store = choose_store(*config, "", default_helper());
  if (!config->creds_store().empty()) {
    helper_store = {StoreKind::helper, config->creds_store(), "credsStore"};
  }
  if (helper_store.kind == StoreKind::helper && helper_store.origin != "default") {
    auto helper = open(helper_store);
    if (auto entries = helper->list(); entries) {
      for (const auto& [key, user] : *entries) {
        add(key, helper->description(), user);
      }
    } else {
      listing.warnings.push_back(entries.error().message);
    }
  }
  for (const auto& [key, name] : config->cred_helpers()) {
    auto helper = open({StoreKind::helper, name, "credHelpers"});
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
  if (m_options.auth_config_env && !auth_file()) {
    if (auto entries = parse_auth_config_env(*m_options.auth_config_env); entries) {
      for (const auto& [key, credentials] : *entries) {
        add(key, k_env_source, credentials.username);
      }
    } else {
      listing.warnings.push_back(entries.error().message);
    }
  }
  // What the machine's identity would serve: nothing is fetched, no secret is shown.
  if (config->identity_enabled()) {
    for (const auto& source : m_options.identity_sources) {
      for (const auto& registry : source->configured_registries()) {
        listing.registries.push_back({registry, "identity " + source->name(), "", true});
      }
    }
  }
  return listing;
}

} // namespace regauth::credentials
