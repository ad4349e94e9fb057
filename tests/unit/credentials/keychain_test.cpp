#include "regauth/credentials/keychain.hpp"
#include "regauth/util/base64.hpp"

#include "support/fake_process_runner.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

using regauth::base64_encode;
using regauth::ErrorKind;
using regauth::config::ConfigFile;
using regauth::credentials::choose_store;
using regauth::credentials::parse_auth_config_env;
using regauth::credentials::StoreKind;

namespace {

ConfigFile parse_ok(const std::string& bytes) {
  auto parsed = ConfigFile::parse(bytes);
  if (!parsed) {
    FAIL("parse failed: " << parsed.error().message);
  }
  return *parsed;
}

} // namespace

TEST_CASE("keychain: credHelpers beats credsStore beats the file", "[credentials]") {
  struct Case {
    std::string name;
    std::string config;
    std::string key;
    std::optional<std::string> default_helper;
    StoreKind kind;
    std::string helper;
    std::string origin;
  };
  const std::vector<Case> cases = {
      {"credHelpers entry wins", R"({"credsStore":"pass","credHelpers":{"r.example":"ecr"}})",
       "r.example", "secretservice", StoreKind::helper, "ecr", "credHelpers"},
      {"credHelpers legacy spelling",
       R"({"credsStore":"pass","credHelpers":{"https://r.example/":"ecr"}})", "r.example",
       std::nullopt, StoreKind::helper, "ecr", "credHelpers"},
      {"credHelpers for another registry",
       R"({"credsStore":"pass","credHelpers":{"o.example":"ecr"}})", "r.example", std::nullopt,
       StoreKind::helper, "pass", "credsStore"},
      {"empty credHelpers entry falls through",
       R"({"credsStore":"pass","credHelpers":{"r.example":""}})", "r.example", std::nullopt,
       StoreKind::helper, "pass", "credsStore"},
      {"credsStore", R"({"credsStore":"pass","auths":{"r.example":{"auth":"YTpi"}}})", "r.example",
       "secretservice", StoreKind::helper, "pass", "credsStore"},
      {"file when nothing is named", R"({"auths":{"r.example":{"auth":"YTpi"}}})", "r.example",
       std::nullopt, StoreKind::file, "", "file"},
      {"default helper for a config without auth settings", "{}", "r.example", "pass",
       StoreKind::helper, "pass", "default"},
      {"default helper with unrelated fields", R"({"psFormat":"x","auths":{}})", "r.example",
       "secretservice", StoreKind::helper, "secretservice", "default"},
      {"no default helper once auths has an entry", R"({"auths":{"o.example":{}}})", "r.example",
       "pass", StoreKind::file, "", "file"},
      {"no default helper once credHelpers exists", R"({"credHelpers":{"o.example":"ecr"}})",
       "r.example", "pass", StoreKind::file, "", "file"},
      {"file without a default helper", "{}", "r.example", std::nullopt, StoreKind::file, "",
       "file"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    auto choice = choose_store(parse_ok(c.config), c.key, c.default_helper);
    CHECK(choice.kind == c.kind);
    CHECK(choice.helper == c.helper);
    CHECK(regauth::credentials::to_string(choice.origin) == c.origin);
  }
}

TEST_CASE("keychain: DOCKER_AUTH_CONFIG entries are parsed with normalized keys", "[credentials]") {
  std::string value = R"({"auths":{)"
                      R"("https://R.Example:5000/v2/":{"auth":")" +
                      base64_encode("alice:alicepw") + R"("},"docker.io":{"auth":")" +
                      base64_encode("bob:bobpw") + R"("},"empty.example":{}}})";
  auto parsed = parse_auth_config_env(value);
  REQUIRE(parsed);
  CHECK(parsed->size() == 2);
  REQUIRE(parsed->count("r.example:5000") == 1);
  CHECK(parsed->at("r.example:5000").username == "alice");
  CHECK(parsed->at("r.example:5000").password == "alicepw");
  REQUIRE(parsed->count("https://index.docker.io/v1/") == 1);
  CHECK(parsed->at("https://index.docker.io/v1/").username == "bob");

  for (const std::string empty : {"{}", R"({"auths":{}})"}) {
    auto none = parse_auth_config_env(empty);
    REQUIRE(none);
    CHECK(none->empty());
  }
}

TEST_CASE("keychain: DOCKER_AUTH_CONFIG with anything else is a config error", "[credentials]") {
  const std::string auth = base64_encode("alice:alicepw");
  struct Case {
    std::string value;
    std::string words;
  };
  const std::vector<Case> cases = {
      {"", "not a JSON object"},
      {"not json", "not a JSON object"},
      {"[]", "not a JSON object"},
      {R"({"auths":{},"credsStore":"pass"})", "unknown field \"credsStore\""},
      {R"({"credHelpers":{}})", "unknown field \"credHelpers\""},
      {R"({"auths":[]})", "\"auths\" is not an object"},
      {R"({"auths":{"r.example":"x"}})", "entry \"r.example\" is not an object"},
      {R"({"auths":{"r.example":{"auth":")" + auth + R"(","username":"alice"}}})",
       "unknown field \"username\""},
      {R"({"auths":{"r.example":{"identitytoken":"t"}}})", "unknown field \"identitytoken\""},
      {R"({"auths":{"ftp://r.example":{"auth":")" + auth + R"("}}})", "only http"},
      {R"({"auths":{"r.example":{"auth":"bm9jb2xvbg=="}}})", "no ':'"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.value);
    auto parsed = parse_auth_config_env(c.value);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().kind == ErrorKind::config);
    CHECK_THAT(parsed.error().message, Catch::StartsWith("DOCKER_AUTH_CONFIG: "));
    CHECK_THAT(parsed.error().message, Catch::Contains(c.words));
    CHECK_THAT(parsed.error().message, !Catch::Contains("alicepw"));
  }
}

TEST_CASE("keychain: erase removes the inline secret when the helper fails, and says so",
          "[credentials]") {
  regauth::testing::TempDir temp;
  auto path = temp / "config.json";
  const std::string original = R"({"auths":{"r.example":{"auth":")" + base64_encode("ann:pw") +
                               R"("}},"credsStore":"missing"})";
  regauth::testing::write_file(path, original);
  regauth::testing::FakeProcessRunner runner;
  regauth::credentials::KeychainOptions options;
  options.config_path = path;
  options.search_path = (temp / "empty-bin").string(); // no docker-credential-missing anywhere
  regauth::credentials::Keychain keychain(options, runner);

  auto dry = keychain.erase("r.example", true);
  REQUIRE(dry);
  CHECK(dry->removed_from == std::vector<std::string>{path.string()});
  REQUIRE(dry->helper_failure);
  CHECK(regauth::testing::read_file(path) == original);

  auto erased = keychain.erase("r.example");
  REQUIRE(erased);
  CHECK(erased->removed_from == std::vector<std::string>{path.string()});
  REQUIRE(erased->helper_failure);
  CHECK(erased->helper_failure->kind == ErrorKind::helper);
  CHECK_THAT(erased->helper_failure->message, Catch::Contains("not found on PATH"));
  auto left = regauth::config::load_config(path);
  REQUIRE(left);
  CHECK(left->config.auth_keys().empty());
  CHECK(left->config.creds_store() == "missing");
  CHECK(runner.requests().empty());
}

TEST_CASE("keychain: the file store lists each registry once, under its normalized key, the "
          "first spelling in key order winning",
          "[credentials]") {
  regauth::testing::TempDir temp;
  auto path = temp / "config.json";
  auto auth = [](const std::string& user) {
    return R"({"auth":")" + base64_encode(user + ":pw") + R"("})";
  };
  // Not in key order; three pairs of spellings of one registry; one key that is already in
  // normal form and is also another key's normal form.
  regauth::testing::write_file(
      path, R"({"auths":{"z.example":)" + auth("zed") + R"(,"r.example":)" + auth("plain") +
                R"(,"https://R.example/v1/":)" + auth("legacy") + R"(,"Q.example:5000":)" +
                auth("q") + R"(,"https://index.docker.io/v1/":)" + auth("hub2") +
                R"(,"docker.io":)" + auth("hub") + R"(,"p.example":{}},)" +
                R"("regauth":{"identity":false}})");
  regauth::testing::FakeProcessRunner runner;
  regauth::credentials::KeychainOptions options;
  options.config_path = path;
  options.search_path = (temp / "empty-bin").string();
  regauth::credentials::Keychain keychain(options, runner);

  auto listing = keychain.list();
  REQUIRE(listing);
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& row : listing->registries) {
    CHECK(row.store == path.string());
    rows.emplace_back(row.key, row.username);
  }
  // Key order: "Q.example:5000" < "docker.io" < "https://R.example/v1/" <
  // "https://index.docker.io/v1/" < "r.example" < "z.example".
  CHECK(rows ==
        std::vector<std::pair<std::string, std::string>>{{"q.example:5000", "q"},
                                                         {"https://index.docker.io/v1/", "hub"},
                                                         {"r.example", "legacy"},
                                                         {"z.example", "zed"}});
  CHECK(runner.requests().empty());
}
