// regauth as a docker-credential-helpers program: `docker-credential-regauth VERB` (a symlink to
// regauth) or `regauth credential-helper VERB`, so that Docker, buildx and podman reach
// regauth's identity sources through `"credHelpers": {"<host>": "regauth"}`.
//
// The protocol, as the reference helpers speak it (docker/docker-credential-helpers
// credentials/credentials.go):
//   1. exactly one argument, the verb; anything else prints the usage on stdout, exit 1;
//   2. get: stdin is the server URL (no newline from the reference client; whitespace trimmed),
//      stdout `{"ServerURL","Username","Secret"}`; unknown: "credentials not found in native
//      keychain", exit 1;
//   3. store: stdin `{"ServerURL","Username","Secret"}`; erase: stdin the server URL; list:
//      stdout `{serverURL: username}`; version: one line;
//   4. every error is one line on stdout, exit 1 (clients parse stdout, not stderr).
// `get` answers from the identity sources first (asked once), then from regauth's stores; store,
// erase and list act on regauth's stores. A config that names `regauth` as the helper of a
// registry makes the Keychain use regauth's own file store for it, never this program (see
// keychain.cpp).
//
// What reaches a terminal: the reference client (client/client.go) compares the trimmed error
// line with three fixed messages ("credentials not found in native keychain", "no credentials
// server URL", "no credentials username") and otherwise wraps it, verbatim, in an error the
// Docker CLI prints. So every error line goes through escape_for_terminal, always: the fixed
// messages are plain ASCII and come out byte for byte, and a hostile server URL or registry
// message cannot drive the user's terminal through Docker's either. The JSON answers (get,
// list) are data: byte for byte as before when stdout is a pipe; on a terminal everything
// outside ASCII is written as \uXXXX (the same JSON values, no bidi control shown raw).
#include "regauth/cli/commands.hpp"
#include "regauth/config/registry_key.hpp"
#include "regauth/util/terminal_text.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <ostream>
#include <unistd.h>

namespace regauth::cli {
namespace {

constexpr const char* k_not_found = "credentials not found in native keychain";
constexpr const char* k_version = "0.1.0";
constexpr const char* k_usage = "Usage: docker-credential-regauth <store|get|erase|list|version>";
constexpr std::size_t k_max_input = 1024 * 1024;
// The longest error line, as report() caps its messages.
constexpr std::size_t k_max_error_line = 2000;

Result<std::string> read_stdin() {
  std::string data;
  char buffer[4096];
  while (true) {
    ssize_t got = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      return make_error(ErrorKind::io, std::string("reading stdin: ") + std::strerror(errno));
    }
    if (got == 0) {
      return data;
    }
    data.append(buffer, static_cast<std::size_t>(got));
    if (data.size() > k_max_input) {
      return make_error(ErrorKind::usage, "the input on stdin is larger than 1 MiB");
    }
  }
}

std::string trim(std::string_view text) {
  const char* space = " \t\r\n";
  auto first = text.find_first_not_of(space);
  if (first == std::string_view::npos) {
    return "";
  }
  auto last = text.find_last_not_of(space);
  return std::string(text.substr(first, last - first + 1));
}

// One error line on stdout and exit 1, as the reference helpers do; escaped for the terminal
// the Docker CLI shows it on (the messages clients compare are plain ASCII: unchanged).
int fail(Context& context, const std::string& message) {
  context.out << escape_for_terminal(message, k_max_error_line) << '\n';
  return 1;
}

// A JSON answer: as the reference helpers write it for a client; ASCII only on a terminal.
void answer_with(Context& context, const nlohmann::json& answer) {
  if (::isatty(STDOUT_FILENO) == 1) {
    context.out << json_line(answer) << '\n';
    return;
  }
  context.out << answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

Result<std::string> key_of(const std::string& server) {
  if (server.empty()) {
    return make_error(ErrorKind::usage, "no credentials server URL");
  }
  return config::normalize_registry_key(server);
}

int get(Context& context, credentials::Keychain& keychain) {
  auto input = read_stdin();
  if (!input) {
    return fail(context, input.error().message);
  }
  std::string server = trim(*input);
  auto key = key_of(server);
  if (!key) {
    return fail(context, key.error().message);
  }
  // The machine's identity first: the reason to name regauth as a helper. Asked once: when it
  // has nothing, the stores are asked through a Keychain without identity sources (the
  // Keychain's own get would ask them again after the stores).
  auto found = keychain.get_from_identity(*key);
  if (found && !*found) {
    Context stores_only = context;
    stores_only.global.no_identity = true;
    auto stores = stores_only.keychain();
    if (!stores) {
      return fail(context, stores.error().message);
    }
    found = stores->get(*key);
  }
  if (!found) {
    return fail(context, found.error().message);
  }
  if (!*found) {
    return fail(context, k_not_found);
  }
  for (const auto& warning : (*found)->warnings) {
    context.warn(warning); // stderr: the client passes it through to the user
  }
  const auto& credentials = (*found)->credentials;
  nlohmann::json answer = {{"ServerURL", server}};
  if (!credentials.identity_token.empty()) {
    answer["Username"] = credentials::k_token_username;
    answer["Secret"] = credentials.identity_token;
  } else {
    answer["Username"] = credentials.username;
    answer["Secret"] =
        credentials.password.empty() ? credentials.registry_token : credentials.password;
  }
  answer_with(context, answer);
  return 0;
}

int store(Context& context, credentials::Keychain& keychain) {
  auto input = read_stdin();
  if (!input) {
    return fail(context, input.error().message);
  }
  auto json = nlohmann::json::parse(*input, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return fail(context, "the credentials on stdin are not a JSON object");
  }
  auto field = [&](const char* name) -> std::string {
    auto it = json.find(name);
    return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto key = key_of(field("ServerURL"));
  if (!key) {
    return fail(context, key.error().message);
  }
  credentials::Credentials given;
  given.username = field("Username");
  if (given.username.empty()) {
    return fail(context, "no credentials username");
  }
  if (given.username == credentials::k_token_username) {
    given.username.clear();
    given.identity_token = field("Secret");
  } else {
    given.password = field("Secret");
  }
  // Docker stores again what a login without -u proved, which for regauth is the machine's
  // identity: short-lived, never written anywhere. Storing exactly those is a no-op.
  if (auto identity = keychain.get_from_identity(*key); identity && *identity) {
    const auto& held = (*identity)->credentials;
    if (held.username == given.username && !given.password.empty() &&
        held.password == given.password) {
      return 0;
    }
  }
  auto stored = keychain.store(*key, given);
  if (!stored) {
    return fail(context, stored.error().message);
  }
  for (const auto& warning : stored->warnings) {
    context.warn(warning);
  }
  return 0;
}

int erase(Context& context, credentials::Keychain& keychain) {
  auto input = read_stdin();
  if (!input) {
    return fail(context, input.error().message);
  }
  auto key = key_of(trim(*input));
  if (!key) {
    return fail(context, key.error().message);
  }
  auto erased = keychain.erase(*key);
  if (!erased) {
    return fail(context, erased.error().message);
  }
  if (erased->removed_from.empty()) {
    return fail(context, k_not_found);
  }
  return 0;
}

int list(Context& context, credentials::Keychain& keychain) {
  auto listing = keychain.list();
  if (!listing) {
    return fail(context, listing.error().message);
  }
  nlohmann::json answer = nlohmann::json::object();
  for (const auto& entry : listing->registries) {
    if (!entry.identity && !answer.contains(entry.key)) {
      answer[entry.key] = entry.username;
    }
  }
  answer_with(context, answer);
  return 0;
}

} // namespace

int run_credential_helper(const std::vector<std::string>& arguments, Context& context) {
  if (arguments.size() != 1) {
    return fail(context, k_usage);
  }
  const std::string& verb = arguments.front();
  if (verb == "version" || verb == "--version" || verb == "-v") {
    context.out << "docker-credential-regauth (regauth) " << k_version << '\n';
    return 0;
  }
  if (verb == "--help" || verb == "-h") {
    context.out << k_usage << '\n';
    return 0;
  }
  if (verb != "get" && verb != "store" && verb != "erase" && verb != "list") {
    return fail(context, "Unknown credential action `" + verb + "`");
  }
  auto keychain = context.keychain();
  if (!keychain) {
    return fail(context, keychain.error().message);
  }
  if (verb == "get") {
    return get(context, *keychain);
  }
  if (verb == "store") {
    return store(context, *keychain);
  }
  if (verb == "erase") {
    return erase(context, *keychain);
  }
  return list(context, *keychain);
}

} // namespace regauth::cli
