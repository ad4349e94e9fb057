// The `auths` entry format of config.json: base64 `auth` of "user:password", legacy
// `username`/`password`, `identitytoken`, `registrytoken`. Pure functions.
#pragma once

#include "regauth/config/config_file.hpp"
#include "regauth/credentials/credentials.hpp"
#include "regauth/result.hpp"

#include <optional>
#include <string_view>

namespace regauth::credentials {

// Decodes an entry. nullopt for an entry without any credentials (the `{}` placeholder the
// Docker CLI writes when a helper holds the secret). Fails (config) on bad base64, a missing
// colon or an empty username, naming `key` and never the secret.
Result<std::optional<Credentials>> decode_auth_entry(const config::Json& entry,
                                                     std::string_view key);

// True when decode_auth_entry would return credentials or fail: the entry has a non-empty
// `auth`, `username`, `password`, `identitytoken` or `registrytoken`. Decodes nothing.
bool holds_credentials(const config::Json& entry);

// Returns `entry` updated to hold `credentials` as the Docker CLI writes them: `auth`, and
// `identitytoken`/`registrytoken` when set; legacy `username`/`password` removed; every other
// field kept in place.
config::Json encode_auth_entry(config::Json entry, const Credentials& credentials);

} // namespace regauth::credentials
