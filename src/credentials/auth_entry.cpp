#include "regauth/credentials/auth_entry.hpp"

#include "regauth/util/base64.hpp"

#include <algorithm>
#include <iterator>
#include <string_view>

namespace regauth::credentials {
namespace {

std::string_view string_field(const config::Json& entry, const char* name) {
  auto it = entry.find(name);
  return it != entry.end() && it->is_string() ? std::string_view(it->get_ref<const std::string&>())
                                              : std::string_view();
}

// Every field that carries a credential.
constexpr const char* k_credential_fields[] = {"auth", "username", "password", "identitytoken",
                                               "registrytoken"};

void set_or_erase(config::Json& entry, const char* name, const std::string& value) {
  if (value.empty()) {
    entry.erase(name);
  } else {
    entry[name] = value;
  }
}

} // namespace

Result<std::optional<Credentials>> decode_auth_entry(const config::Json& entry,
                                                     std::string_view key) {
  if (!entry.is_object()) {
    return std::optional<Credentials>();
  }
  Credentials credentials;
  std::string_view auth = string_field(entry, "auth");
  if (!auth.empty()) {
    auto decoded = base64_decode(auth);
    auto fail = [&](const std::string& why) {
      return make_error(ErrorKind::config,
                        "credentials for \"" + std::string(key) + "\": \"auth\" " + why);
    };
    if (!decoded) {
      return fail("is not valid base64");
    }
    auto colon = decoded->find(':');
    if (colon == std::string::npos) {
      return fail("has no ':' between username and password");
    }
    credentials.username = decoded->substr(0, colon);
    credentials.password = decoded->substr(colon + 1);
    while (!credentials.password.empty() && credentials.password.back() == '\0') {
      credentials.password.pop_back();
    }
    if (credentials.username.empty()) {
      return fail("has an empty username");
    }
  } else {
    credentials.username = std::string(string_field(entry, "username"));
    credentials.password = std::string(string_field(entry, "password"));
  }
  credentials.identity_token = std::string(string_field(entry, "identitytoken"));
  credentials.registry_token = std::string(string_field(entry, "registrytoken"));
  if (credentials.empty()) {
    return std::optional<Credentials>();
  }
  return std::optional<Credentials>(std::move(credentials));
}

bool holds_credentials(const config::Json& entry) {
  return entry.is_object() &&
         std::any_of(std::begin(k_credential_fields), std::end(k_credential_fields),
                     [&](const char* name) { return !string_field(entry, name).empty(); });
}

config::Json encode_auth_entry(config::Json entry, const Credentials& credentials) {
  if (!entry.is_object()) {
    entry = config::Json::object();
  }
  std::string auth;
  if (!credentials.username.empty() || !credentials.password.empty()) {
    auth = encode_basic_auth(credentials.username,
                             credentials.identity_token.empty() ? credentials.password : "");
  }
  if (auth.empty()) {
    entry.erase("auth");
  } else {
    // Keep an existing `auth` in its place; a new one goes first, where Go's struct order has it.
    if (entry.contains("auth")) {
      entry["auth"] = auth;
    } else {
      config::Json rebuilt = config::Json::object();
      rebuilt["auth"] = auth;
      for (auto& [name, value] : entry.items()) {
        rebuilt[name] = std::move(value);
      }
      entry = std::move(rebuilt);
    }
  }
  entry.erase("username");
  entry.erase("password");
  set_or_erase(entry, "identitytoken", credentials.identity_token);
  set_or_erase(entry, "registrytoken", credentials.registry_token);
  return entry;
}

} // namespace regauth::credentials
