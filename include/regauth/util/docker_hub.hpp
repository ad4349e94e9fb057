// The host names that mean Docker Hub, shared by registry-key normalisation (config/) and
// image references (registry/). Pure.
#pragma once

#include <array>
#include <string_view>

namespace regauth {

// Every spelling of Docker Hub's registry host, in lower case.
constexpr std::array<std::string_view, 3> k_docker_hub_hosts = {"docker.io", "index.docker.io",
                                                                "registry-1.docker.io"};

// True when `host` (already lower case, no port) is one of k_docker_hub_hosts.
bool is_docker_hub_host(std::string_view host);

} // namespace regauth
