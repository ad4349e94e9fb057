#include "regauth/http/error_body.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using regauth::ErrorKind;
using regauth::http::describe_error_body;
using regauth::http::kind_for_status;
using regauth::http::parse_error_body;
using regauth::http::Response;
using regauth::http::response_error;

TEST_CASE("error body: servers' own words are read from every known format", "[http]") {
  struct Case {
    std::string body;
    std::string words;
  };
  const std::vector<Case> cases = {
      {R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]})",
       "unauthorized: authentication required"},
      {R"({"errors":[{"code":"DENIED","message":"requested access to the resource is denied"},)"
       R"({"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{"name":"x"}}]})",
       "denied: requested access to the resource is denied; name_unknown: repository name not "
       "known to registry"},
      {R"({"errors":[{"code":"UNAUTHORIZED"}]})", "unauthorized"},
      {R"({"errors":[{"message":"only words"}]})", "only words"},
      {R"({"details":"incorrect username or password"})", "incorrect username or password"},
      {R"({"error":"invalid_grant","error_description":"refresh token expired"})",
       "invalid_grant: refresh token expired"},
      {R"({"error":"invalid_client"})", "invalid_client"},
      {R"({"message":"Bad credentials"})", "Bad credentials"},
      {R"({"errors":[],"details":"fallback"})", "fallback"},
      {"<html><body><h1>401 Authorization Required</h1></body></html>", ""},
      {"", ""},
      {"[]", ""},
      {"{}", ""},
      {R"({"errors":"not a list"})", ""},
      {R"({"details":42})", ""},
      {"unauthorized", ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.body);
    CHECK(describe_error_body(c.body) == c.words);
  }
  auto parsed = parse_error_body(cases[0].body);
  REQUIRE(parsed.size() == 1);
  CHECK(parsed[0].code == "UNAUTHORIZED");
  CHECK(parsed[0].message == "authentication required");
}

TEST_CASE("error body: terminal escape sequences never reach the terminal", "[http]") {
  std::string shown =
      describe_error_body(R"({"details":"\u001b[31mred\u001b[0m \u001b]0;title\u0007ok\r\nnext"})");
  for (char c : shown) {
    CHECK(static_cast<unsigned char>(c) >= 0x20);
    CHECK(c != 0x7f);
  }
  CHECK_THAT(shown, Catch::Contains("red"));
  CHECK_THAT(shown, Catch::Contains("next"));

  CHECK(shown.find('\x1b') == std::string::npos);
  CHECK_THAT(shown, Catch::Contains("\\x1b[31mred"));
}

TEST_CASE("error body: a long message is capped", "[http]") {
  std::string body = R"({"details":")" + std::string(1000, 'a') + R"("})";
  CHECK(describe_error_body(body) == std::string(300, 'a') + "...");
}

TEST_CASE("error body: statuses map to error kinds", "[http]") {
  struct Case {
    long status;
    ErrorKind kind;
  };
  const std::vector<Case> cases = {
      {401, ErrorKind::unauthorized}, {403, ErrorKind::denied},   {404, ErrorKind::not_found},
      {408, ErrorKind::network},      {429, ErrorKind::network},  {500, ErrorKind::network},
      {502, ErrorKind::network},      {503, ErrorKind::network},  {400, ErrorKind::protocol},
      {405, ErrorKind::protocol},     {418, ErrorKind::protocol}, {302, ErrorKind::protocol},
  };
  for (const auto& c : cases) {
    CAPTURE(c.status);
    CHECK(kind_for_status(c.status) == c.kind);
  }
}

TEST_CASE("error body: a failed response becomes a message with status and words", "[http]") {
  Response unauthorized;
  unauthorized.status = 401;
  unauthorized.body = R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})";
  auto error = response_error("PUT https://r.example/v2/app/manifests/1.0", unauthorized);
  CHECK(error.kind == ErrorKind::unauthorized);
  CHECK(error.message == "PUT https://r.example/v2/app/manifests/1.0: 401 Unauthorized: "
                         "unauthorized: authentication required");

  Response unavailable;
  unavailable.status = 503;
  unavailable.body = "<html>down</html>";
  auto down = response_error("GET https://r.example/v2/", unavailable);
  CHECK(down.kind == ErrorKind::network);
  CHECK(down.message == "GET https://r.example/v2/: 503 Service Unavailable");

  Response teapot;
  teapot.status = 418;
  CHECK(response_error("GET x", teapot).message == "GET x: 418");
}
