#include "regauth/credentials/file_store.hpp"
#include "regauth/util/base64.hpp"

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

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

TEST_CASE("file store: inline entries are listed in byte order of their keys, whatever the "
          "file's order",
          "[credentials]") {
  // Keys that share their first 8 bytes or more, keys shorter than 8 bytes, a key that is a
  // prefix of another up to a zero byte, and bytes above 0x7f (which sort after ASCII).
  const std::vector<std::string> keys = {"registry.example.com:5001",
                                         "b",
                                         "registry.example.com:5000",
                                         "registry.example.com:5000/a/b",
                                         "a",
                                         "r1.example:5000",
                                         "r10.example:5000",
                                         "r2.example",
                                         "\xc3\xa9.example",
                                         "registry.example.co",
                                         std::string("ab\0", 3),
                                         "ab",
                                         "registry.example.com:5000/a/a",
                                         "Z.example"};
  regauth::config::Json auths = regauth::config::Json::object();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auths[keys[i]] = {{"auth", base64_encode("user" + std::to_string(i) + ":pw")}};
  }
  auths["no-credentials.example"] = regauth::config::Json::object();
  auto config = regauth::config::ConfigFile::parse(
      regauth::config::Json{{"auths", auths}}.dump(-1, ' ', false));
  REQUIRE(config);

  auto listed = regauth::credentials::list_inline_entry_views(*config);
  std::vector<std::string> expected = keys;
  std::sort(expected.begin(), expected.end());
  REQUIRE(listed.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CHECK(listed[i].first == expected[i]);
    auto at = std::find(keys.begin(), keys.end(), expected[i]) - keys.begin();
    CHECK(listed[i].second == "user" + std::to_string(at));
  }
}

TEST_CASE("file store: 5,000 entries in shuffled order are listed sorted", "[credentials]") {
  std::vector<std::string> keys;
  for (int i = 0; i < 5000; ++i) {
    // The same first 16 bytes for every key: only later bytes order them.
    keys.push_back("registry-mirror-" + std::to_string((i * 7919) % 5000) + ".example:5000");
  }
  std::string text = R"({"auths":{)";
  for (std::size_t i = 0; i < keys.size(); ++i) {
    text += (i == 0 ? "\"" : ",\"") + keys[i] + R"(":{"auth":")" + base64_encode("u:p") + "\"}";
  }
  text += "}}";
  auto config = regauth::config::ConfigFile::parse(text);
  REQUIRE(config);
  auto listed = regauth::credentials::list_inline_entry_views(*config);
  std::sort(keys.begin(), keys.end());
  REQUIRE(listed.size() == keys.size());
  bool same = true;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    same = same && listed[i].first == keys[i];
  }
  CHECK(same);
}
