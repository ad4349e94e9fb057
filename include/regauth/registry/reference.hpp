// Image references with the Docker rules: [registry/]repository[:tag][@digest]. Pure.
#pragma once

#include "regauth/result.hpp"

#include <string>
#include <string_view>

namespace regauth::registry {

struct Reference {
  std::string registry;   // host[:port] to contact: "registry-1.docker.io" for Docker Hub
  std::string repository; // "library/alpine", "team/app"
  std::string tag;        // "" when absent
  std::string digest;     // "sha256:<64 hex>" or ""

  // The tag, else the digest, else "latest": what the manifest is pushed under.
  [[nodiscard]] std::string manifest_reference() const;
  // "registry/repository[:tag][@digest]" as a user would write it.
  [[nodiscard]] std::string to_string() const;
};

// Parses a reference. No registry part (the first component has no '.', ':' and is not
// "localhost") means Docker Hub, and one-part names get "library/". docker.io and
// index.docker.io mean Docker Hub too. Repositories must be lower case
// ([a-z0-9]+ with '.', '_', '__', '-' separators, '/' between components, 255 bytes at most),
// tags [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, digests per oci::validate_digest. Fails (usage) naming
// the problem. With neither tag nor digest the tag is "latest".
Result<Reference> parse_reference(std::string_view text);

} // namespace regauth::registry
