#include "regauth/credentials/helper_messages.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using regauth::ErrorKind;
using regauth::credentials::Credentials;
using regauth::credentials::is_not_found_message;
using regauth::credentials::is_safe_server_url;
using regauth::credentials::make_store_message;
using regauth::credentials::parse_get_response;
using regauth::credentials::parse_list_response;
using regauth::credentials::sanitize_helper_message;

TEST_CASE("helper messages: store carries server, username and secret", "[credentials]") {
  auto message = nlohmann::json::parse(
      make_store_message("r.example:5000", Credentials{"alice", "alice\"pw\n", "", ""}));
  CHECK(message == nlohmann::json{{"ServerURL", "r.example:5000"},
                                  {"Username", "alice"},
                                  {"Secret", "alice\"pw\n"}});
}

TEST_CASE("helper messages: an identity token is filed under <token>", "[credentials]") {
  auto message = nlohmann::json::parse(
      make_store_message("https://index.docker.io/v1/", Credentials{"alice", "pw", "idt", ""}));
  CHECK(message["ServerURL"] == "https://index.docker.io/v1/");
  CHECK(message["Username"] == "<token>");
  CHECK(message["Secret"] == "idt");
}

TEST_CASE("helper messages: a secret that is not UTF-8 does not throw", "[credentials]") {
  // Go's encoding/json (and so the Docker CLI) writes invalid UTF-8 as U+FFFD.
  std::string message;
  REQUIRE_NOTHROW(message =
                      make_store_message("r.example", Credentials{"alice", "pw\xff\xfe", "", ""}));
  auto parsed = nlohmann::json::parse(message, nullptr, false);
  REQUIRE_FALSE(parsed.is_discarded());
  CHECK(parsed["Secret"] == "pw\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST_CASE("helper messages: get answers are parsed", "[credentials]") {
  struct Case {
    std::string output;
    Credentials expected;
  };
  const std::vector<Case> cases = {
      {R"({"ServerURL":"r.example","Username":"alice","Secret":"alicepw"})",
       {"alice", "alicepw", "", ""}},
      {"  {\"Username\":\"alice\",\"Secret\":\"pw\"}\n", {"alice", "pw", "", ""}},
      {R"({"Username":"<token>","Secret":"idt"})", {"", "", "idt", ""}},
      {R"({"Username":"alice","Secret":""})", {"alice", "", "", ""}},
      {R"({"Username":null,"Secret":"pw","Extra":5})", {"", "pw", "", ""}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.output);
    auto parsed = parse_get_response(c.output);
    REQUIRE(parsed);
    REQUIRE(parsed->has_value());
    CHECK((*parsed)->username == c.expected.username);
    CHECK((*parsed)->password == c.expected.password);
    CHECK((*parsed)->identity_token == c.expected.identity_token);
  }
}

TEST_CASE("helper messages: an empty get answer means no credentials", "[credentials]") {
  for (const std::string output : {R"({"ServerURL":"r.example","Username":"","Secret":""})", "{}",
                                   R"({"Username":null,"Secret":null})"}) {
    CAPTURE(output);
    auto parsed = parse_get_response(output);
    REQUIRE(parsed);
    CHECK_FALSE(parsed->has_value());
  }
}

TEST_CASE("helper messages: a get answer that is not one object is a helper error",
          "[credentials]") {
  for (const std::string output :
       {"", "garbage", "[]", "\"text\"", "42", "{\"Username\":", "{} {}",
        R"({"Username":5,"Secret":"pw"})", R"({"Username":"a","Secret":["pw"]})"}) {
    CAPTURE(output);
    auto parsed = parse_get_response(output);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().kind == ErrorKind::helper);
    CHECK_THAT(parsed.error().message, Catch::Contains("'get'"));
  }
}

TEST_CASE("helper messages: list answers map server to username", "[credentials]") {
  auto parsed = parse_list_response(R"({"https://index.docker.io/v1/":"alice","r.example":"bob"})");
  REQUIRE(parsed);
  CHECK(*parsed == std::map<std::string, std::string>{{"https://index.docker.io/v1/", "alice"},
                                                      {"r.example", "bob"}});
  auto empty = parse_list_response("{}\n");
  REQUIRE(empty);
  CHECK(empty->empty());

  for (const std::string output : {"", "[]", "nope", R"({"r.example": 1})", R"({"r": null})"}) {
    CAPTURE(output);
    auto bad = parse_list_response(output);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == ErrorKind::helper);
    CHECK_THAT(bad.error().message, Catch::Contains("'list'"));
  }
}

TEST_CASE("helper messages: the not-found text is recognised with whitespace", "[credentials]") {
  struct Case {
    std::string output;
    bool not_found;
  };
  const std::vector<Case> cases = {
      {"credentials not found in native keychain", true},
      {"credentials not found in native keychain\n", true},
      {"  credentials not found in native keychain\r\n", true},
      {"\tcredentials not found in native keychain \n\n", true},
      {"error: credentials not found in native keychain", false},
      {"credentials not found in native keychain: really", false},
      {"Credentials Not Found In Native Keychain", false},
      {"", false},
      {"\n", false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.output);
    CHECK(is_not_found_message(c.output) == c.not_found);
  }
}

TEST_CASE("helper messages: server URLs with control bytes are unsafe", "[credentials]") {
  struct Case {
    std::string url;
    bool safe;
  };
  const std::vector<Case> cases = {
      {"r.example", true},
      {"https://index.docker.io/v1/", true},
      {"[::1]:5000", true},
      {"", false},
      {"r.example\nsecond line", false},
      {"r.example\n", false},
      {"r.example\r", false},
      {std::string("r.example\0", 10), false},
      {"r.example\x1b[2J", false},
      {"r.example\x7f", false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.url);
    CHECK(is_safe_server_url(c.url) == c.safe);
  }
}

TEST_CASE("helper messages: helper output is made safe to show", "[credentials]") {
  struct Case {
    std::string output;
    std::string secret;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"  plain message \n", "", "plain message"},
      {"two\nlines", "", "two lines"},
      {"wrong secret hunter2 for alice", "hunter2", "wrong secret [redacted] for alice"},
      {"hunter2 and hunter2 again", "hunter2", "[redacted] and [redacted] again"},
      {"secret e in text e", "e",
       "s[redacted]cr[redacted]t [redacted] in t[redacted]xt [redacted]"},
      {"nothing secret", "", "nothing secret"},
      {"bell\a and nul", "", "bell and nul"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.output, c.secret);
    CHECK(sanitize_helper_message(c.output, c.secret) == c.expected);
  }
}

TEST_CASE("helper messages: terminal escape sequences are removed", "[credentials]") {
  std::string shown =
      sanitize_helper_message("\x1b[31merror\x1b[0m: \x1b]0;owned\x07no \x1b[2Jkeychain");
  CHECK(shown.find('\x1b') == std::string::npos);
  CHECK(shown.find('\x07') == std::string::npos);
  for (char c : shown) {
    CHECK(static_cast<unsigned char>(c) >= 0x20);
  }
  CHECK_THAT(shown, Catch::Contains("error"));
  CHECK_THAT(shown, Catch::Contains("keychain"));
}

TEST_CASE("helper messages: long helper output is capped", "[credentials]") {
  std::string shown = sanitize_helper_message(std::string(100000, 'x'));
  CHECK(shown.size() <= 410);
  CHECK_THAT(shown, Catch::EndsWith("..."));
  CHECK(sanitize_helper_message(std::string(100, 'x')) == std::string(100, 'x'));
}

TEST_CASE("helper messages: a secret split by control bytes is still redacted (fuzz finding)",
          "[credentials]") {
  std::string output = std::string("error: s3cr\x7f") + '\0' + "et here";
  auto shown = regauth::credentials::sanitize_helper_message(output, "s3cret");
  CHECK(shown.find("s3cret") == std::string::npos);
  CHECK(shown.find("[redacted]") != std::string::npos);
}
