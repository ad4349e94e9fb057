#include "regauth/cli/context.hpp"

#include "regauth/config/config_store.hpp"

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
    options.debug = [stream](std::string_view line) {
      *stream << "debug: " << escape_for_terminal(line) << '\n';
    };
  }
  return options;
}

void Context::warn(const std::string& message) const {
  err << "WARNING: " << escape_for_terminal(message, 2000) << '\n';
}

int report(const Context& context, const Error& error) {
  context.err << "regauth: error: " << escape_for_terminal(error.message, 2000) << '\n';
  return exit_code_for(error.kind);
}

void warn_duplicate_keys(const Context& context) {
  auto path = context.config_path();
  if (!path) {
    return;
  }
  auto loaded = config::load_config(*path);
  if (!loaded) {
    return;
  }
  for (const auto& warning : config::describe_duplicate_keys(loaded->config, *path)) {
    context.warn(warning);
  }
}

std::string json_line(const nlohmann::json& value) {
  return value.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

} // namespace regauth::cli
