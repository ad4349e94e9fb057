#include "regauth/http/redirect_policy.hpp"

#include <catch2/catch.hpp>

using regauth::http::BodyKind;
using regauth::http::decide_redirect;
using regauth::http::is_redirect_status;
using regauth::http::parse_url;
using regauth::http::RedirectedRequest;
using regauth::http::RedirectVerdict;
using regauth::http::Url;

namespace {

Url url(const char* text) {
  auto parsed = parse_url(text);
  REQUIRE(parsed);
  return *parsed;
}

RedirectedRequest sent(std::string method, BodyKind body = BodyKind::none,
                       bool authorization = true, int followed = 0) {
  RedirectedRequest request;
  request.method = std::move(method);
  request.body = body;
  request.authorization = authorization;
  request.credential_origin = "https://r.example:443";
  request.redirects_followed = followed;
  return request;
}

} // namespace

TEST_CASE("redirect policy: only 301, 302, 303, 307 and 308 are redirects", "[http][redirect]") {
  for (long status : {301L, 302L, 303L, 307L, 308L}) {
    CHECK(is_redirect_status(status));
  }
  for (long status : {200L, 300L, 304L, 305L, 306L, 309L, 401L}) {
    CHECK_FALSE(is_redirect_status(status));
  }
}

TEST_CASE("redirect policy: a redirect from https to http is never followed", "[http][redirect]") {
  for (long status : {301L, 302L, 303L, 307L, 308L}) {
    auto decision = decide_redirect(sent("GET"), url("https://r.example/v2/"),
                                    url("http://r.example/v2/"), status, 5);
    CHECK(decision.verdict == RedirectVerdict::https_to_http);
  }
  // Not even to loopback, nor without Authorization.
  auto decision = decide_redirect(sent("GET", BodyKind::none, false), url("https://127.0.0.1/a"),
                                  url("http://127.0.0.1/a"), 302, 5);
  CHECK(decision.verdict == RedirectVerdict::https_to_http);
  // http to https is an upgrade, and followed.
  CHECK(decide_redirect(sent("GET"), url("http://127.0.0.1/a"), url("https://127.0.0.1/a"), 302, 5)
            .verdict == RedirectVerdict::follow);
}

TEST_CASE("redirect policy: Authorization goes only to its origin", "[http][redirect]") {
  SECTION("kept on the same origin") {
    auto decision = decide_redirect(sent("GET"), url("https://r.example/v2/a"),
                                    url("https://r.example/v2/b"), 307, 5);
    CHECK(decision.verdict == RedirectVerdict::follow);
    CHECK(decision.authorization);
  }
  SECTION("dropped for another host, another port, another scheme") {
    for (const char* to :
         {"https://cdn.example/blob", "https://r.example:8443/v2/", "https://evil.r.example/v2/"}) {
      auto decision = decide_redirect(sent("GET"), url("https://r.example/v2/"), url(to), 302, 5);
      CHECK(decision.verdict == RedirectVerdict::follow);
      CHECK_FALSE(decision.authorization);
    }
  }
  SECTION("once dropped, not restored on the way back") {
    auto decision =
        decide_redirect(sent("GET", BodyKind::none, false, 1), url("https://cdn.example/x"),
                        url("https://r.example/v2/"), 302, 5);
    CHECK(decision.verdict == RedirectVerdict::follow);
    CHECK_FALSE(decision.authorization);
  }
}

TEST_CASE("redirect policy: a body is never carried to another origin", "[http][redirect]") {
  SECTION("307 and 308 keep the method and the body on the same origin") {
    for (long status : {307L, 308L}) {
      auto decision =
          decide_redirect(sent("PUT", BodyKind::in_memory), url("https://r.example/v2/a"),
                          url("https://r.example/v2/b"), status, 5);
      CHECK(decision.verdict == RedirectVerdict::follow);
      CHECK(decision.method == "PUT");
      CHECK_FALSE(decision.drop_body);
    }
  }
  SECTION("307 and 308 with a body to another origin are refused") {
    for (long status : {307L, 308L}) {
      auto decision =
          decide_redirect(sent("PUT", BodyKind::in_memory), url("https://r.example/v2/a"),
                          url("https://cdn.example/v2/a"), status, 5);
      CHECK(decision.verdict == RedirectVerdict::body_elsewhere);
    }
  }
  SECTION("a streamed body is never sent twice, even to the same origin") {
    auto decision =
        decide_redirect(sent("PATCH", BodyKind::streamed), url("https://r.example/v2/a"),
                        url("https://r.example/v2/b"), 307, 5);
    CHECK(decision.verdict == RedirectVerdict::body_elsewhere);
  }
  SECTION("301, 302 and 303 turn a request with a body into a GET without it") {
    for (long status : {301L, 302L, 303L}) {
      auto decision =
          decide_redirect(sent("POST", BodyKind::in_memory), url("https://r.example/v2/a"),
                          url("https://cdn.example/v2/a"), status, 5);
      CHECK(decision.verdict == RedirectVerdict::follow);
      CHECK(decision.method == "GET");
      CHECK(decision.drop_body);
      CHECK_FALSE(decision.authorization);
    }
  }
  SECTION("303 makes a GET of any method but HEAD") {
    CHECK(decide_redirect(sent("DELETE"), url("https://r.example/a"), url("https://r.example/b"),
                          303, 5)
              .method == "GET");
    CHECK(decide_redirect(sent("HEAD"), url("https://r.example/a"), url("https://r.example/b"), 303,
                          5)
              .method == "HEAD");
  }
  SECTION("301 and 302 without a body keep the method") {
    auto decision = decide_redirect(sent("HEAD"), url("https://r.example/a"),
                                    url("https://r.example/b"), 301, 5);
    CHECK(decision.method == "HEAD");
    CHECK_FALSE(decision.drop_body);
  }
}

TEST_CASE("redirect policy: the number of hops is bounded", "[http][redirect]") {
  CHECK(decide_redirect(sent("GET", BodyKind::none, true, 4), url("https://r.example/a"),
                        url("https://r.example/b"), 302, 5)
            .verdict == RedirectVerdict::follow);
  CHECK(decide_redirect(sent("GET", BodyKind::none, true, 5), url("https://r.example/a"),
                        url("https://r.example/b"), 302, 5)
            .verdict == RedirectVerdict::too_many);
  CHECK(decide_redirect(sent("GET"), url("https://r.example/a"), url("https://r.example/b"), 302, 0)
            .verdict == RedirectVerdict::too_many);
}
