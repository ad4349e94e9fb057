#include "regauth/http/header_lines.hpp"

#include <catch2/catch.hpp>

using regauth::http::add_header_line;
using regauth::http::Header;
using regauth::http::parse_header_block;

TEST_CASE("header lines: name and value split at the first colon, value trimmed", "[http]") {
  auto headers = parse_header_block("Location: /v2/a?b=c:d \r\nX-Empty:\r\n");
  REQUIRE(headers.size() == 2);
  CHECK(headers[0].name == "Location");
  CHECK(headers[0].value == "/v2/a?b=c:d");
  CHECK(headers[1].name == "X-Empty");
  CHECK(headers[1].value.empty());
}

TEST_CASE("header lines: an obs-fold continuation joins the previous value with one space",
          "[http]") {
  auto headers = parse_header_block("WWW-Authenticate: Bearer realm=\"https://a/token\",\r\n"
                                    " \t service=\"a\",\r\n"
                                    "\tscope=\"repository:x:pull\"\r\n"
                                    "Content-Length: 0\r\n");
  REQUIRE(headers.size() == 2);
  CHECK(headers[0].value ==
        "Bearer realm=\"https://a/token\", service=\"a\", scope=\"repository:x:pull\"");
  CHECK(headers[1].name == "Content-Length");
}

TEST_CASE("header lines: a fold after an empty value gives no leading space", "[http]") {
  auto headers = parse_header_block("X-A:\r\n  folded\r\n");
  REQUIRE(headers.size() == 1);
  CHECK(headers[0].value == "folded");
}

TEST_CASE("header lines: a continuation with no header before it is ignored", "[http]") {
  std::vector<Header> headers;
  add_header_line(headers, "  orphan\r\n");
  CHECK(headers.empty());
  add_header_line(headers, "HTTP/1.1 200 OK\r\n");
  add_header_line(headers, " orphan after the status line\r\n");
  CHECK(headers.empty());
}

TEST_CASE("header lines: a status line starts a new response", "[http]") {
  auto headers = parse_header_block("HTTP/1.1 307 Temporary Redirect\r\nLocation: /x\r\n\r\n"
                                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
  REQUIRE(headers.size() == 1);
  CHECK(headers[0].name == "Content-Type");
}

TEST_CASE("header lines: lines without a colon or with an empty name are ignored", "[http]") {
  auto headers = parse_header_block("garbage\r\n: no name\r\nA: 1\r\n");
  REQUIRE(headers.size() == 1);
  CHECK(headers[0].name == "A");
}

TEST_CASE("header lines: a blank-only continuation adds nothing", "[http]") {
  auto headers = parse_header_block("A: 1\r\n \t \r\n");
  REQUIRE(headers.size() == 1);
  CHECK(headers[0].value == "1");
}
