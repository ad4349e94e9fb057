// One options struct and one run_<command> per command; CLI11 only fills the structs.
#pragma once

#include "regauth/cli/context.hpp"

#include <optional>
#include <string>
#include <vector>

namespace regauth::cli {

struct LoginOptions {
  std::string server;
  std::optional<std::string> username;
  std::optional<std::string> password;
  bool password_stdin = false;
  std::string format; // "" or "json"
};
int run_login(const LoginOptions& options, Context& context);

struct LogoutOptions {
  std::string server;
  bool all = false;
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
  int jobs = 4;
  std::optional<std::string> mount_from;
  bool quiet = false;
  std::string format;
  double chunk_threshold_mib = 512;
  double chunk_size_mib = 0; // 0: the rest of the blob in one PATCH
};
int run_push(const PushOptions& options, Context& context);

} // namespace regauth::cli

namespace regauth::cli {

// The docker-credential-helpers protocol: `arguments` are what follows the program name
// (exactly one verb: get, store, erase, list, version). Errors go to stdout, exit 1.
int run_credential_helper(const std::vector<std::string>& arguments, Context& context);

} // namespace regauth::cli
