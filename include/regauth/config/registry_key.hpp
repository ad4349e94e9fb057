// Registry keys: the names under which config.json files credentials (`auths`, `credHelpers`)
// and under which credential helpers are asked. One pure function maps what a user types to a key.
#pragma once

#include "regauth/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace regauth::config {

// The key Docker Hub's credentials live under, for every spelling of Docker Hub.
inline constexpr std::string_view k_docker_hub_key = "https://index.docker.io/v1/";

// Maps a server as a user types it ("", "docker.io", "https://r.example:5000/v2/") to its key:
// Docker Hub's names become k_docker_hub_key; anything else loses scheme and path and keeps
// "host[:port]" with the host in lower case. Fails (usage) on control bytes, spaces, userinfo,
// schemes other than http/https, or a malformed host or port; the message quotes the input.
Result<std::string> normalize_registry_key(std::string_view server);

// True when a key as stored by some tool ("https://r.example/v1/", "r.example") names the
// registry whose normalized key is `normalized_key`. Matching is exact on host and port.
bool registry_key_matches(std::string_view stored_key, std::string_view normalized_key);

// True when normalizing `key` (with normalize_registry_key or normalize_auth_file_key) can only
// return `key` itself or fail: no upper-case letter, none of '/', '?', '#', not empty, not a
// Docker Hub host. A test without allocation, for listing 100,000 keys; false says nothing.
bool normalizing_keeps_key(std::string_view key);

// True for Docker Hub's key.
bool is_docker_hub_key(std::string_view normalized_key);

// The host[:port] to contact for a normalized key: "registry-1.docker.io" for Docker Hub.
std::string registry_host_for_key(std::string_view normalized_key);

// containers-auth.json(5) keys (auth.json of podman, buildah and skopeo): "host[:port]" or
// "host[:port]/namespace[/repository...]", Docker Hub as "docker.io". A key with a scheme is a
// legacy key and keeps only its host (as containers/image's normalizeAuthFileKey). Hosts are
// checked as normalize_registry_key checks them; the path must be lower-case repository
// components. Fails (usage) quoting the input.
Result<std::string> normalize_auth_file_key(std::string_view server);

// The keys an auth.json lookup for `key` tries, most specific first:
// "r/ns/repo" -> {"r/ns/repo", "r/ns", "r"}. Pure.
std::vector<std::string> auth_file_lookup_keys(std::string_view key);

// The registry part of an auth.json key: "r:5000/ns/repo" -> "r:5000".
std::string auth_file_registry(std::string_view key);

} // namespace regauth::config
