#include "regauth/util/search_path.hpp"

#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace regauth {

std::optional<std::filesystem::path> find_on_path(std::string_view program,
                                                  std::string_view search_path) {
  while (true) {
    auto colon = search_path.find(':');
    std::string_view dir = search_path.substr(0, colon);
    if (!dir.empty() && dir.front() == '/') {
      std::filesystem::path candidate = std::filesystem::path(dir) / std::string(program);
      struct stat info {};
      if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
          ::access(candidate.c_str(), X_OK) == 0) {
        return candidate;
      }
    }
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    search_path.remove_prefix(colon + 1);
  }
}

} // namespace regauth
