#include "regauth/util/docker_hub.hpp"

#include <algorithm>

namespace regauth {

bool is_docker_hub_host(std::string_view host) {
  return std::find(k_docker_hub_hosts.begin(), k_docker_hub_hosts.end(), host) !=
         k_docker_hub_hosts.end();
}

} // namespace regauth
