#include "regauth/credentials/credential_layers.hpp"

#include "regauth/config/config_file.hpp"
#include "regauth/config/registry_key.hpp"
#include "regauth/credentials/auth_entry.hpp"

#include <algorithm>

namespace regauth::credentials {
namespace {

constexpr const char* k_env_source = "DOCKER_AUTH_CONFIG";

} // namespace

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

Result<const std::map<std::string, Credentials>*> MemoryLayer::entries() {
  if (!m_entries) {
    auto parsed = parse_auth_config_env(m_value);
    if (!parsed) {
      return parsed.error();
    }
    m_entries = std::move(*parsed);
  }
  return &*m_entries;
}

Result<std::optional<FoundCredentials>> MemoryLayer::get(const std::string& key) {
  auto held = entries();
  if (!held) {
    return held.error();
  }
  if (auto it = (*held)->find(key); it != (*held)->end()) {
    return std::optional<FoundCredentials>(
        FoundCredentials{it->second, k_env_source, false, std::nullopt, {}});
  }
  return std::optional<FoundCredentials>();
}

void MemoryLayer::list(Listing& listing) {
  auto held = entries();
  if (!held) {
    listing.warnings.push_back(held.error().message);
    return;
  }
  for (const auto& [key, credentials] : **held) {
    listing.registries.push_back({key, k_env_source, credentials.username, false, true});
  }
}

Result<std::optional<FoundCredentials>> StoreLayer::get(const std::string& /*key*/) {
  auto found = m_store->get(m_store_key);
  if (!found) {
    return found.error();
  }
  if (!*found) {
    return std::optional<FoundCredentials>();
  }
  return std::optional<FoundCredentials>(
      FoundCredentials{std::move(**found), m_store->description(), false, std::nullopt, {}});
}

void StoreLayer::list(Listing& listing) {
  auto entries = m_store->list();
  if (!entries) {
    listing.warnings.push_back(entries.error().message);
    return;
  }
  for (const auto& [key, user] : *entries) {
    listing.registries.push_back({key, m_store->description(), user});
  }
}

bool IdentityLayer::serves(const std::string& key) const {
  return std::any_of(m_sources.begin(), m_sources.end(),
                     [&](const auto& source) { return source->serves(key); });
}

Result<std::optional<FoundCredentials>> IdentityLayer::get(const std::string& key) {
  std::optional<FoundCredentials> answer;
  for (const auto& source : m_sources) {
    if (!source->serves(key)) {
      continue;
    }
    auto found = source->get(key);
    if (!found) {
      return found.error();
    }
    if (*found) {
      answer = FoundCredentials{std::move((*found)->credentials),
                                std::move((*found)->description),
                                true,
                                (*found)->expires_at,
                                {}};
      break;
    }
  }
  if (m_substitute) {
    // What AWS's and Google's docs tell users to write, on a machine without their helper: the
    // built-in source for the registry serves instead of failing with "helper not found".
    const auto& [helper, origin] = *m_substitute;
    if (!answer) {
      return make_error(ErrorKind::helper, "docker-credential-" + helper + " (" + origin +
                                               ") is not installed, and this machine has no "
                                               "identity that regauth's built-in source could "
                                               "use for " +
                                               key);
    }
    answer->warnings.push_back("docker-credential-" + helper + " (" + origin +
                               ") is not installed: using regauth's built-in identity source, " +
                               answer->source);
  }
  return answer;
}

void IdentityLayer::list(Listing& listing) {
  // What the machine's identity would serve: nothing is fetched, no secret is shown.
  for (const auto& source : m_sources) {
    for (const auto& registry : source->configured_registries()) {
      listing.registries.push_back({registry, "identity " + source->name(), "", true});
    }
  }
}

Result<std::optional<FoundCredentials>>
get_from_layers(const std::vector<std::unique_ptr<CredentialLayer>>& layers,
                const std::string& key) {
  for (const auto& layer : layers) {
    auto found = layer->get(key);
    if (!found || *found) {
      return found;
    }
  }
  return std::optional<FoundCredentials>();
}

} // namespace regauth::credentials
