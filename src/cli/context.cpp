#include "regauth/cli/context.hpp"

#include "regauth/config/config_store.hpp"
#include "regauth/http/error_body.hpp"
#include "regauth/identity/sources.hpp"

#include <algorithm>
#include <cstdlib>
#include <ostream>

namespace regauth::cli {

Result<std::filesystem::path> Context::config_path() const {
  return config::resolve_config_path(global.config_dir);
}

Result<credentials::Keychain> Context::keychain() const {
  auto path = config_path();
  if (!path) {
    return path.error();
  }
  credentials::KeychainOptions options;
  options.config_path = *path;
  options.helper_timeout =
      std::chrono::milliseconds(static_cast<long long>(global.helper_timeout_seconds * 1000));
  options.save.lock_timeout =
      std::chrono::milliseconds(static_cast<long long>(global.lock_timeout_seconds * 1000));
  if (const char* env = std::getenv("DOCKER_AUTH_CONFIG"); env && *env) {
    options.auth_config_env = std::string(env);
  }
  const char* search_path = std::getenv("PATH");
  options.search_path = search_path ? search_path : "";
  if (!global.no_identity) {
    auto environment = identity::system_environment();
    environment.process_runner = services.process_runner;
    environment.make_http_client = [factory = services.make_http_client, transport = transport()] {
      return factory(transport);
    };
    environment.make_plain_http_client = [factory = services.make_http_client,
                                          transport = transport()](const std::string& host) {
      auto plain = transport;
      plain.insecure_registries.push_back(host);
      return factory(plain);
    };
    for (auto& source : identity::make_identity_sources(environment)) {
      options.identity_sources.push_back(std::move(source));
    }
  }
  return credentials::Keychain(std::move(options), *services.process_runner);
}

http::TransportOptions Context::transport() const {
  http::TransportOptions options;
  options.insecure_registries = global.insecure_registries;
  options.resolve = global.resolve;
  auto timeout = std::chrono::milliseconds(static_cast<long long>(global.timeout_seconds * 1000));
  options.request_timeout = timeout;
  options.stall_timeout = std::min(timeout, std::chrono::milliseconds(30000));
  options.connect_timeout = std::min(timeout, std::chrono::milliseconds(15000));
  options.certs_dirs.emplace_back("/etc/docker/certs.d");
  for (const auto& dir : global.certs_dirs) {
    options.certs_dirs.emplace_back(dir);
  }
  if (global.debug) {
    std::ostream* stream = &err;
    options.debug = [stream](std::string_view line) { *stream << "debug: " << line << '\n'; };
  }
  return options;
}

void Context::warn(const std::string& message) const { err << "WARNING: " << message << '\n'; }

int report(const Context& context, const Error& error) {
  context.err << "regauth: error: " << http::printable(error.message, 2000) << '\n';
  return exit_code_for(error.kind);
}

} // namespace regauth::cli
