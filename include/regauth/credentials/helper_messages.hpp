// The docker-credential-helpers wire format: what goes to a helper's stdin and what comes
// back on its stdout. Pure functions over bytes.
#pragma once

#include "regauth/credentials/credentials.hpp"
#include "regauth/result.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace regauth::credentials {

// The helpers' text for an absent entry (exit status 1).
inline constexpr std::string_view k_not_found_message = "credentials not found in native keychain";

// The JSON that `store` reads: {"ServerURL","Username","Secret"}; an identity token is filed
// under the username "<token>".
std::string make_store_message(std::string_view server_url, const Credentials& credentials);

// True when a helper's output, trimmed, is the not-found text.
bool is_not_found_message(std::string_view output);

// Parses a successful `get` answer. nullopt when username and secret are both empty (Debian's
// docker-credential-pass 0.6 answers a missing entry that way). Fails (helper) unless the output
// is one JSON object with string fields.
Result<std::optional<Credentials>> parse_get_response(std::string_view output);

// Parses a `list` answer: one JSON object of server URL to username.
Result<std::map<std::string, std::string>> parse_list_response(std::string_view output);

// True when a server URL may be sent to a helper: no control bytes (a newline would let it
// smuggle a second line into line-based helpers) and not empty.
bool is_safe_server_url(std::string_view server_url);

// A helper's message made safe to show: control bytes dropped, trimmed, capped, and every
// occurrence of `secret` (when not empty) replaced by "[redacted]".
std::string sanitize_helper_message(std::string_view output, std::string_view secret = {});

} // namespace regauth::credentials
