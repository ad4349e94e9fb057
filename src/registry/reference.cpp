#include "regauth/registry/reference.hpp"

#include "regauth/oci/digest.hpp"
#include "regauth/util/docker_hub.hpp"
#include "regauth/util/host_port.hpp"
#include "regauth/util/strings.hpp"

#include <algorithm>
#include <cctype>

// The grammar is docker/distribution's `reference` package (reference.go, regexp.go,
// normalize.go), checked by small scanners instead of regular expressions so that no input
// can make matching slow:
//
//   reference      := name [ ":" tag ] [ "@" digest ]
//   name           := [ domain "/" ] path-component [ "/" path-component ]*
//   domain         := host [ ":" port ]   host := domain-name | "[" ipv6 "]"
//   domain-name    := component [ "." component ]*   component :=
//   [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])? path-component := [a-z0-9]+ ( ( [._] | "__" | "-"+ )
//   [a-z0-9]+ )* tag            := [\w][\w.-]{0,127}
namespace regauth::registry {
namespace {

constexpr std::size_t k_max_repository = 255;
constexpr std::size_t k_max_tag = 128;

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_word(char c) { return is_alnum(c) || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }

bool valid_path_component(std::string_view part) {
  if (part.empty() || !is_lower_alnum(part.front()) || !is_lower_alnum(part.back())) {
    return false;
  }
  std::size_t i = 0;
  while (i < part.size()) {
    if (is_lower_alnum(part[i])) {
      ++i;
      continue;
    }
    // A separator: '.', '_', "__" or a run of '-', always between alphanumerics.
    std::size_t start = i;
    if (part[i] == '-') {
      while (i < part.size() && part[i] == '-') {
        ++i;
      }
    } else if (part[i] == '.') {
      ++i;
    } else if (part[i] == '_') {
      i += part.substr(i, 2) == "__" ? 2 : 1;
    } else {
      return false;
    }
    if (i == start || i >= part.size() || !is_lower_alnum(part[i])) {
      return false;
    }
  }
  return true;
}

bool valid_path(std::string_view path) {
  std::size_t start = 0;
  while (true) {
    auto slash = path.find('/', start);
    auto part = path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
    if (!valid_path_component(part)) {
      return false;
    }
    if (slash == std::string_view::npos) {
      return true;
    }
    start = slash + 1;
  }
}

bool valid_domain_component(std::string_view part) {
  if (part.empty() || !is_alnum(part.front()) || !is_alnum(part.back())) {
    return false;
  }
  return std::all_of(part.begin(), part.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

bool valid_host_name(std::string_view host) {
  std::size_t start = 0;
  while (true) {
    auto dot = host.find('.', start);
    auto part = host.substr(start, dot == std::string_view::npos ? host.npos : dot - start);
    if (!valid_domain_component(part)) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

// host [":" port] with host a domain name or "[ipv6]", the port any run of digits (as the
// distribution grammar has it), the IPv6 literal hex digits and ':' only.
bool valid_domain(std::string_view domain) {
  auto parts = split_host_port(domain);
  if (!parts) {
    return false;
  }
  if (parts->ipv6 ? parts->host.find('.') != std::string_view::npos
                  : !valid_host_name(parts->host)) {
    return false;
  }
  return !parts->has_port ||
         (!parts->port.empty() && std::all_of(parts->port.begin(), parts->port.end(), is_digit));
}

bool valid_tag(std::string_view tag) {
  return !tag.empty() && tag.size() <= k_max_tag && is_word(tag.front()) &&
         std::all_of(tag.begin(), tag.end(),
                     [](char c) { return is_word(c) || c == '.' || c == '-'; });
}

bool is_docker_hub(std::string_view domain) { return is_docker_hub_host(to_lower(domain)); }

} // namespace

std::string Reference::manifest_reference() const {
  if (!tag.empty()) {
    return tag;
  }
  if (!digest.empty()) {
    return digest;
  }
  return "latest";
}

std::string Reference::to_string() const {
  std::string out = registry + "/" + repository;
  if (!tag.empty()) {
    out += ":" + tag;
  }
  if (!digest.empty()) {
    out += "@" + digest;
  }
  return out;
}

Result<Reference> parse_reference(std::string_view text) {
  auto fail = [&](const std::string& why) {
    return make_error(ErrorKind::usage, "invalid reference " + quote_text(text) + ": " + why);
  };
  if (text.empty()) {
    return fail("empty");
  }
  Reference reference;

  std::string_view name = text;
  if (auto at = text.find('@'); at != std::string_view::npos) {
    name = text.substr(0, at);
    auto digest = text.substr(at + 1);
    if (auto valid = oci::validate_digest(digest); !valid) {
      return fail("invalid digest format");
    }
    reference.digest = std::string(digest);
  }

  // The tag follows the last ':' unless a '/' comes after it (then the ':' was a port).
  if (auto colon = name.rfind(':');
      colon != std::string_view::npos && name.find('/', colon) == std::string_view::npos) {
    auto tag = name.substr(colon + 1);
    if (!valid_tag(tag)) {
      return fail("invalid tag format");
    }
    reference.tag = std::string(tag);
    name = name.substr(0, colon);
  }
  if (name.empty()) {
    return fail("repository name must have at least one component");
  }

  // A first component with '.' or ':', or "localhost", is a registry.
  std::string_view domain;
  std::string_view path = name;
  if (auto slash = name.find('/'); slash != std::string_view::npos) {
    auto first = name.substr(0, slash);
    if (first.find_first_of(".:") != std::string_view::npos || first == "localhost") {
      domain = first;
      path = name.substr(slash + 1);
      if (!valid_domain(domain)) {
        return fail("invalid registry " + quote_text(domain));
      }
    }
  }

  if (!valid_path(path)) {
    if (valid_path(to_lower(path))) {
      return fail("repository name must be lowercase");
    }
    return fail("invalid reference format");
  }
  if (domain.empty() && path.size() == 64 && std::all_of(path.begin(), path.end(), is_lower_hex)) {
    return fail("cannot specify 64-byte hexadecimal strings");
  }

  if (domain.empty() || is_docker_hub(domain)) {
    reference.registry = std::string(k_docker_hub_registry);
    reference.repository = path.find('/') == std::string_view::npos ? "library/" + std::string(path)
                                                                    : std::string(path);
  } else {
    reference.registry = std::string(domain);
    reference.repository = std::string(path);
  }
  if (reference.repository.size() > k_max_repository) {
    return fail("repository name must not be more than 255 characters");
  }
  if (reference.tag.empty() && reference.digest.empty()) {
    reference.tag = "latest";
  }
  return reference;
}

} // namespace regauth::registry
