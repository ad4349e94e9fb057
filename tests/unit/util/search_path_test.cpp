#include "regauth/util/search_path.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "regauth-search-path-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

void write_file(const fs::path& file, fs::perms mode) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << "#!/bin/sh\n";
  fs::permissions(file, mode);
}

} // namespace

TEST_CASE("search path: the first absolute directory with an executable file wins", "[util]") {
  TempDir temp;
  write_file(temp.path / "one/tool", fs::perms::owner_all);
  write_file(temp.path / "two/tool", fs::perms::owner_all);
  auto one = (temp.path / "one").string();
  auto two = (temp.path / "two").string();
  CHECK(regauth::find_on_path("tool", one + ":" + two) == temp.path / "one/tool");
  CHECK(regauth::find_on_path("tool", two + ":" + one) == temp.path / "two/tool");
  CHECK(regauth::find_on_path("tool", ":relative::" + two + ":") == temp.path / "two/tool");
  CHECK_FALSE(regauth::find_on_path("other", one + ":" + two));
  CHECK_FALSE(regauth::find_on_path("tool", ""));
}

TEST_CASE("search path: a plain file or a directory of that name is passed over", "[util]") {
  TempDir temp;
  write_file(temp.path / "plain/tool", fs::perms::owner_read | fs::perms::owner_write);
  fs::create_directories(temp.path / "folder/tool");
  write_file(temp.path / "good/tool", fs::perms::owner_all);
  std::string search_path = (temp.path / "plain").string() + ":" + (temp.path / "folder").string() +
                            ":" + (temp.path / "good").string();
  CHECK(regauth::find_on_path("tool", search_path) == temp.path / "good/tool");
  CHECK_FALSE(regauth::find_on_path("tool", (temp.path / "folder").string()));
}
