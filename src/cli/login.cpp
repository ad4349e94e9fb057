#include "regauth/auth/authenticator.hpp"
#include "regauth/cli/commands.hpp"
#include "regauth/cli/terminal.hpp"
#include "regauth/config/registry_key.hpp"
#include "regauth/http/url.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <ostream>

namespace regauth::cli {
namespace {

constexpr const char* k_plaintext_warning =
    "WARNING! Your credentials are stored unencrypted in '%s'.\n"
    "Configure a credential helper to remove this warning. See\n"
    "https://docs.docker.com/go/credential-store/\n";

void print_plaintext_warning(std::ostream& err, const std::string& path) {
  std::string text = k_plaintext_warning;
  text.replace(text.find("%s"), 2, path);
  err << text;
}

// Gathers the credentials the user gave, prompting at a terminal for what is missing.
Result<credentials::Credentials> gather(const LoginOptions& options, Context& context,
                                        const std::string& shown_server) {
  credentials::Credentials given;
  if (options.password_stdin) {
    if (options.password) {
      return make_error(ErrorKind::usage, "--password and --password-stdin are mutually exclusive");
    }
    if (!options.username || options.username->empty()) {
      return make_error(ErrorKind::usage, "--password-stdin needs --username");
    }
    auto secret = read_secret_from_stdin();
    if (!secret) {
      return secret.error();
    }
    given.username = *options.username;
    given.password = std::move(*secret);
    return given;
  }
  if (options.password) {
    context.err << "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n";
    if (options.password->empty()) {
      return make_error(ErrorKind::usage, "the password is empty");
    }
  }
  given.username = options.username.value_or("");
  given.password = options.password.value_or("");
  if (!given.username.empty() && !given.password.empty()) {
    return given;
  }
  if (!stdin_is_terminal()) {
    return make_error(ErrorKind::usage, "no credentials for " + shown_server +
                                            " and no terminal to ask for them: pass --username and "
                                            "--password-stdin");
  }
  if (given.username.empty()) {
    auto username = prompt_line("Username: ", false, context.err);
    if (!username) {
      return username.error();
    }
    given.username = *username;
    if (given.username.empty()) {
      return make_error(ErrorKind::usage, "the username is empty");
    }
  }
  if (given.password.empty()) {
    auto password = prompt_line("Password: ", true, context.err);
    if (!password) {
      return password.error();
    }
    given.password = *password;
    if (given.password.empty()) {
      return make_error(ErrorKind::usage, "the password is empty");
    }
  }
  return given;
}

} // namespace

int run_login(const LoginOptions& options, Context& context) {
  auto key = config::normalize_registry_key(options.server);
  if (!key) {
    return report(context, key.error());
  }
  std::string host = config::registry_host_for_key(*key);
  if (options.username && options.username->find(':') != std::string::npos) {
    return report(context, make_error(ErrorKind::usage,
                                      "the username must not contain ':' (the Docker config "
                                      "format cannot store it)"));
  }
  // libcurl loads meanwhile, but never while a prompt has the terminal's echo off: a library
  // that fails to load ends the process from that thread.
  bool may_prompt = !options.password && !options.password_stdin;
  std::jthread warm_up;
  if (!may_prompt) {
    warm_up = warm_up_http(context.services);
  }
  if (std::getenv("DOCKER_AUTH_CONFIG")) {
    context.err << "Notice: DOCKER_AUTH_CONFIG is set: its credentials take precedence over "
                   "config.json and credential helpers when reading\n";
  }
  auto keychain = context.keychain();
  if (!keychain) {
    return report(context, keychain.error());
  }
  // Fail on a broken config before talking to the registry or reading a password.
  if (auto choice = keychain->choice_for(*key); !choice) {
    return report(context, choice.error());
  }
  credentials::Credentials chosen;
  bool reused = false;
  std::optional<std::string> identity; // set when the machine's identity supplied them
  if (!options.username && !options.password && !options.password_stdin) {
    auto stored = keychain->get(*key);
    if (!stored) {
      return report(context, stored.error());
    }
    if (*stored) {
      for (const auto& warning : (*stored)->warnings) {
        context.warn(warning);
      }
      chosen = (*stored)->credentials;
      reused = true;
      if ((*stored)->from_identity) {
        identity = (*stored)->source;
        context.err << "Authenticating with " << *identity << "...\n";
      } else {
        context.err << "Authenticating with existing credentials from " << (*stored)->source
                    << "...\n";
      }
    }
  }
  if (!reused) {
    auto given = gather(options, context, *key);
    if (!given) {
      return report(context, given.error());
    }
    chosen = std::move(*given);
  }
  if (!warm_up.joinable()) {
    warm_up = warm_up_http(context.services);
  }
  auto transport = context.transport();
  auto client = context.services.make_http_client(transport);
  auth::AuthOptions auth_options;
  auth_options.trusted_realms = context.global.trusted_realms;
  auto url = http::parse_url("https://" + host + "/");
  auth_options.may_use_http = url && http::allows_insecure(transport, *url);
  auth_options.http_first = url && http::prefers_plain_http(transport, *url);
  auth::Authenticator authenticator(*client, host, chosen, auth_options);
  auto proof = authenticator.login();
  if (!proof) {
    Error error = proof.error();
    if (error.kind == ErrorKind::unauthorized) {
      error.message = "logging in to " + *key + ": " + error.message;
    }
    if (reused && error.kind == ErrorKind::unauthorized) {
      error.message += " (the stored credentials were rejected: log in with --username)";
    }
    return report(context, error);
  }
  if (identity) {
    // Short-lived credentials from the machine's identity are proven, never stored: the next
    // command fetches fresh ones the same way.
    if (options.format == "json") {
      context.out << nlohmann::json{{"registry", *key},
                                    {"username", chosen.username},
                                    {"source", *identity},
                                    {"store", nullptr},
                                    {"verified", proof->verified}}
                         .dump()
                  << '\n';
    } else {
      context.out << "Login Succeeded (" << *identity << "; nothing stored)\n";
    }
    return 0;
  }
  if (!proof->verified) {
    context.warn(host + " asks for no authentication: the credentials were stored unverified");
  }
  credentials::Credentials to_store = chosen;
  if (!proof->refresh_token.empty()) {
    to_store.identity_token = proof->refresh_token;
    to_store.password.clear();
  }
  auto stored = keychain->store(*key, to_store);
  if (!stored) {
    return report(context, stored.error().with_context("saving credentials"));
  }
  for (const auto& warning : stored->warnings) {
    context.warn(warning);
  }
  if (stored->plaintext) {
    print_plaintext_warning(context.err, stored->store);
  }
  if (options.format == "json") {
    nlohmann::json result = {{"registry", *key},
                             {"username", to_store.username},
                             {"store", stored->store},
                             {"verified", proof->verified},
                             {"identity_token", !to_store.identity_token.empty()}};
    context.out << result.dump() << '\n';
  } else {
    context.out << "Login Succeeded\n";
  }
  return 0;
}

} // namespace regauth::cli
