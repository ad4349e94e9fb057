#include "regauth/auth/challenge.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

using regauth::ErrorKind;
using regauth::auth::Challenge;
using regauth::auth::choose_challenge;
using regauth::auth::parse_challenge_headers;
using regauth::auth::parse_challenges;
using regauth::auth::to_header;

namespace {

Challenge make(std::string scheme, std::map<std::string, std::string> params = {},
               std::string token68 = {}) {
  return Challenge{std::move(scheme), std::move(params), std::move(token68)};
}

std::string describe(const std::vector<Challenge>& challenges) {
  std::string text;
  for (const auto& challenge : challenges) {
    text += "[" + to_header(challenge) + "]";
  }
  return text;
}

} // namespace

TEST_CASE("challenge: headers parse to schemes, parameters and token68", "[auth]") {
  struct Case {
    std::string header;
    std::vector<Challenge> expected;
  };
  const std::vector<Case> cases = {
      {R"(Basic realm="Registry Realm")", {make("basic", {{"realm", "Registry Realm"}})}},
      {R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull")",
       {make("bearer", {{"realm", "https://auth.docker.io/token"},
                        {"service", "registry.docker.io"},
                        {"scope", "repository:library/alpine:pull"}})}},
      {R"(Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:u/r:pull", Basic realm="GitHub Package Registry")",
       {make("bearer", {{"realm", "https://ghcr.io/token"},
                        {"service", "ghcr.io"},
                        {"scope", "repository:u/r:pull"}}),
        make("basic", {{"realm", "GitHub Package Registry"}})}},
      {"BASIC REALM=x", {make("basic", {{"realm", "x"}})}},
      {"bAsIc ReAlM=\"X\"", {make("basic", {{"realm", "X"}})}},
      {R"(Basic realm="a\"b")", {make("basic", {{"realm", "a\"b"}})}},
      {R"(Basic realm="a\\b\c")", {make("basic", {{"realm", "a\\bc"}})}},
      {R"(Basic realm="")", {make("basic", {{"realm", ""}})}},
      {R"(Basic realm="a, b=c")", {make("basic", {{"realm", "a, b=c"}})}},
      {"Negotiate abc==", {make("negotiate", {}, "abc==")}},
      {"Negotiate YIIB+/x=, Basic realm=r",
       {make("negotiate", {}, "YIIB+/x="), make("basic", {{"realm", "r"}})}},
      {"Negotiate", {make("negotiate")}},
      {"Negotiate, Basic realm=r", {make("negotiate"), make("basic", {{"realm", "r"}})}},
      {"Basic realm = \"spaced\" , charset=\"UTF-8\"",
       {make("basic", {{"realm", "spaced"}, {"charset", "UTF-8"}})}},
      {"  Basic realm=r  ,  ", {make("basic", {{"realm", "r"}})}},
      {", ,Basic realm=r", {make("basic", {{"realm", "r"}})}},
      {"Bearer realm=\"tab\there\"", {make("bearer", {{"realm", "tab\there"}})}},
      {"", {}},
      {"   ", {}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.header);
    auto parsed = parse_challenges(c.header);
    REQUIRE(parsed);
    CAPTURE(describe(*parsed));
    CHECK(*parsed == c.expected);
  }
}

TEST_CASE("challenge: several headers are parsed in order", "[auth]") {
  auto parsed =
      parse_challenge_headers({R"(Bearer realm="https://r.example/token",service="r.example")",
                               "Basic realm=\"r\"", "Negotiate abc=="});
  REQUIRE(parsed);
  REQUIRE(parsed->size() == 3);
  CHECK((*parsed)[0].scheme == "bearer");
  CHECK((*parsed)[0].param("service") == "r.example");
  CHECK((*parsed)[1].scheme == "basic");
  CHECK((*parsed)[2].token68 == "abc==");

  auto none = parse_challenge_headers({});
  REQUIRE(none);
  CHECK(none->empty());

  auto broken = parse_challenge_headers({"Basic realm=r", "Bearer realm=\"open"});
  REQUIRE_FALSE(broken);
  CHECK(broken.error().kind == ErrorKind::protocol);
}

TEST_CASE("challenge: malformed headers are protocol errors", "[auth]") {
  struct Case {
    std::string header;
    std::string words;
  };
  const std::vector<Case> cases = {
      {R"(Basic realm="a", realm="b")", "duplicate parameter \"realm\""},
      {R"(Basic realm="a", REALM="b")", "duplicate parameter \"realm\""},
      {R"(Bearer realm="https://r.example/token)", "unterminated quoted string"},
      {R"(Bearer realm="ends in backslash\)", "unterminated quoted string"},
      {"Bearer realm=\"new\nline\"", "control character"},
      {"Basic realm=\"a\" junk", "expected ','"},
      {"Basic a\"b\"", "expected '=' after \"a\""},
      {"Basic \"x\"", "expected a parameter name"},
      {"Basic realm=a b=c", "expected ','"},
      {"=x", "expected an authentication scheme"},
      {"\"Basic\"", "expected an authentication scheme"},
      {"Basic;realm=x", "expected a space after the scheme"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.header);
    auto parsed = parse_challenges(c.header);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().kind == ErrorKind::protocol);
    CHECK_THAT(parsed.error().message,
               Catch::StartsWith("malformed WWW-Authenticate header at byte"));
    CHECK_THAT(parsed.error().message, Catch::Contains(c.words));
  }
}

TEST_CASE("challenge: absurd numbers of challenges or parameters are refused", "[auth]") {
  std::string many_challenges;
  for (int i = 0; i < 100; ++i) {
    many_challenges += "Basic realm=r" + std::to_string(i) + ", ";
  }
  CHECK_FALSE(parse_challenges(many_challenges));

  std::string many_params = "Bearer ";
  for (int i = 0; i < 100; ++i) {
    many_params += "p" + std::to_string(i) + "=v, ";
  }
  CHECK_FALSE(parse_challenges(many_params));
}

TEST_CASE("challenge: Bearer is preferred over Basic", "[auth]") {
  struct Case {
    std::vector<Challenge> offered;
    std::string chosen;
  };
  const std::vector<Case> cases = {
      {{make("basic", {{"realm", "r"}}), make("bearer", {{"realm", "https://r/token"}})}, "bearer"},
      {{make("bearer", {{"realm", "https://r/token"}}), make("basic", {{"realm", "r"}})}, "bearer"},
      {{make("negotiate", {}, "abc=="), make("basic", {{"realm", "r"}})}, "basic"},
      {{make("basic")}, "basic"},
  };
  for (const auto& c : cases) {
    CAPTURE(describe(c.offered));
    auto chosen = choose_challenge(c.offered);
    REQUIRE(chosen);
    CHECK(chosen->scheme == c.chosen);
  }
}

TEST_CASE("challenge: choosing fails without a usable challenge", "[auth]") {
  struct Case {
    std::vector<Challenge> offered;
    std::string words;
  };
  const std::vector<Case> cases = {
      {{}, "offered: none"},
      {{make("negotiate", {}, "abc=="), make("digest", {{"realm", "r"}})},
       "offered: negotiate, digest"},
      {{make("bearer", {{"service", "r.example"}})}, "no realm"},
      {{make("bearer", {{"realm", ""}}), make("basic", {{"realm", "r"}})}, "no realm"},
  };
  for (const auto& c : cases) {
    CAPTURE(describe(c.offered));
    auto chosen = choose_challenge(c.offered);
    REQUIRE_FALSE(chosen);
    CHECK(chosen.error().kind == ErrorKind::protocol);
    CHECK_THAT(chosen.error().message, Catch::Contains(c.words));
  }
}

TEST_CASE("challenge: a parsed challenge re-serialized re-parses to itself", "[auth]") {
  const std::vector<std::string> headers = {
      R"(Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:u/r:pull")",
      R"(Basic realm="GitHub Package Registry")",
      R"(Basic realm="a\"b\\c")",
      "BASIC REALM=x",
      "Negotiate abc==",
      "Negotiate",
      R"(Bearer realm="with, comma and = sign",error="insufficient_scope")",
      "Bearer realm=\"tab\there\"",
  };
  for (const auto& header : headers) {
    CAPTURE(header);
    auto parsed = parse_challenges(header);
    REQUIRE(parsed);
    REQUIRE(parsed->size() == 1);
    std::string serialized = to_header(parsed->front());
    CAPTURE(serialized);
    auto again = parse_challenges(serialized);
    REQUIRE(again);
    REQUIRE(again->size() == 1);
    CHECK(again->front() == parsed->front());
  }
  CHECK(to_header(make("basic", {{"realm", "a\"b"}})) == R"(basic realm="a\"b")");
  CHECK(to_header(make("bearer", {{"service", "s"}, {"realm", "r"}})) ==
        R"(bearer realm="r", service="s")");
  CHECK(to_header(make("negotiate", {}, "abc==")) == "negotiate abc==");
}

TEST_CASE("challenge: a missing parameter reads as empty", "[auth]") {
  auto challenge = make("bearer", {{"realm", "r"}});
  CHECK(challenge.param("realm") == "r");
  CHECK(challenge.param("service").empty());
}
