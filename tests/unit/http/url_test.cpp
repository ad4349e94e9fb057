#include "regauth/http/header_lines.hpp"
#include "regauth/http/transport.hpp"
#include "regauth/http/url.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using regauth::ErrorKind;
using regauth::http::append_query;
using regauth::http::is_ip_literal;
using regauth::http::is_loopback_host;
using regauth::http::parse_url;
using regauth::http::redact_header_line;
using regauth::http::resolve_url;
using regauth::http::url_encode;

TEST_CASE("url: absolute http(s) URLs are split into parts", "[http]") {
  struct Case {
    std::string text;
    std::string scheme;
    std::string host;
    int port;
    std::string path;
    std::string query;
    std::string origin;
    std::string host_port;
  };
  const std::vector<Case> cases = {
      {"https://r.example", "https", "r.example", 443, "/", "", "https://r.example:443",
       "r.example"},
      {"https://R.Example:5000/v2/?a=b&c=d", "https", "r.example", 5000, "/v2/", "a=b&c=d",
       "https://r.example:5000", "r.example:5000"},
      {"HTTP://r.example/v2/x", "http", "r.example", 80, "/v2/x", "", "http://r.example:80",
       "r.example"},
      {"http://r.example:443/", "http", "r.example", 443, "/", "", "http://r.example:443",
       "r.example:443"},
      {"https://[::1]:5000/v2/", "https", "::1", 5000, "/v2/", "", "https://[::1]:5000",
       "[::1]:5000"},
      {"https://[::1]/", "https", "::1", 443, "/", "", "https://[::1]:443", "[::1]"},
      {"https://127.0.0.1:5001/token?service=x", "https", "127.0.0.1", 5001, "/token", "service=x",
       "https://127.0.0.1:5001", "127.0.0.1:5001"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto url = parse_url(c.text);
    REQUIRE(url);
    CHECK(url->scheme == c.scheme);
    CHECK(url->host == c.host);
    CHECK(url->port == c.port);
    CHECK(url->path == c.path);
    CHECK(url->query == c.query);
    CHECK(url->origin() == c.origin);
    CHECK(url->host_port() == c.host_port);
  }
}

TEST_CASE("url: other schemes, user information and unsafe bytes are refused", "[http]") {
  const std::vector<std::string> cases = {
      "",
      "r.example",
      "/v2/",
      "ftp://r.example/",
      "file:///etc/passwd",
      "gopher://r.example/",
      "javascript:alert(1)",
      "https://user@r.example/",
      "https://user:hunter2@r.example/",
      "https://r.example/a b",
      "https://r.example/\r\nX-Injected: 1",
      "https://r.example/\t",
      std::string("https://r.example/\0x", 20),
      "https://r.example/\x7f",
      "https://",
      "https://r.example:99999/",
  };
  for (const auto& text : cases) {
    CAPTURE(text);
    auto url = parse_url(text);
    REQUIRE_FALSE(url);
    CHECK(url.error().kind == ErrorKind::protocol);
    CHECK_THAT(url.error().message, !Catch::Contains("hunter2"));
  }
}

TEST_CASE("url: messages about a URL hide its user information", "[http]") {
  auto parsed = parse_url("https://alice:hunter2@r.example/v2/?q=1");
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().message ==
        "invalid URL \"https://[redacted]@r.example/v2/?q=1\": user information is not allowed");
  auto bad_port = parse_url("https://alice:hunter2@r.example:99999/");
  REQUIRE_FALSE(bad_port);
  CHECK_THAT(bad_port.error().message, Catch::Contains("https://[redacted]@r.example:99999/"));
  auto mail_in_path = parse_url("ftp://r.example/a@b");
  REQUIRE_FALSE(mail_in_path);
  CHECK_THAT(mail_in_path.error().message, Catch::Contains("ftp://r.example/a@b"));
}

TEST_CASE("url: references are resolved against the base", "[http]") {
  struct Case {
    std::string base;
    std::string reference;
    std::string expected;
  };
  const std::string uploads = "https://r.example/v2/app/blobs/uploads/";
  const std::vector<Case> cases = {
      {uploads, "/v2/app/blobs/uploads/abc?_state=xyz",
       "https://r.example/v2/app/blobs/uploads/abc?_state=xyz"},
      {uploads, "abc?_state=a%2Fb%3D%3D&x=1",
       "https://r.example/v2/app/blobs/uploads/abc?_state=a%2Fb%3D%3D&x=1"},
      {uploads, "../manifests/1.0", "https://r.example/v2/app/blobs/manifests/1.0"},
      {uploads, "?_state=only", "https://r.example/v2/app/blobs/uploads/?_state=only"},
      {uploads, "https://storage.example/bucket/obj?sig=1",
       "https://storage.example/bucket/obj?sig=1"},
      {uploads, "//cdn.example/blob", "https://cdn.example/blob"},
      {"http://127.0.0.1:5000/v2/", "/token", "http://127.0.0.1:5000/token"},
      {"https://r.example:5000/v2/", "/token?service=r", "https://r.example:5000/token?service=r"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.base, c.reference);
    auto resolved = resolve_url(c.base, c.reference);
    REQUIRE(resolved);
    CHECK(*resolved == c.expected);
  }
}

TEST_CASE("url: dangerous references are refused", "[http]") {
  const std::string base = "https://r.example/v2/";
  const std::vector<std::string> cases = {
      "/v2/x\r\nSet-Cookie: a=b", "/v2/x\n",           "/v2/a b",
      "file:///etc/passwd",       "ftp://r.example/x", "https://user:hunter2@other.example/",
  };
  for (const auto& reference : cases) {
    CAPTURE(reference);
    auto resolved = resolve_url(base, reference);
    REQUIRE_FALSE(resolved);
    CHECK(resolved.error().kind == ErrorKind::protocol);
    CHECK_THAT(resolved.error().message, !Catch::Contains("hunter2"));
  }
}

TEST_CASE("url: query parameters are appended and encoded", "[http]") {
  struct Case {
    std::string url;
    std::vector<std::pair<std::string, std::string>> params;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"https://a.example/token",
       {{"service", "r.example"}, {"scope", "repository:app:pull,push"}},
       "https://a.example/token?service=r.example&scope=repository%3Aapp%3Apull%2Cpush"},
      {"https://a.example/token?x=1", {{"service", "r"}}, "https://a.example/token?x=1&service=r"},
      {"https://a.example/token?", {{"service", "r"}}, "https://a.example/token?service=r"},
      {"https://a.example/token?x=1&", {{"a", "b"}}, "https://a.example/token?x=1&a=b"},
      {"https://a.example/token#frag", {{"a", "b"}}, "https://a.example/token?a=b"},
      {"https://a.example/token?x=1", {}, "https://a.example/token?x=1"},
      {"https://a.example/t",
       {{"account", "a b&c=d"}},
       "https://a.example/t?account=a%20b%26c%3Dd"},
      {"",
       {{"grant_type", "refresh_token"}, {"client_id", "regauth"}},
       "?grant_type=refresh_token&client_id=regauth"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.url);
    CHECK(append_query(c.url, c.params) == c.expected);
  }
  CHECK(url_encode("a b/c~_.-") == "a%20b%2Fc~_.-");
  CHECK(url_encode("") == "");
}

TEST_CASE("url: loopback hosts and IP literals are recognised", "[http]") {
  struct Case {
    std::string host;
    bool loopback;
    bool ip_literal;
  };
  const std::vector<Case> cases = {
      {"127.0.0.1", true, true},
      {"127.0.0.5", true, true},
      {"127.255.255.254", true, true},
      {"::1", true, true},
      {"[::1]", true, true},
      {"0:0:0:0:0:0:0:1", true, true},
      {"localhost", true, false},
      {"LOCALHOST", true, false},
      {"128.0.0.1", false, true},
      {"126.0.0.1", false, true},
      {"10.0.0.1", false, true},
      {"169.254.169.254", false, true},
      {"::2", false, true},
      {"fe80::1", false, true},
      {"::ffff:127.0.0.1", false, true},
      {"localhost.evil.test", false, false},
      {"127.0.0.1.evil.test", false, false},
      {"r.example", false, false},
      {"", false, false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.host);
    CHECK(is_loopback_host(c.host) == c.loopback);
    CHECK(is_ip_literal(c.host) == c.ip_literal);
  }
}

TEST_CASE("url: secret header lines are redacted for --debug", "[http]") {
  struct Case {
    std::string line;
    std::string shown;
  };
  const std::vector<Case> cases = {
      {"Authorization: Bearer xyz", "Authorization: Bearer [redacted]"},
      {"Authorization: Basic YWxpY2U6YWxpY2Vwdw==", "Authorization: Basic [redacted]"},
      {"authorization:Basic YWxpY2U6YWxpY2Vwdw==", "authorization: Basic [redacted]"},
      {"AUTHORIZATION:   Bearer  xyz", "AUTHORIZATION: Bearer [redacted]"},
      {"Authorization: opaquetoken", "Authorization: [redacted]"},
      {"Proxy-Authorization: Basic YWxpY2U6YWxpY2Vwdw==", "Proxy-Authorization: Basic [redacted]"},
      {"Cookie: session=abc; other=def", "Cookie: [redacted]"},
      {"Set-Cookie: session=abc; Path=/; HttpOnly", "Set-Cookie: [redacted]"},
      {"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261129/us-east-1/ecr/"
       "aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
       "Authorization: AWS4-HMAC-SHA256 [redacted]"},
      {"X-Amz-Security-Token: IQoJb3JpZ2luX2Vj", "X-Amz-Security-Token: [redacted]"},
      {"x-amz-security-token: two words", "x-amz-security-token: [redacted]"},
      {"X-aws-ec2-metadata-token: AQAEAabc", "X-aws-ec2-metadata-token: [redacted]"},
      {"Content-Type: application/json", "Content-Type: application/json"},
      {"WWW-Authenticate: Bearer realm=\"x\"", "WWW-Authenticate: Bearer realm=\"x\""},
      {"GET /v2/ HTTP/1.1", "GET /v2/ HTTP/1.1"},
      {"", ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.line);
    CHECK(redact_header_line(c.line) == c.shown);
  }
}

TEST_CASE("url: plain HTTP is allowed for loopback and listed hosts only", "[http]") {
  regauth::http::TransportOptions options;
  options.insecure_registries = {"insecure.example", "porty.example:5000", "[fd00::1]:5000"};
  struct Case {
    std::string url;
    bool allowed;
  };
  const std::vector<Case> cases = {
      {"http://127.0.0.1:5000/v2/", true},
      {"http://localhost/v2/", true},
      {"http://[::1]:5000/v2/", true},
      {"http://insecure.example:8080/v2/", true},
      {"https://INSECURE.example/v2/", true},
      {"http://porty.example:5000/v2/", true},
      {"http://porty.example:5001/v2/", false},
      {"http://porty.example/v2/", false},
      {"http://[fd00::1]:5000/v2/", true},
      {"http://r.example/v2/", false},
      {"http://insecure.example.evil.test/v2/", false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.url);
    auto url = parse_url(c.url);
    REQUIRE(url);
    CHECK(regauth::http::allows_insecure(options, *url) == c.allowed);
  }
}
