#include "regauth/auth/authenticator.hpp"
#include "regauth/cli/commands.hpp"
#include "regauth/cli/terminal.hpp"
#include "regauth/config/registry_key.hpp"
#include "regauth/http/url.hpp"
#include "regauth/registry/client_stack.hpp"

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
  text.replace(text.find("%s"), 2, escape_for_terminal(path));
  err << text;
}

// Gathers the credentials the user gave, prompting at a terminal for what is missing.
Result<credentials::Credentials> gather(const LoginOptions& options, Context& context,
                                        const std::string& shown_server) {
  credentials::Credentials given;
  if (options.identity_token_stdin) {
    if (options.password || options.password_stdin) {
      return make_error(ErrorKind::usage,
                        "--identity-token-stdin and --password/--password-stdin are mutually "
                        "exclusive");
    }
    auto token = read_secret_from_stdin();
    if (!token) {
      return token.error();
    }
    given.username = options.username.value_or("");
    given.identity_token = std::move(*token);
    return given;
  }
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
  // --format json: a failure is also an object on stdout, with the same exit code.
  std::string shown_registry = options.server;
  auto fail = [&](const Error& error) {
    if (options.format == "json") {
      nlohmann::json object = {{"registry", shown_registry},
                               {"error",
                                {{"kind", to_string(error.kind)},
                                 {"message", error.message},
                                 {"exit_code", exit_code_for(error.kind)}}}};
      if (!error.hint.empty()) {
        object["error"]["hint"] = error.hint;
      }
      context.out << json_line(object) << '\n';
    }
    return report(context, error);
  };
  auto key = context.registry_key(options.server);
  if (!key) {
    return fail(key.error());
  }
  shown_registry = *key;
  std::string host = context.registry_host(*key);
  if (options.username && options.username->find(':') != std::string::npos) {
    return fail(make_error(ErrorKind::usage, "the username must not contain ':' (the Docker config "
                                             "format cannot store it)"));
  }
  // libcurl loads meanwhile, but never while a prompt has the terminal's echo off: a library
  // that fails to load ends the process from that thread.
  bool may_prompt = !options.password && !options.password_stdin && !options.identity_token_stdin;
  std::jthread warm_up;
  if (!may_prompt) {
    warm_up = warm_up_http(context.services);
  }
  if (std::getenv("DOCKER_AUTH_CONFIG") && !context.auth_file()) {
    context.err << "Notice: DOCKER_AUTH_CONFIG is set: its credentials take precedence over "
                   "config.json and credential helpers when reading\n";
  }
  auto keychain = context.keychain();
  if (!keychain) {
    return fail(keychain.error());
  }
  // Fail on a broken config before talking to the registry or reading a password.
  if (auto choice = keychain->choice_for(*key); !choice) {
    return fail(choice.error());
  }
  credentials::Credentials chosen;
  bool reused = false;
  std::optional<std::string> identity; // set when the machine's identity supplied them
  if (!options.username && !options.password && !options.password_stdin &&
      !options.identity_token_stdin) {
    auto stored = keychain->get(*key);
    if (!stored) {
      return fail(stored.error());
    }
    if (*stored) {
      for (const auto& warning : (*stored)->warnings) {
        context.warn(warning);
      }
      chosen = (*stored)->credentials;
      reused = true;
      if ((*stored)->from_identity) {
        identity = (*stored)->source;
        context.err << "Authenticating with " << escape_for_terminal(*identity) << "...\n";
      } else {
        context.err << "Authenticating with existing credentials from "
                    << escape_for_terminal((*stored)->source) << "...\n";
      }
    }
  }
  if (!reused) {
    auto given = gather(options, context, *key);
    if (!given) {
      return fail(given.error());
    }
    chosen = std::move(*given);
  }
  if (!warm_up.joinable()) {
    warm_up = warm_up_http(context.services);
  }
  auto transport = context.transport_for(host);
  if (!transport) {
    return fail(transport.error());
  }
  auto session = registry::make_registry_session(
      [&context, options = *transport] { return context.services.make_http_client(options); }, host,
      chosen, context.auth_options(*transport, host));
  auto& authenticator = session->authenticator();
  auto proof = authenticator.login();
  if (proof && proof->verified) {
    // The challenge that the login just answered: the next push from this machine need not
    // ping (image::BlobInfoCache, where push keeps it too). Only ever a cache: no failure here
    // is the login's.
    image::BlobInfoCache cache(image::default_blob_info_cache_path());
    remember_challenge(cache, host, authenticator);
    cache.save();
  }
  if (!proof) {
    Error error = proof.error();
    std::string login_command =
        "regauth login " + (config::is_docker_hub_key(*key) ? "" : *key + " ");
    if (error.kind == ErrorKind::unauthorized) {
      error.message = "logging in to " + *key + ": " + error.message;
      error.hint = "check the username and password, then run '" + login_command +
                   "-u USERNAME --password-stdin'";
    }
    if (!chosen.identity_token.empty() && authenticator.challenge() &&
        authenticator.challenge()->scheme == "basic") {
      error = make_error(ErrorKind::usage,
                         "logging in to " + *key +
                             ": the registry uses Basic authentication, where an identity token "
                             "cannot log in")
                  .with_hint("log in with a username and password: " + login_command +
                             "-u USERNAME --password-stdin");
    } else if (!chosen.identity_token.empty() && error.kind == ErrorKind::unauthorized) {
      error.hint = "the identity token was refused: get a fresh one, or log in with a username "
                   "and password";
    }
    if (reused && error.kind == ErrorKind::unauthorized) {
      error.message += " (the stored credentials were rejected: log in with --username)";
    }
    if (error.kind == ErrorKind::protocol) {
      error.message += "; nothing was stored";
    }
    return fail(error);
  }
  if (identity) {
    // Short-lived credentials from the machine's identity are proven, never stored: the next
    // command fetches fresh ones the same way.
    if (options.format == "json") {
      context.out << json_line({{"registry", *key},
                                {"username", chosen.username},
                                {"source", *identity},
                                {"store", nullptr},
                                {"verified", proof->verified}})
                  << '\n';
    } else {
      context.out << "Login Succeeded (" << escape_for_terminal(*identity) << "; nothing stored)\n";
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
    return fail(stored.error().with_context("saving credentials"));
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
    context.out << json_line(result) << '\n';
  } else {
    context.out << "Login Succeeded\n";
  }
  return 0;
}

} // namespace regauth::cli
