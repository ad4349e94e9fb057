#include "regauth/credentials/file_store.hpp"
#include "regauth/util/base64.hpp"

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <string>

using regauth::base64_encode;
using regauth::credentials::FileStore;
using regauth::credentials::KeyStyle;
using regauth::testing::TempDir;

namespace {

std::string entry(const std::string& user) {
  return R"({"auth":")" + base64_encode(user + ":" + user + "pw") + R"("})";
}

std::string username_for(FileStore& store, const std::string& key) {
  auto found = store.get(key);
  REQUIRE(found);
  return *found ? (*found)->username : "<none>";
}

} // namespace

TEST_CASE("file store, auth.json keys: the most specific key holding credentials wins",
          "[credentials]") {
  TempDir temp;
  auto path = temp.path() / "auth.json";
  std::ofstream(path) << R"({"auths":{"r.example:5000":)" << entry("reg")
                      << R"(,"r.example:5000/team":)" << entry("team")
                      << R"(,"r.example:5000/team/app":{},"https://q.example/v1/":)"
                      << entry("legacy") << "}}";
  FileStore store(path, {}, KeyStyle::auth_file);
  CHECK(username_for(store, "r.example:5000/team/app") == "team"); // `{}` holds nothing
  CHECK(username_for(store, "r.example:5000/team/app/sub") == "team");
  CHECK(username_for(store, "r.example:5000/other/app") == "reg");
  CHECK(username_for(store, "r.example:5000") == "reg");
  CHECK(username_for(store, "q.example/any/repo") == "legacy");
  CHECK(username_for(store, "s.example/team") == "<none>");

  SECTION("erase removes only the key as given") {
    auto erased = store.erase("r.example:5000/team");
    REQUIRE(erased);
    CHECK(*erased);
    CHECK(username_for(store, "r.example:5000/team/app") == "reg");
  }
}

TEST_CASE("file store, Docker keys: a namespace is not a key of its own", "[credentials]") {
  TempDir temp;
  auto path = temp.path() / "config.json";
  std::ofstream(path) << R"({"auths":{"r.example:5000":)" << entry("reg") << "}}";
  FileStore store(path);
  CHECK(username_for(store, "r.example:5000") == "reg");
}
