#include "regauth/cli/app.hpp"

#include "regauth/cli/commands.hpp"
#include "regauth/cli/context.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <ostream>
#include <sstream>
#include <vector>

namespace regauth::cli {
namespace {

constexpr const char* k_version = "regauth 0.1.0";

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

void add_format(CLI::App& command, std::string& format) {
  command.add_option("--format", format, "Output format: json prints one JSON document")
      ->check(CLI::IsMember({"json", "text"}));
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
         add_format(command, options->format);
         command.callback([options, &context, &code] { code = run_login(*options, context); });
       }},
      {"logout", "Log out from a registry",
       [](CLI::App& command, Context& context, int& code) {
         auto options = std::make_shared<LogoutOptions>();
         command.add_option("server", options->server, "Registry (default: Docker Hub)");
         command.add_flag("--all", options->all,
                          "Remove the credentials of every registry from every store");
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
         command.add_option("-j,--jobs", options->jobs, "Blobs uploaded at once (default 4)");
         command.add_option("--mount-from", options->mount_from,
                            "Try to mount blobs from this repository of the same registry");
         command.add_flag("-q,--quiet", options->quiet, "Print only the final line");
         command.add_option("--chunk-threshold", options->chunk_threshold_mib,
                            "Blobs larger than this many MiB go by resumable PATCH (default 512)");
         command
             .add_option("--chunk-size", options->chunk_size_mib,
                         "MiB per PATCH (default 0: the rest of the blob in one PATCH)")
             ->check(CLI::NonNegativeNumber);
         add_format(command, options->format);
         command.callback([options, &context, &code] { code = run_push(*options, context); });
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
  app.set_version_flag("-v,--version", k_version);
  app.footer(k_exit_codes);
  app.require_subcommand(1);
  app.fallthrough();
  auto& global = context.global;
  app.add_option("--config", global.config_dir,
                 "Directory of config.json (default: $DOCKER_CONFIG, else ~/.docker)");
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
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
