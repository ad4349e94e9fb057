#include "regauth/auth/token.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

using regauth::ErrorKind;
using regauth::auth::check_realm;
using regauth::auth::parse_token_response;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {

// 2023-11-14T22:13:20Z
const auto k_now = std::chrono::system_clock::from_time_t(1700000000);

} // namespace

TEST_CASE("token: the token and its lifetime are read from the response", "[auth]") {
  struct Case {
    std::string body;
    std::string token;
    std::chrono::system_clock::duration lifetime; // from k_now
    std::string refresh_token;
  };
  const std::vector<Case> cases = {
      {R"({"token":"T"})", "T", seconds(60), ""},
      {R"({"access_token":"A"})", "A", seconds(60), ""},
      {R"({"token":"T","access_token":"A"})", "A", seconds(60), ""},
      {R"({"access_token":"A","token":"T"})", "A", seconds(60), ""},
      {R"({"access_token":"","token":"T"})", "T", seconds(60), ""},
      {R"({"token":"T","expires_in":300})", "T", seconds(300), ""},
      {R"({"token":"T","expires_in":300.9})", "T", seconds(300), ""},
      {R"({"token":"T","expires_in":59})", "T", seconds(60), ""},
      {R"({"token":"T","expires_in":0})", "T", seconds(60), ""},
      {R"({"token":"T","expires_in":-100})", "T", seconds(60), ""},
      {R"({"token":"T","expires_in":"300"})", "T", seconds(60), ""},
      {R"({"token":"T","expires_in":86400})", "T", hours(24), ""},
      {R"({"token":"T","expires_in":99999999999})", "T", hours(24), ""},
      {R"({"token":"T","expires_in":1e300})", "T", hours(24), ""},
      {R"({"token":"T","expires_in":300,"issued_at":"2023-11-14T22:03:20Z"})", "T",
       seconds(300) - minutes(10), ""},
      {R"({"token":"T","expires_in":300,"issued_at":"2023-11-14T22:03:20.123456789Z"})", "T",
       seconds(300) - minutes(10), ""},
      {R"({"token":"T","expires_in":300,"issued_at":"2023-11-14T23:03:20+01:00"})", "T",
       seconds(300) - minutes(10), ""},
      {R"({"token":"T","expires_in":300,"issued_at":"2023-11-14T21:53:20-00:30"})", "T",
       seconds(300) + minutes(10), ""},
      // A clock hours away from ours, or an unreadable date, is not believed.
      {R"({"token":"T","expires_in":300,"issued_at":"2020-01-01T00:00:00Z"})", "T", seconds(300),
       ""},
      {R"({"token":"T","expires_in":300,"issued_at":"yesterday"})", "T", seconds(300), ""},
      {R"({"token":"T","refresh_token":"R"})", "T", seconds(60), "R"},
      {R"({"access_token":"A","refresh_token":"R","expires_in":3600,"scope":"x"})", "A",
       seconds(3600), "R"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.body);
    auto token = parse_token_response(c.body, k_now);
    REQUIRE(token);
    CHECK(token->value == c.token);
    CHECK(token->refresh_token == c.refresh_token);
    CHECK(std::chrono::duration_cast<seconds>(token->expires_at - k_now).count() ==
          std::chrono::duration_cast<seconds>(c.lifetime).count());
  }
}

TEST_CASE("token: responses without a usable token are protocol errors", "[auth]") {
  struct Case {
    std::string body;
    std::string words;
  };
  const std::vector<Case> cases = {
      {"", "not a JSON object"},
      {"<html>", "not a JSON object"},
      {R"(["T"])", "not a JSON object"},
      {"{}", "no token"},
      {R"({"token":""})", "no token"},
      {R"({"token":5})", "no token"},
      {R"({"token":"a b"})", "spaces or control"},
      {R"({"token":"a\nX-Injected: 1"})", "spaces or control"},
      {R"({"token":"a\r"})", "spaces or control"},
      {R"({"token":"a\u0000"})", "spaces or control"},
      {R"({"token":"a\u007f"})", "spaces or control"},
      {R"({"token":"caf\u00e9"})", "spaces or control"},
      {R"({"access_token":"a b","token":"T"})", "spaces or control"},
      {R"({"token":"T","refresh_token":"r\n"})", "refresh token"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.body);
    auto token = parse_token_response(c.body, k_now);
    REQUIRE_FALSE(token);
    CHECK(token.error().kind == ErrorKind::protocol);
    CHECK_THAT(token.error().message, Catch::Contains(c.words));
  }
}

TEST_CASE("token: realms on the registry's host or domain are accepted", "[auth]") {
  struct Case {
    std::string realm;
    std::string registry;
    std::vector<std::string> trusted;
  };
  const std::vector<Case> cases = {
      {"https://r.example/token", "https://r.example", {}},
      {"https://R.EXAMPLE/token?x=1", "https://r.example", {}},
      {"https://r.example:8443/token", "https://r.example", {}},
      {"https://auth.docker.io/token", "https://registry-1.docker.io", {}},
      {"https://ghcr.io/token", "https://ghcr.io", {}},
      {"https://auth.r.example.co.uk/token", "https://r.example.co.uk", {}},
      {"https://auth.a.github.io/token", "https://a.github.io", {}},
      {"http://127.0.0.1:5001/token", "http://127.0.0.1:5000", {}},
      {"https://10.0.0.1:5001/token", "https://10.0.0.1:5000", {}},
      {"https://[::1]:5001/token", "https://[::1]:5000", {}},
      {"https://localhost:5001/token", "https://localhost:5000", {}},
      {"https://auth.elsewhere.test/token", "https://r.example", {"auth.elsewhere.test"}},
      {"https://auth.elsewhere.test:8443/token", "https://r.example", {"auth.elsewhere.test:8443"}},
      {"https://AUTH.elsewhere.test/token", "https://r.example", {"auth.ELSEWHERE.test"}},
      {"https://10.0.0.9/token", "https://r.example", {"10.0.0.9"}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.realm, c.registry);
    auto checked = check_realm(c.realm, c.registry, c.trusted);
    CHECK(checked);
    if (!checked) {
      WARN(checked.error().message);
    }
  }
}

TEST_CASE("token: realms that could steal credentials are refused", "[auth]") {
  struct Case {
    std::string realm;
    std::string registry;
    std::vector<std::string> trusted;
  };
  const std::vector<Case> cases = {
      {"https://evil.test/token", "https://r.example", {}},
      {"https://r.example.evil.test/token", "https://r.example", {}},
      {"https://evilr.example/token", "https://r.example", {}},
      {"http://r.example/token", "https://r.example", {}},
      {"http://auth.docker.io/token", "https://registry-1.docker.io", {"auth.docker.io"}},
      {"https://169.254.169.254/latest/meta-data", "https://r.example", {}},
      {"https://10.0.0.1/token", "https://10.0.0.2:5000", {}},
      {"https://127.0.0.1/token", "https://localhost:5000", {}},
      {"https://r.example/token", "https://10.0.0.1", {}},
      {"https://[fe80::1]/token", "https://[::1]:5000", {}},
      {"https://b.github.io/token", "https://a.github.io", {}},
      {"https://other.co.uk/token", "https://r.co.uk", {}},
      {"https://co.uk/token", "https://r.co.uk", {}},
      {"https://otherhost/token", "https://myhost:5000", {}},
      {"https://auth.elsewhere.test/token", "https://r.example", {"elsewhere.test"}},
      {"https://auth.elsewhere.test/token", "https://r.example", {"auth.elsewhere.test:8443"}},
      {"file:///etc/passwd", "https://r.example", {}},
      {"ftp://r.example/token", "https://r.example", {}},
      {"gopher://r.example/", "https://r.example", {}},
      {"/token", "https://r.example", {}},
      {"https://user:pw@r.example/token", "https://r.example", {}},
      {"https://r.example/to ken", "https://r.example", {}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.realm, c.registry);
    auto checked = check_realm(c.realm, c.registry, c.trusted);
    REQUIRE_FALSE(checked);
    CHECK(checked.error().kind == ErrorKind::protocol);
    CHECK_THAT(checked.error().message, Catch::Contains("realm"));
  }
}

TEST_CASE("token: a refused realm is named and the way out is shown", "[auth]") {
  auto checked = check_realm("https://evil.test/token", "https://r.example:5000", {});
  REQUIRE_FALSE(checked);
  CHECK(checked.error().message ==
        "refusing to contact token realm \"https://evil.test/token\" for r.example:5000: a host "
        "outside the registry's domain (pass --trust-realm evil.test if it is yours)");
}

TEST_CASE("token: an issued_at far in the future is ignored, not overflowed (fuzz finding)",
          "[auth]") {
  auto now = std::chrono::system_clock::now();
  auto token = regauth::auth::parse_token_response(
      R"({"token":"abc","expires_in":300,"issued_at":"4052-11-27T07:00:00Z"})", now);
  REQUIRE(token.has_value());
  CHECK(token->expires_at == now + std::chrono::seconds(300));
}
