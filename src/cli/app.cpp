#include "regauth/cli/app.hpp"

#include "regauth/cli/commands.hpp"
#include "regauth/cli/context.hpp"
#include "regauth/cli/version.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <ostream>
#include <sstream>
#include <string_view>
#include <vector>

namespace regauth::cli {
namespace {

constexpr const char* k_exit_codes = R"(Exit codes:
  0  success
  1  internal error
  2  usage: bad flags or arguments
  3  config: config.json unreadable, malformed or unwritable
  4  credential helper failed
  5  unauthorized: no credentials, or the registry rejected them
  6  denied: authenticated but not allowed
  7  network or TLS failure, timeout, server error
  8  not found
  9  protocol: the server answered something unusable
  10 local file system error
  130 interrupted by SIGINT (push: open upload sessions cancelled first)
  143 interrupted by SIGTERM (the same)
See docs/exit-codes.md.)";

// One row per command: the table that registers them all.
struct Command {
  const char* name;
  const char* summary;
  std::function<void(CLI::App&, Context&, int&)> setup;
};

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t previous = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t current = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1)});
      previous = current;
    }
  }
  return row[b.size()];
}

// The command closest to a mistyped `word` (at most two edits away, or a prefix of it), or "".
std::string closest_command(const std::string& word, const std::vector<std::string>& names) {
  std::string best;
  std::size_t best_distance = 3;
  for (const auto& name : names) {
    std::size_t distance = edit_distance(word, name);
    if (distance < best_distance || (best.empty() && name.rfind(word, 0) == 0)) {
      best = name;
      best_distance = std::min(distance, best_distance);
    }
  }
  return best;
}

// One line for a word where a command should be: "unknown command 'lgin': did you mean ...".
std::string unknown_command_message(const std::string& word,
                                    const std::vector<std::string>& names) {
  std::string suggestion = closest_command(word, names);
  return "unknown command '" + word + "': " +
         (suggestion.empty() ? "run 'regauth help' for the list of commands"
                             : "did you mean '" + suggestion + "'?");
}

// The first word of argv where a command belongs, skipping global options and their values,
// when it is not a command; nullopt when there is none or it is one.
std::optional<std::string> unknown_command(CLI::App& app, int argc, char** argv,
                                           const std::vector<std::string>& names) {
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--") {
      return std::nullopt;
    }
    if (word.size() > 1 && word.front() == '-') {
      const CLI::Option* option = app.get_option_no_throw(word.substr(0, word.find('=')));
      if (option != nullptr && option->get_expected_min() > 0 &&
          word.find('=') == std::string::npos) {
        ++i; // its value
      }
      continue;
    }
    if (std::find(names.begin(), names.end(), word) != names.end()) {
      return std::nullopt;
    }
    return word;
  }
  return std::nullopt;
}

void add_format(CLI::App& command, std::string& format,
                const char* description = "Output format: json prints one JSON document") {
  command.add_option("--format", format, description)->check(CLI::IsMember({"json", "text"}));
}

// `regauth -v`: one line, no library loaded. `regauth --version`: that line, then each library
// regauth loads with dlopen, loaded for the occasion.
std::string short_version() { return "regauth " + std::string(version()); }

std::string long_version() {
  std::string text = short_version();
  for (const auto& [name, library_version] : library_versions()) {
    text += '\n' + name + ' ' + library_version;
  }
  return text;
}

std::vector<Command> commands() {
  return {
      {"login", "Log in to a registry",
       [](CLI::App& command, Context& context, int& code) {
         auto options = std::make_shared<LoginOptions>();
         command.add_option("server", options->server,
                            "Registry (default: Docker Hub), e.g. registry.example:5000");
         command.add_option("-u,--username", options->username, "Username");
         command.add_option(
             "-p,--password", options->password,
             "Password (insecure: visible to other processes; use --password-stdin)");
         command.add_flag("--password-stdin", options->password_stdin,
                          "Read the password from stdin (one trailing newline is removed)");
         command.add_flag("--identity-token-stdin", options->identity_token_stdin,
                          "Read an identity token (OAuth2 refresh token) from stdin and log in "
                          "with it; --username is optional");
         add_format(command, options->format);
         command.callback([options, &context, &code] { code = run_login(*options, context); });
       }},
      {"logout", "Log out from a registry",
       [](CLI::App& command, Context& context, int& code) {
         auto options = std::make_shared<LogoutOptions>();
         command.add_option("server", options->server, "Registry (default: Docker Hub)");
         command.add_flag("--all", options->all,
                          "Remove the credentials of every registry from every store");
         command.add_flag("--dry-run", options->dry_run,
                          "List the credentials that would be removed, and remove nothing");
         add_format(command, options->format);
         command.callback([options, &context, &code] { code = run_logout(*options, context); });
       }},
      {"push", "Push an image (OCI layout or docker-archive) to a registry, gated on push rights",
       [](CLI::App& command, Context& context, int& code) {
         auto options = std::make_shared<PushOptions>();
         command
             .add_option("source", options->source,
                         "oci:DIR[:TAG], docker-archive:FILE, a layout folder or a .tar")
             ->required();
         command.add_option("reference", options->reference, "[registry/]repository[:tag|@digest]")
             ->required();
         command.add_flag("--check", options->check,
                          "Only check that these credentials may push there, then stop");
         command.add_option(
             "-j,--jobs", options->jobs,
             "Blobs uploaded at once, 1 to 32 (default: one per small blob, up to 16)");
         command.add_option("--mount-from", options->mount_from,
                            "Try to mount blobs from this repository of the same registry");
         command.add_flag("-q,--quiet", options->quiet, "Print only the final line");
         command.add_option("--chunk-threshold", options->chunk_threshold_mib,
                            "Blobs larger than this many MiB go by resumable PATCH (default 512)");
         command
             .add_option("--chunk-size", options->chunk_size_mib,
                         "MiB per PATCH (default 0: the rest of the blob in one PATCH)")
             ->check(CLI::NonNegativeNumber);
         command.add_option("--creds", options->creds,
                            "USER (with --password-stdin) or USER:PASSWORD (insecure) for this "
                            "push only; stored nowhere");
         command.add_flag("--password-stdin", options->password_stdin,
                          "Read the password for --creds USER from stdin");
         command.add_option("--digestfile", options->digest_file,
                            "Write the digest of the pushed manifest to FILE");
         command.add_option("--compression", options->compression,
                            "Compress uncompressed layers with gzip (default), zstd or none");
         add_format(command, options->format,
                    "Output format: json prints one JSON object per line, one per event "
                    "(docs/json-events.md)");
         command.callback([options, &context, &code] { code = run_push(*options, context); });
       }},
      {"get", "Print the credentials for a registry as a credential helper's get does",
       [](CLI::App& command, Context& context, int& code) {
         auto options = std::make_shared<GetOptions>();
         command.add_option("server", options->server, "Registry (default: Docker Hub)");
         command.callback([options, &context, &code] { code = run_get(*options, context); });
       }},
      {"export", "Print a .dockerconfigjson (or a Kubernetes pull secret) for registries",
       [](CLI::App& command, Context& context, int& code) {
         auto options = std::make_shared<ExportOptions>();
         command.add_option("servers", options->servers, "Registries to export")->required();
         command.add_option("--k8s-secret", options->secret_name,
                            "Print a kubernetes.io/dockerconfigjson Secret named NAME");
         command.add_option("--namespace", options->k8s_namespace,
                            "Namespace of the Secret (with --k8s-secret)");
         command.add_option("-o,--output", options->output,
                            "Write to FILE (mode 0600, replaced atomically) instead of stdout");
         command.callback([options, &context, &code] { code = run_export(*options, context); });
       }},
      {"token", "Print a bearer token for a repository (pull, or pull,push with --push)",
       [](CLI::App& command, Context& context, int& code) {
         auto options = std::make_shared<TokenOptions>();
         command.add_option("reference", options->reference, "[registry/]repository")->required();
         command.add_flag("--push", options->push, "Ask for pull,push instead of pull");
         command.callback([options, &context, &code] { code = run_token(*options, context); });
       }},
      {"ls", "List the registries with stored credentials (never the secrets)",
       [](CLI::App& command, Context& context, int& code) {
         auto options = std::make_shared<LsOptions>();
         add_format(command, options->format);
         command.callback([options, &context, &code] { code = run_ls(*options, context); });
       }},
      {"credential-helper",
       "Speak the docker-credential-helpers protocol (get, store, erase, list, version)",
       [](CLI::App& command, Context& context, int& code) {
         // Everything after the command is the helper's argument list, flags included.
         command.fallthrough(false);
         command.prefix_command();
         command.callback([&command, &context, &code] {
           code = run_credential_helper(command.remaining(), context);
         });
       }},
      {"help", "Print the help of regauth, or of one command",
       [](CLI::App& command, Context& context, int& code) {
         auto topic = std::make_shared<std::string>();
         command.fallthrough(false); // `help push`: push is the topic, not the command
         command.add_option("command", *topic, "The command to explain");
         command.callback([topic, &command, &context, &code] {
           CLI::App& root = *command.get_parent();
           if (topic->empty()) {
             context.out << root.get_formatter()->make_help(&root, root.get_name(),
                                                            CLI::AppFormatMode::Normal);
             code = 0;
             return;
           }
           std::vector<std::string> names;
           for (CLI::App* sub : root.get_subcommands({})) {
             if (sub->get_name() == *topic) {
               context.out << sub->get_formatter()->make_help(sub, root.get_name() + " " + *topic,
                                                              CLI::AppFormatMode::Normal);
               code = 0;
               return;
             }
             names.push_back(sub->get_name());
           }
           code = report(context,
                         make_error(ErrorKind::usage, unknown_command_message(*topic, names)));
         });
       }},
  };
}

} // namespace

std::jthread warm_up_http(const Services& services) {
  if (!services.warm_up_http) {
    return {};
  }
  return std::jthread(services.warm_up_http);
}

int run(int argc, char** argv, Services& services, std::ostream& out, std::ostream& err) {
  Context context{GlobalOptions{}, services, out, err};
  // Called through a `docker-credential-regauth` symlink, regauth is a credential helper and
  // takes no flags of its own: the protocol owns the argument list.
  if (argc > 0 && std::filesystem::path(argv[0]).filename() == "docker-credential-regauth") {
    return run_credential_helper(std::vector<std::string>(argv + 1, argv + argc), context);
  }
  CLI::App app{"regauth: Docker-compatible registry credentials and gated image push", "regauth"};
  app.set_version_flag("-v", short_version, "Print the version and exit");
  app.add_flag_callback(
         "--version", [] { throw CLI::CallForVersion(long_version(), 0); },
         "Print the version and the versions of the libraries regauth loads, then exit")
      ->configurable(false);
  app.footer(k_exit_codes);
  app.require_subcommand(1);
  app.fallthrough();
  auto& global = context.global;
  app.add_option("--config", global.config_dir,
                 "Directory of config.json (default: $DOCKER_CONFIG, else ~/.docker)");
  app.add_option("--authfile", global.authfile,
                 "Read and write this containers auth.json instead of config.json (default: "
                 "$REGISTRY_AUTH_FILE when set)");
  app.add_flag("--debug", global.debug, "Print HTTP requests and responses (secrets redacted)");
  app.add_option("--insecure-registry", global.insecure_registries,
                 "Allow plain HTTP and unverified TLS for HOST[:PORT] (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--resolve", global.resolve,
                 "Pin HOST:PORT to ADDRESS, as curl's --resolve (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--certs-dir", global.certs_dirs,
                 "Extra certs.d-style directory: HOST[:PORT]/{ca.crt,client.cert,client.key}")
      ->allow_extra_args(false);
  app.add_option("--trust-realm", global.trusted_realms,
                 "Allow a token realm HOST outside the registry's domain (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--helper-timeout", global.helper_timeout_seconds,
                 "Seconds a credential helper may take (default 30)")
      ->check(CLI::PositiveNumber);
  app.add_option("--timeout", global.timeout_seconds,
                 "Seconds a request may take, except blob uploads, which may take as long as "
                 "bytes keep moving (default 60)")
      ->check(CLI::PositiveNumber);
  app.add_option("--lock-timeout", global.lock_timeout_seconds,
                 "Seconds to wait for the config.json lock (default 10)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--no-identity", global.no_identity,
               "Never use the machine's identity (cloud roles, CI job tokens) for credentials");
  int code = 0;
  std::vector<std::string> names;
  for (const auto& command : commands()) {
    CLI::App* sub = app.add_subcommand(command.name, command.summary);
    sub->footer(k_exit_codes);
    command.setup(*sub, context, code);
    names.emplace_back(command.name);
  }
  if (argc > 1 && std::string_view(argv[1]) == "__complete") {
    return run_complete(std::vector<std::string>(argv + 2, argv + argc), context, app);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    if (auto word = unknown_command(app, argc, argv, names)) {
      return report(context, make_error(ErrorKind::usage, unknown_command_message(*word, names)));
    }
    std::string message = e.what();
    std::string hint;
    if (argc > 1) {
      // Cheap "did you mean": the first word that is not a flag.
      for (int i = 1; i < argc; ++i) {
        std::string word = argv[i];
        if (word.empty() || word.front() == '-') {
          continue;
        }
        if (std::find(names.begin(), names.end(), word) != names.end()) {
          break;
        }
        for (const auto& name : names) {
          if (edit_distance(word, name) <= 2) {
            hint = "did you mean '" + name + "'?";
          }
        }
        break;
      }
    }
    err << "regauth: error: " << message << '\n';
    if (!hint.empty()) {
      err << "regauth: " << hint << '\n';
    }
    err << "Run 'regauth --help' for usage.\n";
    return exit_code_for(ErrorKind::usage);
  }
  return code;
}

} // namespace regauth::cli
