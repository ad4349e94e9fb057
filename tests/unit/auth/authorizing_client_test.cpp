#include "regauth/auth/authorizing_client.hpp"
#include "regauth/util/base64.hpp"

#include "support/fake_clock.hpp"
#include "support/fake_http_client.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

using regauth::base64_encode;
using regauth::ErrorKind;
using regauth::Result;
using regauth::auth::AuthOptions;
using regauth::auth::AuthorizingClient;
using regauth::auth::RenewedCredentials;
using regauth::auth::repository_scope;
using regauth::auth::SharedAuthenticator;
using regauth::credentials::Credentials;
using regauth::http::Request;
using regauth::http::Response;
using regauth::testing::FakeClock;
using regauth::testing::FakeHttpClient;
using regauth::testing::header_value;
using regauth::testing::make_response;

namespace {

const std::string k_ping = "https://r.example/v2/";
const std::string k_realm = "https://auth.r.example/token";
const std::string k_manifest = "https://r.example/v2/app/manifests/1.0";
const Credentials k_alice{"alice", "alicepw", "", ""};

Response bearer_challenge() {
  return make_response(
      401, "", {{"WWW-Authenticate", "Bearer realm=\"" + k_realm + "\",service=\"r.example\""}});
}

Response token_response(const std::string& token) {
  return make_response(200, R"({"token":")" + token + R"(","expires_in":300})");
}

Request get(const std::string& url) {
  Request request;
  request.url = url;
  return request;
}

std::vector<regauth::auth::Scope> pull() { return {repository_scope("app", {"pull"})}; }

// A registry at r.example whose ping answers with a Bearer challenge, its token server at
// k_realm answering `tokens` in turn (the last one repeating), and one authenticator for it:
// alice's, unless a test names other credentials.
struct BearerRegistry {
  FakeHttpClient client;
  SharedAuthenticator authenticator;

  explicit BearerRegistry(std::vector<Result<Response>> tokens, AuthOptions options = {},
                          Credentials credentials = k_alice)
      : authenticator(client, "r.example", std::move(credentials), std::move(options)) {
    client.on("GET", k_ping, bearer_challenge());
    client.on("GET", k_realm, std::move(tokens));
  }
};

} // namespace

TEST_CASE("authorizing client: a 401 renews the token exactly once", "[auth][authorizing]") {
  SECTION("the second attempt succeeds with a fresh token") {
    BearerRegistry registry({token_response("T1"), token_response("T2")});
    auto& client = registry.client;
    client.on("GET", k_manifest, {make_response(401), make_response(200, "{}")});
    AuthorizingClient authorizing(client, registry.authenticator, pull());
    Request request;
    request.url = "/v2/app/manifests/1.0";
    auto response = authorizing.send(request);
    REQUIRE(response);
    CHECK(response->status == 200);
    auto sent = client.requests_to(k_manifest);
    REQUIRE(sent.size() == 2);
    CHECK(header_value(sent[0], "Authorization") == "Bearer T1");
    CHECK(header_value(sent[1], "Authorization") == "Bearer T2");
    CHECK(sent[1].credential_origin == "https://r.example:443");
    CHECK(client.requests_to(k_realm).size() == 2);
    CHECK(authorizing.last_authorization() == "Bearer T2");
  }
  SECTION("a second 401 is returned, not renewed again") {
    BearerRegistry registry({token_response("T1"), token_response("T2"), token_response("T3")});
    auto& client = registry.client;
    client.on("GET", k_manifest, {make_response(401), make_response(401), make_response(200)});
    AuthorizingClient authorizing(client, registry.authenticator, pull());
    Request request;
    request.url = k_manifest;
    auto response = authorizing.send(request);
    REQUIRE(response);
    CHECK(response->status == 401);
    CHECK(client.requests_to(k_manifest).size() == 2);
    CHECK(client.requests_to(k_realm).size() == 2);
  }
  SECTION("other statuses are returned at once") {
    BearerRegistry registry({token_response("T1")});
    auto& client = registry.client;
    client.on("GET", k_manifest, make_response(404));
    AuthorizingClient authorizing(client, registry.authenticator, pull());
    Request request;
    request.url = "/v2/app/manifests/1.0";
    auto response = authorizing.send(request);
    REQUIRE(response);
    CHECK(response->status == 404);
    CHECK(client.requests_to(k_manifest).size() == 1);
  }
  SECTION("without renewal (a verdict) the 401 is the answer") {
    BearerRegistry registry({token_response("T1")});
    auto& client = registry.client;
    client.on("GET", k_manifest, make_response(401));
    AuthorizingClient verdict(client, registry.authenticator, pull(), false);
    Request request;
    request.url = k_manifest;
    auto response = verdict.send(request);
    REQUIRE(response);
    CHECK(response->status == 401);
    CHECK(client.requests_to(k_manifest).size() == 1);
    CHECK(client.requests_to(k_realm).size() == 1);
  }
}

TEST_CASE("authorizing client: parallel jobs that meet one dead token renew it once",
          "[auth][authorizing]") {
  BearerRegistry registry({token_response("T1"), token_response("T2"), token_response("T3")});
  auto& [client, authenticator] = registry;
  client.on("GET", k_manifest,
            {make_response(401), make_response(200), make_response(401), make_response(200)});
  AuthorizingClient first(client, authenticator, pull());
  AuthorizingClient second(client, authenticator, pull());
  REQUIRE(first.send(get("/v2/app/manifests/1.0"))); // 401 with T1, renews: T2
  CHECK(first.last_authorization() == "Bearer T2");
  // The second job had sent T1 too: its 401 finds T2 already there and does not drop it.
  authenticator.renew_after_401(pull(), std::optional<std::string>("Bearer T1"));
  auto value = authenticator.authorization(pull());
  REQUIRE(value);
  CHECK(*value == "Bearer T2");
  CHECK(client.requests_to(k_realm).size() == 2);
}

TEST_CASE("authorizing client: Authorization goes only to the registry's origin",
          "[auth][authorizing]") {
  BearerRegistry registry({token_response("T1")});
  auto& client = registry.client;
  client.on("GET", "https://cdn.example/blob", make_response(200));
  AuthorizingClient authorizing(client, registry.authenticator, pull());
  REQUIRE(authorizing.send(get("https://cdn.example/blob")));
  auto sent = client.requests_to("https://cdn.example/blob");
  REQUIRE(sent.size() == 1);
  // The transport drops the header for any other origin than this one.
  CHECK(sent[0].credential_origin == "https://r.example:443");
}

TEST_CASE("authorizing client: a streamed body is sent again only when it can be rewound",
          "[auth][authorizing]") {
  BearerRegistry registry({token_response("T1"), token_response("T2")});
  auto& [client, authenticator] = registry;
  client.on("PUT", "https://r.example/v2/app/blobs/uploads/",
            {make_response(401), make_response(201)});
  AuthorizingClient authorizing(client, authenticator, pull());
  Request request;
  request.method = "PUT";
  request.url = "https://r.example/v2/app/blobs/uploads/1";
  request.body_size = 1;
  request.body_source = [](char*, std::size_t) { return Result<std::size_t>(std::size_t{0}); };
  SECTION("without prepare_resend the 401 comes back after the renewal") {
    auto response = authorizing.send(request);
    REQUIRE(response);
    CHECK(response->status == 401);
    CHECK(client.requests_to("https://r.example/v2/app/blobs/uploads/").size() == 1);
    // The next request carries the renewed token.
    auto value = authenticator.authorization(pull());
    REQUIRE(value);
    CHECK(*value == "Bearer T2");
  }
  SECTION("with prepare_resend it is rewound and sent again") {
    int rewinds = 0;
    request.prepare_resend = [&](Request& again) -> Result<void> {
      ++rewinds;
      again.url = "https://r.example/v2/app/blobs/uploads/2";
      return {};
    };
    auto response = authorizing.send(request);
    REQUIRE(response);
    CHECK(response->status == 201);
    CHECK(rewinds == 1);
    auto sent = client.requests_to("https://r.example/v2/app/blobs/uploads/");
    REQUIRE(sent.size() == 2);
    CHECK(sent[1].url == "https://r.example/v2/app/blobs/uploads/2");
    CHECK(header_value(sent[1], "Authorization") == "Bearer T2");
  }
}

TEST_CASE("authorizing client: a 401 after a fresh token renews the credentials once",
          "[auth][authorizing][renewal]") {
  int renewals = 0;
  AuthOptions options;
  options.renew_credentials = [&]() -> Result<std::optional<RenewedCredentials>> {
    ++renewals;
    return std::optional<RenewedCredentials>(
        RenewedCredentials{Credentials{"gitlab-ci-token", "second", "", ""}, std::nullopt});
  };
  BearerRegistry registry({token_response("t1"), token_response("t2"), token_response("t3")},
                          options, Credentials{"gitlab-ci-token", "first", "", ""});
  auto& client = registry.client;
  client.on("GET", "https://r.example/v2/app/tags/list",
            {make_response(401), make_response(401), make_response(200, "{}")});
  AuthorizingClient authorizing(client, registry.authenticator, pull());
  Request request;
  request.url = "/v2/app/tags/list";
  auto response = authorizing.send(request);
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(renewals == 1);
  auto token_requests = client.requests_to(k_realm);
  REQUIRE(token_requests.size() == 3);
  CHECK(header_value(token_requests[2], "Authorization") ==
        "Basic " + base64_encode("gitlab-ci-token:second"));

  SECTION("without a renewal the second 401 ends the attempt") {
    BearerRegistry once({token_response("t")});
    auto& plain = once.client;
    plain.on("GET", "https://r.example/v2/app/tags/list", make_response(401));
    AuthorizingClient sender(plain, once.authenticator, pull());
    auto refused = sender.send(request);
    REQUIRE(refused);
    CHECK(refused->status == 401);
    CHECK(plain.requests_to("https://r.example/v2/app/tags/list").size() == 2);
  }
}

TEST_CASE("authorizing client: a token server answering 503 once is asked again",
          "[auth][authorizing]") {
  FakeClock clock;
  AuthOptions options;
  options.clock = &clock;
  BearerRegistry registry({make_response(503), token_response("T1")}, options);
  auto& client = registry.client;
  client.on("GET", k_manifest, make_response(200));
  AuthorizingClient authorizing(client, registry.authenticator, pull());
  auto response = authorizing.send(get(k_manifest));
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(client.requests_to(k_realm).size() == 2);
  CHECK(header_value(client.requests_to(k_manifest)[0], "Authorization") == "Bearer T1");
  CHECK(clock.sleeps().size() == 1);

  SECTION("a token server that keeps failing fails the request (network)") {
    FakeClock waits;
    AuthOptions slow;
    slow.clock = &waits;
    BearerRegistry broken({make_response(503)}, slow);
    auto value = broken.authenticator.authorization(pull());
    REQUIRE_FALSE(value);
    CHECK(value.error().kind == ErrorKind::network);
    CHECK(broken.client.requests_to(k_realm).size() == 4);
    CHECK(waits.sleeps().size() == 3);
  }
}
