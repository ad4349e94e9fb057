#include "regauth/base64.hpp"
#include "regauth/credentials/keychain.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
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
    CHECK(choice.origin == c.origin);
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
