// One options struct and one run_<command> per command; CLI11 only fills the structs.
#pragma once

#include "regauth/cli/context.hpp"

#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
} // namespace CLI

namespace regauth::cli {

struct LoginOptions {
  std::string server;
  std::optional<std::string> username;
  std::optional<std::string> password;
  bool password_stdin = false;
  bool identity_token_stdin = false;
  std::string format; // "" or "json"
};
int run_login(const LoginOptions& options, Context& context);

struct LogoutOptions {
  std::string server;
  bool all = false;
  bool dry_run = false; // list what would be removed, change nothing
  std::string format;
};
int run_logout(const LogoutOptions& options, Context& context);

struct LsOptions {
  std::string format;
};
int run_ls(const LsOptions& options, Context& context);

} // namespace regauth::cli

namespace regauth::cli {

struct PushOptions {
  std::string source;
  std::string reference;
  bool check = false;
  int jobs = 0; // 0: by blob sizes
  std::optional<std::string> mount_from;
  bool quiet = false;
  std::string format;
  double chunk_threshold_mib = 512;
  double chunk_size_mib = 0;        // 0: the rest of the blob in one PATCH
  std::optional<std::string> creds; // --creds USER[:PASSWORD], used once, stored nowhere
  bool password_stdin = false;      // with --creds USER
  std::optional<std::string> digest_file;
  std::string compression; // gzip, zstd or none; "": gzip (none for a @digest reference)
};
int run_push(const PushOptions& options, Context& context);

} // namespace regauth::cli

namespace regauth::cli {

// Shell completion (`regauth __complete WORD...`, hidden; completions/ calls it): prints the
// candidates for the last of `words` (the words after `regauth`, the last one possibly empty)
// from the command tree of `root` and, for a registry argument, the stored registries. Prints
// nothing it cannot complete; always returns 0.
int run_complete(const std::vector<std::string>& words, Context& context, CLI::App& root);
struct GetOptions {
  std::string server;
};
int run_get(const GetOptions& options, Context& context);

struct ExportOptions {
  std::vector<std::string> servers;
  std::optional<std::string> secret_name;   // --k8s-secret NAME
  std::optional<std::string> k8s_namespace; // --namespace NS
  std::optional<std::string> output;        // --output FILE
};
int run_export(const ExportOptions& options, Context& context);

struct TokenOptions {
  std::string reference;
  bool push = false;
};
int run_token(const TokenOptions& options, Context& context);

// The credentials regauth would use for `key`, from any store. Fails (unauthorized) naming the
// registry when there are none, or with the store's error.
Result<credentials::FoundCredentials> find_credentials(credentials::Keychain& keychain,
                                                       const std::string& key);
// The docker-credential-helpers protocol: `arguments` are what follows the program name
// (exactly one verb: get, store, erase, list, version). Errors go to stdout, exit 1.
int run_credential_helper(const std::vector<std::string>& arguments, Context& context);

} // namespace regauth::cli
