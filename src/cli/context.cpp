#include "regauth/cli/context.hpp"

#include "regauth/config/config_store.hpp"
#include "regauth/config/registry_key.hpp"
#include "regauth/http/error_body.hpp"
#include "regauth/http/url.hpp"
#include "regauth/identity/sources.hpp"
#include "regauth/util/terminal_text.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ostream>

namespace regauth::cli {

Result<std::filesystem::path> Context::config_path() const {
  return config::resolve_config_path(global.config_dir);
}

std::optional<std::filesystem::path> Context::auth_file() const {
  if (global.authfile && !global.authfile->empty()) {
    return std::filesystem::path(*global.authfile);
  }
  if (const char* env = std::getenv("REGISTRY_AUTH_FILE"); env && *env) {
    return std::filesystem::path(env);
  }
  return std::nullopt;
}

Result<credentials::Keychain> Context::keychain() const {
  auto path = config_path();
  if (!path) {
    return path.error();
  }
  credentials::KeychainOptions options;
  options.config_path = *path;
  if (auto file = auth_file()) {
    options.config_path = *file;
    options.key_style = credentials::KeyStyle::auth_file;
  } else {
    options.config_cache = config_cache;
  }
  options.helper_timeout =
      std::chrono::milliseconds(static_cast<long long>(global.helper_timeout_seconds * 1000));
  options.save.lock_timeout =
      std::chrono::milliseconds(static_cast<long long>(global.lock_timeout_seconds * 1000));
  if (const char* env = std::getenv("DOCKER_AUTH_CONFIG"); env && *env && !auth_file()) {
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
    options.debug = [stream](std::string_view line) {
      *stream << "debug: " << escape_for_terminal(line) << '\n';
    };
  }
  return options;
}

Result<std::string> Context::registry_key(const std::string& server) const {
  if (auth_file()) {
    return config::normalize_auth_file_key(server);
  }
  return config::normalize_registry_key(server);
}

Result<std::string> Context::lookup_key(const registry::Reference& target) const {
  if (auth_file()) {
    auto registry = config::normalize_auth_file_key(target.registry);
    if (!registry) {
      return registry.error();
    }
    return *registry + "/" + target.repository;
  }
  return config::normalize_registry_key(target.registry);
}

std::string Context::registry_host(const std::string& key) const {
  if (!auth_file()) {
    return config::registry_host_for_key(key);
  }
  auto registry = config::normalize_registry_key(config::auth_file_registry(key));
  return registry ? config::registry_host_for_key(*registry) : config::auth_file_registry(key);
}

auth::AuthOptions Context::auth_options(const http::TransportOptions& transport,
                                        const std::string& host) const {
  auth::AuthOptions options;
  options.trusted_realms = global.trusted_realms;
  auto url = http::parse_url("https://" + host + "/");
  options.may_use_http = url && http::allows_insecure(transport, *url);
  options.http_first = url && http::prefers_plain_http(transport, *url);
  return options;
}

Result<http::TransportOptions> Context::transport_for(const std::string& registry_host) const {
  http::TransportOptions options = transport();
  auto path = config_path();
  if (!path) {
    return options;
  }
  auto loaded = config_cache->get(*path);
  if (!loaded) {
    return options; // the keychain reports a broken config
  }
  const auto& json = (*loaded)->config.json();
  auto found = json.find("HttpHeaders");
  if (found == json.end() || found->is_null()) {
    return options;
  }
  auto fail = [&](const std::string& why) {
    return make_error(ErrorKind::config, "reading " + path->string() + ": HttpHeaders: " + why);
  };
  if (!found->is_object()) {
    return fail("not an object");
  }
  auto token_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  };
  for (const auto& [name, value] : found->items()) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), token_char)) {
      return fail("invalid header name \"" + escape_for_terminal(name, 80) + "\"");
    }
    if (!value.is_string()) {
      return fail("the value of " + name + " is not a string");
    }
    const auto& text = value.get_ref<const std::string&>();
    if (std::any_of(text.begin(), text.end(), [](char c) {
          return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f;
        })) {
      return fail("the value of " + name + " holds a control character");
    }
    // As the Docker CLI: HttpHeaders never sets the User-Agent.
    if (http::equals_ignore_case(name, "User-Agent")) {
      continue;
    }
    options.headers.push_back({name, text});
  }
  if (!options.headers.empty()) {
    options.header_hosts.push_back(registry_host);
  }
  return options;
}

void Context::warn(const std::string& message) const {
  err << "WARNING: " << escape_for_terminal(message, 2000) << '\n';
}

int report(const Context& context, const Error& error) {
  context.err << "regauth: error: " << escape_for_terminal(error.message, 2000) << '\n';
  if (!error.hint.empty()) {
    context.err << "hint: " << escape_for_terminal(error.hint, 2000) << '\n';
  }
  return exit_code_for(error.kind);
}

void warn_duplicate_keys(const Context& context) {
  auto path = context.config_path();
  if (!path) {
    return;
  }
  auto loaded = context.config_cache->get(*path);
  if (!loaded) {
    return;
  }
  for (const auto& warning : config::describe_duplicate_keys((*loaded)->config, *path)) {
    context.warn(warning);
  }
}

std::string json_line(const nlohmann::json& value) {
  return value.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

std::optional<auth::RememberedChallenge> remembered_challenge(image::BlobInfoCache& cache,
                                                              const std::string& host) {
  auto answer = cache.find_registry(host);
  if (!answer) {
    return std::nullopt;
  }
  auth::RememberedChallenge remembered{answer->base_url, std::nullopt};
  if (!answer->challenge.empty()) {
    auto parsed = auth::parse_challenges(answer->challenge);
    if (!parsed) {
      return std::nullopt;
    }
    auto chosen = auth::choose_challenge(*parsed);
    if (!chosen) {
      return std::nullopt;
    }
    remembered.challenge = std::move(*chosen);
  }
  return remembered;
}

void remember_challenge(image::BlobInfoCache& cache, const std::string& host,
                        const auth::SharedAuthenticator& authenticator) {
  auto challenge = authenticator.challenge();
  image::RegistryAnswer answer{authenticator.base_url(),
                               challenge ? auth::to_header(*challenge) : std::string()};
  if (!answer.base_url.empty() && cache.find_registry(host) != answer) {
    cache.record_registry(host, answer);
  }
}

} // namespace regauth::cli
