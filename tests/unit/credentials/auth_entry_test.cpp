#include "regauth/credentials/auth_entry.hpp"
#include "regauth/util/base64.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using regauth::base64_encode;
using regauth::encode_basic_auth;
using regauth::ErrorKind;
using regauth::config::Json;
using regauth::credentials::Credentials;
using regauth::credentials::decode_auth_entry;
using regauth::credentials::encode_auth_entry;
using regauth::credentials::holds_credentials;

namespace {

std::vector<std::string> field_names(const Json& entry) {
  std::vector<std::string> names;
  for (const auto& [name, value] : entry.items()) {
    names.push_back(name);
  }
  return names;
}

} // namespace

TEST_CASE("auth entry: decoding finds username, password and tokens", "[credentials]") {
  struct Case {
    std::string name;
    Json entry;
    Credentials expected;
  };
  const std::vector<Case> cases = {
      {"auth", Json{{"auth", base64_encode("alice:alicepw")}}, {"alice", "alicepw", "", ""}},
      {"colon in password",
       Json{{"auth", base64_encode("alice:pa:ss:")}},
       {"alice", "pa:ss:", "", ""}},
      {"trailing NULs trimmed",
       Json{{"auth", base64_encode(std::string("alice:pw\0\0\0", 11))}},
       {"alice", "pw", "", ""}},
      {"auth with line breaks",
       Json{{"auth", "YWxpY2U6\nYWxpY2Vwdw=="}},
       {"alice", "alicepw", "", ""}},
      {"legacy username and password",
       Json{{"username", "bob"}, {"password", "bobpw"}, {"email", "b@example.com"}},
       {"bob", "bobpw", "", ""}},
      {"auth beats legacy fields",
       Json{{"auth", base64_encode("alice:alicepw")}, {"username", "bob"}, {"password", "x"}},
       {"alice", "alicepw", "", ""}},
      {"identity token with user",
       Json{{"auth", base64_encode("alice:")}, {"identitytoken", "idt"}},
       {"alice", "", "idt", ""}},
      {"identity token alone", Json{{"identitytoken", "idt"}}, {"", "", "idt", ""}},
      {"registry token", Json{{"registrytoken", "rt"}}, {"", "", "", "rt"}},
      {"unknown fields ignored",
       Json{{"auth", base64_encode("alice:alicepw")}, {"x-custom", Json::array({1, 2})}},
       {"alice", "alicepw", "", ""}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    auto decoded = decode_auth_entry(c.entry, "r.example");
    REQUIRE(decoded);
    REQUIRE(decoded->has_value());
    const Credentials& got = **decoded;
    CHECK(got.username == c.expected.username);
    CHECK(got.password == c.expected.password);
    CHECK(got.identity_token == c.expected.identity_token);
    CHECK(got.registry_token == c.expected.registry_token);
  }
}

TEST_CASE("auth entry: an entry without credentials is absent, not an error", "[credentials]") {
  const std::vector<Json> entries = {
      Json::object(),     Json{{"email", "a@example.com"}},
      Json{{"auth", ""}}, Json{{"auth", ""}, {"identitytoken", ""}},
      Json(nullptr),
  };
  for (const auto& entry : entries) {
    CAPTURE(entry.dump());
    auto decoded = decode_auth_entry(entry, "r.example");
    REQUIRE(decoded);
    CHECK_FALSE(decoded->has_value());
    CHECK_FALSE(holds_credentials(entry));
  }
}

TEST_CASE("auth entry: holds_credentials agrees with decoding, valid or not", "[credentials]") {
  const std::vector<Json> entries = {
      Json{{"auth", base64_encode("u:p")}},
      Json{{"auth", "not base64!"}},
      Json{{"username", "u"}},
      Json{{"password", "p"}},
      Json{{"identitytoken", "t"}},
      Json{{"registrytoken", "t"}, {"email", "e"}},
  };
  for (const auto& entry : entries) {
    CAPTURE(entry.dump());
    CHECK(holds_credentials(entry));
    auto decoded = decode_auth_entry(entry, "r.example");
    CHECK((!decoded || decoded->has_value()));
  }
}

TEST_CASE("auth entry: malformed auth names the key and never the secret", "[credentials]") {
  struct Case {
    std::string auth;
    std::string secret;
    std::string words;
  };
  const std::vector<Case> cases = {
      {"c2VjcmV0cHc!!", "secretpw", "not valid base64"},
      {"hunter2-is-not-base64", "hunter2", "not valid base64"},
      {"YWxpY2U6YWxpY2Vwdw", "YWxpY2U6YWxpY2Vwdw", "not valid base64"}, // no padding
      {base64_encode("alicesecretpw"), "alicesecretpw", "no ':'"},
      {base64_encode(":secretpw"), "secretpw", "empty username"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.auth);
    auto decoded = decode_auth_entry(Json{{"auth", c.auth}}, "registry.example:5000");
    REQUIRE_FALSE(decoded);
    CHECK(decoded.error().kind == ErrorKind::config);
    CHECK_THAT(decoded.error().message, Catch::Contains("\"registry.example:5000\""));
    CHECK_THAT(decoded.error().message, Catch::Contains(c.words));
    CHECK_THAT(decoded.error().message, !Catch::Contains(c.secret));
    CHECK_THAT(decoded.error().message, !Catch::Contains(c.auth));
  }
}

TEST_CASE("auth entry: encoding writes auth first and keeps unknown fields", "[credentials]") {
  Json entry = {{"email", "a@example.com"},
                {"username", "old"},
                {"password", "oldpw"},
                {"x-custom", {{"nested", true}}}};
  Json encoded = encode_auth_entry(entry, Credentials{"alice", "alicepw", "", ""});
  CHECK(field_names(encoded) == std::vector<std::string>{"auth", "email", "x-custom"});
  CHECK(encoded["auth"] == "YWxpY2U6YWxpY2Vwdw==");
  CHECK(encoded["x-custom"] == Json{{"nested", true}});
}

TEST_CASE("auth entry: an existing auth keeps its place", "[credentials]") {
  Json entry = {{"email", "a@example.com"}, {"auth", "b2xkOnB3"}, {"identitytoken", "stale"}};
  Json encoded = encode_auth_entry(entry, Credentials{"alice", "alicepw", "", ""});
  CHECK(field_names(encoded) == std::vector<std::string>{"email", "auth"});
  CHECK(encoded["auth"] == encode_basic_auth("alice", "alicepw"));
}

TEST_CASE("auth entry: an identity token drops the password", "[credentials]") {
  Json encoded = encode_auth_entry(Json::object(), Credentials{"alice", "alicepw", "idt", ""});
  CHECK(encoded == Json{{"auth", base64_encode("alice:")}, {"identitytoken", "idt"}});
  auto decoded = decode_auth_entry(encoded, "r.example");
  REQUIRE(decoded);
  REQUIRE(decoded->has_value());
  CHECK((*decoded)->username == "alice");
  CHECK((*decoded)->password.empty());
  CHECK((*decoded)->identity_token == "idt");
}

TEST_CASE("auth entry: empty credentials leave a placeholder with unknown fields",
          "[credentials]") {
  Json entry = {{"auth", "YTpi"}, {"email", "a@example.com"}, {"registrytoken", "rt"}};
  CHECK(encode_auth_entry(entry, Credentials{}) == Json{{"email", "a@example.com"}});
  CHECK(encode_auth_entry(Json::object(), Credentials{}) == Json::object());
  CHECK(encode_auth_entry(Json("not an object"), Credentials{}) == Json::object());
}

TEST_CASE("auth entry: encoding then decoding gives the credentials back", "[credentials]") {
  const std::vector<Credentials> cases = {
      {"alice", "alicepw", "", ""},
      {"alice", "p:w with spaces and \xC3\xA9", "", ""},
      {"bob", "", "", "rt"},
      {"", "", "", "rt"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.username, c.password);
    auto decoded = decode_auth_entry(encode_auth_entry(Json::object(), c), "r.example");
    REQUIRE(decoded);
    REQUIRE(decoded->has_value());
    CHECK((*decoded)->username == c.username);
    CHECK((*decoded)->password == c.password);
    CHECK((*decoded)->registry_token == c.registry_token);
  }
}

TEST_CASE("auth entry: basic auth is base64 of user colon password", "[credentials]") {
  CHECK(encode_basic_auth("alice", "alicepw") == "YWxpY2U6YWxpY2Vwdw==");
  CHECK(encode_basic_auth("a", "b") == "YTpi");
  CHECK(encode_basic_auth("", "") == "Og==");
}
