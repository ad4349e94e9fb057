// What every command receives: the global options, the services and the output streams.
#pragma once

#include "regauth/auth/authenticator.hpp"
#include "regauth/auth/authorizing_client.hpp"
#include "regauth/cli/app.hpp"
#include "regauth/config/config_store.hpp"
#include "regauth/credentials/keychain.hpp"
#include "regauth/http/transport.hpp"
#include "regauth/image/blob_info_cache.hpp"
#include "regauth/registry/reference.hpp"
#include "regauth/util/terminal_text.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace regauth::cli {

struct GlobalOptions {
  std::optional<std::string> config_dir;
  std::optional<std::string> authfile; // --authfile: a containers auth.json instead of config.json
  bool debug = false;
  std::vector<std::string> insecure_registries;
  std::vector<std::string> resolve;
  std::vector<std::string> certs_dirs;
  std::vector<std::string> trusted_realms;
  double helper_timeout_seconds = 30;
  double lock_timeout_seconds = 10;
  double timeout_seconds = http::k_default_request_timeout.count() / 1000.0;
  bool no_identity = false; // --no-identity: never ask the machine's identity sources
};

struct Context {
  GlobalOptions global;
  Services& services;
  std::ostream& out;
  std::ostream& err;
  // The command's one reading of config.json (not of an auth.json), shared by the Keychain,
  // the HttpHeaders of transport_for and the duplicate-key warnings: parsed once per command.
  config::SharedConfigCache config_cache = std::make_shared<config::ConfigCache>();

  // The resolved config.json path.
  Result<std::filesystem::path> config_path() const;
  // A Keychain over the config, the helpers and DOCKER_AUTH_CONFIG.
  Result<credentials::Keychain> keychain() const;
  // Transport options from the global flags (certs dirs include /etc/docker/certs.d).
  http::TransportOptions transport() const;
  // transport() plus config.json's HttpHeaders for requests to `registry_host` (User-Agent
  // dropped, as the Docker CLI does). Fails (config) on a header that cannot be sent.
  Result<http::TransportOptions> transport_for(const std::string& registry_host) const;
  // The containers auth.json in use instead of config.json: --authfile, else
  // $REGISTRY_AUTH_FILE; nullopt for Docker's config.json.
  std::optional<std::filesystem::path> auth_file() const;
  // The host[:port] to contact for a key from registry_key() or lookup_key().
  std::string registry_host(const std::string& key) const;
  // The key credentials for a registry the user named are filed under (normalize_registry_key,
  // or normalize_auth_file_key with an auth.json: "registry/namespace" stays as given).
  Result<std::string> registry_key(const std::string& server) const;
  // The key to look credentials up under for a push to or a token for `target` (with an
  // auth.json, "registry/repository": the most specific stored key wins).
  Result<std::string> lookup_key(const registry::Reference& target) const;
  // Authenticator options for the registry at `host` over `transport`.
  auth::AuthOptions auth_options(const http::TransportOptions& transport,
                                 const std::string& host) const;
  // Prints a warning line: "WARNING: ..." on err, escaped for the terminal.
  void warn(const std::string& message) const;
};

// How `host` answered the ping of the last push or login from this machine (the blob-info
// cache), as the Authenticator takes it instead of a ping; nullopt when the cache holds none
// that parses.
std::optional<auth::RememberedChallenge> remembered_challenge(image::BlobInfoCache& cache,
                                                              const std::string& host);
// Records in `cache` (until its save()) how `host` answered this command's ping, when that
// differs from what the cache holds.
void remember_challenge(image::BlobInfoCache& cache, const std::string& host,
                        const auth::SharedAuthenticator& authenticator);

// Prints "regauth: error: <message>" (escaped for the terminal, capped at 2000 bytes) and
// returns the exit code for the error.
int report(const Context& context, const Error& error);

// Warns about every repeated key of config.json (how it was read, and that a save is refused
// when the values differ). Silent when the file cannot be read: the command reports that.
void warn_duplicate_keys(const Context& context);

// One line of JSON output, never throwing: invalid UTF-8 in any string becomes U+FFFD (nlohmann's
// error_handler_t::replace, instead of type_error.316), and everything outside ASCII is written
// as \uXXXX (ensure_ascii), so that no control, C1 or bidi character reaches a terminal raw.
std::string json_line(const nlohmann::json& value);

} // namespace regauth::cli
