#include "regauth/credentials/keychain.hpp"
#include "regauth/identity/sources.hpp"

#include "support/fake_environment.hpp"
#include "support/fake_process_runner.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>

using regauth::credentials::Keychain;
using regauth::credentials::KeychainOptions;
using regauth::identity::make_github_actions_source;
using regauth::testing::environment_of;

namespace {

const std::map<std::string, std::string> k_actions = {
    {"GITHUB_ACTIONS", "true"}, {"GITHUB_TOKEN", "ghs_secret"}, {"GITHUB_ACTOR", "octocat"}};

} // namespace

TEST_CASE("github actions: the job token goes to ghcr.io as the actor", "[identity]") {
  auto source = make_github_actions_source(environment_of(k_actions));
  auto found = source->get("ghcr.io");
  REQUIRE(found);
  REQUIRE(*found);
  CHECK((*found)->credentials.username == "octocat");
  CHECK((*found)->credentials.password == "ghs_secret");
  CHECK((*found)->description == "GitHub Actions GITHUB_TOKEN of octocat");
  CHECK((*found)->description.find("ghs_secret") == std::string::npos);
}

TEST_CASE("github actions: no other host and no other runner gets the token", "[identity]") {
  auto source = make_github_actions_source(environment_of(k_actions));
  for (const char* host : {"docker.io", "ghcr.io:443", "evil.ghcr.io", "ghcr.io.evil.example",
                           "pkg.github.com", "127.0.0.1:5000"}) {
    CAPTURE(host);
    CHECK_FALSE(source->serves(host));
    auto found = source->get(host);
    REQUIRE(found);
    CHECK_FALSE(*found);
  }
  auto elsewhere = k_actions;
  elsewhere["GITHUB_ACTIONS"] = "1";
  auto not_actions = make_github_actions_source(environment_of(elsewhere))->get("ghcr.io");
  REQUIRE(not_actions);
  CHECK_FALSE(*not_actions);
  auto no_token = k_actions;
  no_token.erase("GITHUB_TOKEN");
  auto tokenless = make_github_actions_source(environment_of(no_token))->get("ghcr.io");
  REQUIRE(tokenless);
  CHECK_FALSE(*tokenless);
}

TEST_CASE("keychain: stored credentials win over the machine's identity", "[identity]") {
  regauth::testing::TempDir dir;
  regauth::testing::FakeProcessRunner runner;
  auto config = dir.path() / "config.json";
  KeychainOptions options;
  options.config_path = config;
  options.identity_sources.push_back(make_github_actions_source(environment_of(k_actions)));

  SECTION("nothing stored: the identity answers, marked short-lived") {
    regauth::testing::write_file(config, R"({"auths":{"o.example":{"auth":"YTpi"}}})");
    Keychain keychain(options, runner);
    auto found = keychain.get("ghcr.io");
    REQUIRE(found);
    REQUIRE(*found);
    CHECK((*found)->from_identity);
    CHECK((*found)->credentials.username == "octocat");
    CHECK((*found)->source == "GitHub Actions GITHUB_TOKEN of octocat");
  }
  SECTION("an inline login for the registry wins") {
    regauth::testing::write_file(config, R"({"auths":{"ghcr.io":{"auth":"YWxpY2U6cHc="}}})");
    Keychain keychain(options, runner);
    auto found = keychain.get("ghcr.io");
    REQUIRE(found);
    REQUIRE(*found);
    CHECK_FALSE((*found)->from_identity);
    CHECK((*found)->credentials.username == "alice");
  }
  SECTION("the config turns the identity sources off") {
    regauth::testing::write_file(config, R"({"auths":{},"regauth":{"identity":false}})");
    Keychain keychain(options, runner);
    auto found = keychain.get("ghcr.io");
    REQUIRE(found);
    CHECK_FALSE(*found);
    auto direct = keychain.get_from_identity("ghcr.io");
    REQUIRE(direct);
    CHECK_FALSE(*direct);
  }
  SECTION("a setting that is not a boolean is a config error") {
    regauth::testing::write_file(config, R"({"regauth":{"identity":"no"}})");
    Keychain keychain(options, runner);
    auto found = keychain.get("ghcr.io");
    REQUIRE_FALSE(found);
    CHECK(found.error().kind == regauth::ErrorKind::config);
    CHECK(found.error().message.find("\"identity\" is not true or false") != std::string::npos);
  }
}
