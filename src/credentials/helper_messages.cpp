#include "regauth/credentials/helper_messages.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace regauth::credentials {
namespace {

constexpr std::size_t k_max_message = 400;

std::string_view trim(std::string_view text) {
  const char* space = " \t\r\n";
  auto first = text.find_first_not_of(space);
  if (first == std::string_view::npos) {
    return {};
  }
  auto last = text.find_last_not_of(space);
  return text.substr(first, last - first + 1);
}

Result<nlohmann::json> parse_object(std::string_view output, const char* what) {
  auto json = nlohmann::json::parse(output.begin(), output.end(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return make_error(ErrorKind::helper,
                      std::string("the answer to '") + what + "' is not a JSON object");
  }
  return json;
}

} // namespace

std::string make_store_message(std::string_view server_url, const Credentials& credentials) {
  nlohmann::json message;
  message["ServerURL"] = server_url;
  if (!credentials.identity_token.empty()) {
    message["Username"] = k_token_username;
    message["Secret"] = credentials.identity_token;
  } else {
    message["Username"] = credentials.username;
    message["Secret"] = credentials.password;
  }
  // Invalid UTF-8 (a Latin-1 password) becomes U+FFFD as Go's encoding/json writes it, instead
  // of nlohmann's exception.
  return message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool is_not_found_message(std::string_view output) { return trim(output) == k_not_found_message; }

Result<std::optional<Credentials>> parse_get_response(std::string_view output) {
  auto json = parse_object(output, "get");
  if (!json) {
    return json.error();
  }
  Credentials credentials;
  for (const auto& [name, target] :
       {std::pair<const char*, std::string*>{"Username", &credentials.username},
        std::pair<const char*, std::string*>{"Secret", &credentials.password}}) {
    auto it = json->find(name);
    if (it == json->end() || it->is_null()) {
      continue;
    }
    if (!it->is_string()) {
      return make_error(ErrorKind::helper,
                        std::string("the answer to 'get' has a non-string \"") + name + "\"");
    }
    *target = it->get<std::string>();
  }
  if (credentials.username.empty() && credentials.password.empty()) {
    return std::optional<Credentials>();
  }
  if (credentials.username == k_token_username) {
    credentials.identity_token = std::move(credentials.password);
    credentials.password.clear();
    credentials.username.clear();
  }
  return std::optional<Credentials>(std::move(credentials));
}

Result<std::map<std::string, std::string>> parse_list_response(std::string_view output) {
  auto json = parse_object(output, "list");
  if (!json) {
    return json.error();
  }
  std::map<std::string, std::string> entries;
  for (const auto& [url, username] : json->items()) {
    if (!username.is_string()) {
      return make_error(ErrorKind::helper,
                        "the answer to 'list' has a non-string username for \"" + url + "\"");
    }
    entries.emplace(url, username.get<std::string>());
  }
  return entries;
}

bool is_safe_server_url(std::string_view server_url) {
  return !server_url.empty() && std::none_of(server_url.begin(), server_url.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

namespace {

std::string strip_controls(std::string_view text) {
  std::string clean;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '\n' || c == '\t') {
      clean += ' ';
    } else if (byte >= 0x20 && byte != 0x7f) {
      clean += c;
    }
  }
  return clean;
}

void redact(std::string& text, std::string_view secret) {
  if (secret.empty()) {
    return;
  }
  for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
    text.replace(at, secret.size(), "[redacted]");
    at += 10;
  }
}

} // namespace

std::string sanitize_helper_message(std::string_view output, std::string_view secret) {
  // Control bytes go first, from the text and from the secret alike, so that a secret split by
  // control bytes is whole again when it is looked for.
  std::string clean = strip_controls(trim(output));
  redact(clean, strip_controls(secret));
  if (clean.size() > k_max_message) {
    clean.resize(k_max_message);
    clean += "...";
  }
  return clean;
}

} // namespace regauth::credentials
