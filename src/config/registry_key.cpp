#include "regauth/config/registry_key.hpp"

#include "regauth/util/docker_hub.hpp"
#include "regauth/util/host_port.hpp"
#include "regauth/util/strings.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace regauth::config {
namespace {

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && to_lower(text.substr(0, prefix.size())) == prefix;
}

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
}

// Validates "host[:port]" or "[v6]:port" and returns it in lower case.
Result<std::string> check_host_port(std::string_view hostport, std::string_view original) {
  auto fail = [&](const std::string& why) {
    return make_error(ErrorKind::usage, "invalid registry '" + std::string(original) + "': " + why);
  };
  if (hostport.empty()) {
    return fail("no host");
  }
  auto parts = split_host_port(hostport);
  if (!parts) {
    return fail(parts.error().message);
  }
  if (parts->ipv6) {
    if (parts->has_port && !is_valid_port(parts->port)) {
      return fail("invalid port");
    }
    return to_lower(hostport);
  }
  if (parts->has_port && !is_valid_port(parts->port)) {
    return fail("invalid port '" + std::string(parts->port) + "'");
  }
  std::string_view host = parts->host;
  if (host.empty()) {
    return fail("no host");
  }
  if (!std::all_of(host.begin(), host.end(), is_host_char) || host.front() == '.' ||
      host.front() == '-' || host.find("..") != std::string_view::npos) {
    return fail("invalid host name");
  }
  return to_lower(hostport);
}

} // namespace

Result<std::string> normalize_registry_key(std::string_view server) {
  for (char c : server) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || c == ' ') {
      return make_error(ErrorKind::usage,
                        "invalid registry: contains a space or control character");
    }
  }
  if (server.empty()) {
    return std::string(k_docker_hub_key);
  }
  std::string_view rest = server;
  if (starts_with_nocase(rest, "https://")) {
    rest.remove_prefix(8);
  } else if (starts_with_nocase(rest, "http://")) {
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    return make_error(ErrorKind::usage, "invalid registry '" + std::string(server) +
                                            "': only http:// and https:// are supported");
  }
  auto end = rest.find_first_of("/?#");
  std::string_view hostport = rest.substr(0, end);
  if (auto at = hostport.rfind('@'); at != std::string_view::npos) {
    // Quote the input with the user information (maybe a password) left out.
    std::string shown = std::string(server.substr(0, server.size() - rest.size())) + "[redacted]" +
                        std::string(rest.substr(at));
    return make_error(ErrorKind::usage, "invalid registry '" + shown +
                                            "': user information is not allowed in the address");
  }
  auto checked = check_host_port(hostport, server);
  if (!checked) {
    return checked.error();
  }
  if (is_docker_hub_host(*checked)) {
    return std::string(k_docker_hub_key);
  }
  return checked;
}

bool registry_key_matches(std::string_view stored_key, std::string_view normalized_key) {
  if (stored_key == normalized_key) {
    return true;
  }
  // A key normalizes to its host[:port] in lower case, or to Docker Hub's key: a key that does
  // not hold `normalized_key` in any case cannot match, and is passed over without normalizing
  // it (a lookup in a config.json of 100,000 entries tries every key).
  auto same_letter = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  };
  if (!is_docker_hub_key(normalized_key) &&
      std::search(stored_key.begin(), stored_key.end(), normalized_key.begin(),
                  normalized_key.end(), same_letter) == stored_key.end()) {
    return false;
  }
  auto stored = normalize_registry_key(stored_key);
  return stored && *stored == normalized_key;
}

bool normalizing_keeps_key(std::string_view key) {
  // Without '/' there is no scheme and no path to drop; without upper case, lower-casing the
  // host changes nothing; what is left can only become Docker Hub's key, or an error.
  return !key.empty() && std::none_of(key.begin(), key.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || c == '/' || c == '?' || c == '#';
  }) && !is_docker_hub_host(key);
}

bool is_docker_hub_key(std::string_view normalized_key) {
  return normalized_key == k_docker_hub_key;
}

std::string registry_host_for_key(std::string_view normalized_key) {
  if (is_docker_hub_key(normalized_key)) {
    return std::string(k_docker_hub_registry);
  }
  return std::string(normalized_key);
}

Result<std::string> normalize_auth_file_key(std::string_view server) {
  if (server.empty()) {
    return std::string("docker.io");
  }
  bool legacy = starts_with_nocase(server, "https://") || starts_with_nocase(server, "http://");
  // Host checks (control bytes, userinfo, ports) as for config.json keys.
  auto registry = normalize_registry_key(server);
  if (!registry) {
    return registry.error();
  }
  std::string host = is_docker_hub_key(*registry) ? std::string("docker.io") : *registry;
  if (legacy) {
    return host;
  }
  auto slash = server.find('/');
  if (slash == std::string_view::npos) {
    return host;
  }
  std::string_view path = server.substr(slash + 1);
  if (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);
  }
  if (path.empty()) {
    return host;
  }
  auto valid_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
           c == '/';
  };
  if (!std::all_of(path.begin(), path.end(), valid_char) || path.front() == '/' ||
      path.back() == '/' || path.find("//") != std::string_view::npos || path.size() > 255) {
    return make_error(ErrorKind::usage,
                      "invalid registry '" + std::string(server) +
                          "': the namespace must be lower-case repository components "
                          "(a-z, 0-9, '.', '_', '-') separated by '/'");
  }
  return host + "/" + std::string(path);
}

std::vector<std::string> auth_file_lookup_keys(std::string_view key) {
  std::vector<std::string> keys;
  std::string current(key);
  while (true) {
    keys.push_back(current);
    auto slash = current.rfind('/');
    if (slash == std::string::npos) {
      return keys;
    }
    current.resize(slash);
  }
}

std::string auth_file_registry(std::string_view key) {
  return std::string(key.substr(0, key.find('/')));
}

} // namespace regauth::config
