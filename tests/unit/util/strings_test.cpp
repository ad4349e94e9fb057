#include "regauth/util/base64.hpp"
#include "regauth/util/docker_hub.hpp"
#include "regauth/util/strings.hpp"

#include <catch2/catch.hpp>

#include <string>

using regauth::parse_uint64;

TEST_CASE("strings: to_lower folds ASCII letters only", "[util]") {
  CHECK(regauth::to_lower("Docker.IO:5000") == "docker.io:5000");
  CHECK(regauth::to_lower("\xc3\x84Z") == "\xc3\x84z");
  CHECK(regauth::to_lower("").empty());
}

TEST_CASE("strings: iequals ignores ASCII case and nothing else", "[util]") {
  CHECK(regauth::iequals("Content-Length", "content-length"));
  CHECK_FALSE(regauth::iequals("Content-Length", "content-lengt"));
  CHECK_FALSE(regauth::iequals("a", "b"));
}

TEST_CASE("strings: quote_text cuts long values and hides control bytes", "[util]") {
  CHECK(regauth::quote_text("a\nb") == "\"a?b\"");
  CHECK(regauth::quote_text(std::string(100, 'x'), 3) == "\"xxx...\"");
}

TEST_CASE("strings: parse_uint64 takes whole decimal numbers only", "[util]") {
  CHECK(parse_uint64("0") == 0U);
  CHECK(parse_uint64("1235") == 1235U);
  CHECK(parse_uint64("18446744073709551615") == UINT64_MAX);
  CHECK_FALSE(parse_uint64("18446744073709551616").has_value());
  CHECK_FALSE(parse_uint64("").has_value());
  CHECK_FALSE(parse_uint64("-1").has_value());
  CHECK_FALSE(parse_uint64("+1").has_value());
  CHECK_FALSE(parse_uint64(" 1").has_value());
  CHECK_FALSE(parse_uint64("12abc").has_value());
  CHECK_FALSE(parse_uint64("Wed, 21 Oct 2015 07:28:00 GMT").has_value());
}

TEST_CASE("docker hub: every spelling of the host is recognised", "[util]") {
  CHECK(regauth::is_docker_hub_host("docker.io"));
  CHECK(regauth::is_docker_hub_host("index.docker.io"));
  CHECK(regauth::is_docker_hub_host("registry-1.docker.io"));
  CHECK_FALSE(regauth::is_docker_hub_host("docker.io.example"));
  CHECK_FALSE(regauth::is_docker_hub_host("registry-2.docker.io"));
}

TEST_CASE("base64: basic_authorization is the RFC 7617 header value", "[util]") {
  CHECK(regauth::basic_authorization("alice", "alicepw") == "Basic YWxpY2U6YWxpY2Vwdw==");
  CHECK(regauth::basic_authorization("", "") == "Basic Og==");
}
