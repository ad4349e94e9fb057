// Looking a program up on a PATH value, the way execvp(3) would, but only in absolute
// directories: the credential helpers and the programs that pick the default store.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

namespace regauth {

// The first `<dir>/<program>` that is a regular file this process may execute, for `dir` the
// colon-separated entries of `search_path` in order. Empty and relative entries are skipped (an
// empty entry means the working directory to a shell, which must not decide what runs).
// `program` is a file name; the caller checks that it holds no '/'.
std::optional<std::filesystem::path> find_on_path(std::string_view program,
                                                  std::string_view search_path);

} // namespace regauth
