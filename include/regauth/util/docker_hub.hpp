// The host names that mean Docker Hub, shared by registry-key normalisation (config/) and
// image references (registry/). Pure.
#pragma once

#include <array>
#include <string_view>

namespace regauth {

// The host that serves Docker Hub's registry API: the one to contact for any of the spellings.
constexpr std::string_view k_docker_hub_registry = "registry-1.docker.io";

// Every spelling of Docker Hub's registry host, in lower case.
constexpr std::array<std::string_view, 3> k_docker_hub_hosts = {"docker.io", "index.docker.io",
                                                                k_docker_hub_registry};

// True when `host` (already lower case, no port) is one of k_docker_hub_hosts.
bool is_docker_hub_host(std::string_view host);

} // namespace regauth
