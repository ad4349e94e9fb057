#include "regauth/auth/authenticator.hpp"
#include "regauth/http/url.hpp"
#include "regauth/util/base64.hpp"

#include "support/fake_http_client.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

using regauth::base64_encode;
using regauth::ErrorKind;
using regauth::Result;
using regauth::auth::Authenticator;
using regauth::auth::AuthOptions;
using regauth::auth::repository_scope;
using regauth::credentials::Credentials;
using regauth::http::Header;
using regauth::http::Request;
using regauth::http::Response;
using regauth::testing::FakeHttpClient;
using regauth::testing::header_value;
using regauth::testing::make_response;

namespace {

const std::string k_registry = "https://r.example";
const std::string k_ping = "https://r.example/v2/";
const std::string k_realm = "https://auth.r.example/token";
const Credentials k_alice{"alice", "alicepw", "", ""};

Response bearer_challenge(const std::string& realm = k_realm) {
  return make_response(
      401, R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})",
      {{"Content-Type", "application/json"},
       {"WWW-Authenticate", "Bearer realm=\"" + realm + "\",service=\"r.example\""}});
}

Response basic_challenge() {
  return make_response(401, "", {{"Www-Authenticate", "Basic realm=\"Registry Realm\""}});
}

Response token_response(const std::string& token, const std::string& refresh = {}) {
  std::string body = R"({"token":")" + token + R"(","expires_in":300)";
  if (!refresh.empty()) {
    body += R"(,"refresh_token":")" + refresh + "\"";
  }
  return make_response(200, body + "}");
}

// The query parameters of a URL, in order.
std::vector<std::pair<std::string, std::string>> query_of(const std::string& url) {
  auto parsed = regauth::http::parse_url(url);
  REQUIRE(parsed);
  std::vector<std::pair<std::string, std::string>> params;
  std::string_view rest = parsed->query;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view item = rest.substr(0, amp);
    auto eq = item.find('=');
    params.emplace_back(std::string(item.substr(0, eq)),
                        eq == std::string_view::npos ? "" : std::string(item.substr(eq + 1)));
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
  return params;
}

bool has_param(const std::vector<std::pair<std::string, std::string>>& params,
               const std::string& name, const std::string& value) {
  return std::find(params.begin(), params.end(), std::make_pair(name, value)) != params.end();
}

bool has_param_named(const std::vector<std::pair<std::string, std::string>>& params,
                     const std::string& name) {
  return std::any_of(params.begin(), params.end(), [&](const auto& p) { return p.first == name; });
}

} // namespace

TEST_CASE("authenticator: a registry answering 200 needs no authentication", "[auth]") {
  FakeHttpClient client;
  client.on("GET", k_ping, make_response(200, "{}"));
  Authenticator authenticator(client, "r.example", k_alice, {});
  REQUIRE(authenticator.ping());
  CHECK(authenticator.base_url() == k_registry);
  CHECK_FALSE(authenticator.challenge());

  auto proof = authenticator.login();
  REQUIRE(proof);
  CHECK_FALSE(proof->verified);
  CHECK(proof->scheme.empty());

  auto authorization = authenticator.authorization({repository_scope("app", {"pull"})});
  REQUIRE(authorization);
  CHECK_FALSE(authorization->has_value());

  REQUIRE(client.requests().size() == 1);
  CHECK(header_value(client.requests()[0], "Authorization").empty());
}

TEST_CASE("authenticator: ping failures are classified", "[auth]") {
  SECTION("404 is not a registry") {
    FakeHttpClient client;
    client.on("GET", k_ping, make_response(404, "not here"));
    Authenticator authenticator(client, "r.example", std::nullopt, {});
    auto pinged = authenticator.ping();
    REQUIRE_FALSE(pinged);
    CHECK(pinged.error().kind == ErrorKind::not_found);
    CHECK_THAT(pinged.error().message, Catch::Contains("GET https://r.example/v2/"));
  }
  SECTION("5xx is a network error") {
    FakeHttpClient client;
    client.on("GET", k_ping, make_response(503));
    Authenticator authenticator(client, "r.example", std::nullopt, {});
    auto pinged = authenticator.ping();
    REQUIRE_FALSE(pinged);
    CHECK(pinged.error().kind == ErrorKind::network);
  }
  SECTION("a malformed challenge is a protocol error") {
    FakeHttpClient client;
    client.on("GET", k_ping, make_response(401, "", {{"WWW-Authenticate", "Bearer realm=\"open"}}));
    Authenticator authenticator(client, "r.example", std::nullopt, {});
    auto pinged = authenticator.ping();
    REQUIRE_FALSE(pinged);
    CHECK(pinged.error().kind == ErrorKind::protocol);
    CHECK_THAT(pinged.error().message, Catch::StartsWith("GET https://r.example/v2/: "));
  }
  SECTION("unreachable over https only") {
    FakeHttpClient client;
    client.on("GET", "http://r.example/v2/", make_response(200));
    Authenticator authenticator(client, "r.example", std::nullopt, {});
    auto pinged = authenticator.ping();
    REQUIRE_FALSE(pinged);
    CHECK(pinged.error().kind == ErrorKind::network);
    CHECK(client.requests_to("http://").empty());
  }
  SECTION("http is tried after https when allowed") {
    FakeHttpClient client;
    client.on("GET", "http://127.0.0.1:5000/v2/", make_response(200));
    AuthOptions options;
    options.may_use_http = true;
    Authenticator authenticator(client, "127.0.0.1:5000", std::nullopt, options);
    REQUIRE(authenticator.ping());
    CHECK(authenticator.base_url() == "http://127.0.0.1:5000");
    REQUIRE(client.requests().size() == 2);
    CHECK(client.requests()[0].url == "https://127.0.0.1:5000/v2/");
  }
}

TEST_CASE("authenticator: a loopback registry is probed over http first", "[auth]") {
  const std::string http_ping = "http://127.0.0.1:5000/v2/";
  const std::string https_ping = "https://127.0.0.1:5000/v2/";
  AuthOptions options;
  options.may_use_http = true;
  options.http_first = true;
  auto urls = [](const FakeHttpClient& client) {
    std::vector<std::string> sent;
    for (const auto& request : client.requests()) {
      sent.push_back(request.url);
    }
    return sent;
  };
  SECTION("a plain registry: one request, no TLS attempt") {
    FakeHttpClient client;
    client.on("GET", http_ping, basic_challenge());
    Authenticator authenticator(client, "127.0.0.1:5000", std::nullopt, options);
    REQUIRE(authenticator.ping());
    CHECK(authenticator.base_url() == "http://127.0.0.1:5000");
    CHECK(urls(client) == std::vector<std::string>{http_ping});
  }
  SECTION("a TLS port answering 400 or a redirect to the plain probe: https") {
    for (int status : {400, 301, 308}) {
      CAPTURE(status);
      FakeHttpClient client;
      client.on("GET", http_ping,
                make_response(status, "Client sent an HTTP request to an HTTPS server.",
                              {{"Location", https_ping}}));
      client.on("GET", https_ping, make_response(200, "{}"));
      Authenticator authenticator(client, "127.0.0.1:5000", std::nullopt, options);
      REQUIRE(authenticator.ping());
      CHECK(authenticator.base_url() == "https://127.0.0.1:5000");
      CHECK(urls(client) == std::vector<std::string>{http_ping, https_ping});
    }
  }
  SECTION("a TLS port that hangs up on the plain probe: https") {
    FakeHttpClient client;
    client.on("GET", http_ping,
              std::vector<Result<Response>>{regauth::make_error(ErrorKind::network, "reset")});
    client.on("GET", https_ping, bearer_challenge());
    Authenticator authenticator(client, "127.0.0.1:5000", std::nullopt, options);
    REQUIRE(authenticator.ping());
    CHECK(authenticator.base_url() == "https://127.0.0.1:5000");
  }
  SECTION("both fail: the https error is the one reported") {
    FakeHttpClient client;
    client.on("GET", http_ping,
              std::vector<Result<Response>>{regauth::make_error(ErrorKind::network, "plain")});
    client.on("GET", https_ping,
              std::vector<Result<Response>>{regauth::make_error(ErrorKind::network, "tls")});
    Authenticator authenticator(client, "127.0.0.1:5000", std::nullopt, options);
    auto pinged = authenticator.ping();
    REQUIRE_FALSE(pinged);
    CHECK(pinged.error().message == "tls");
  }
  SECTION("a plain registry's own failure is reported without a TLS attempt") {
    FakeHttpClient client;
    client.on("GET", http_ping, make_response(503, "busy"));
    Authenticator authenticator(client, "127.0.0.1:5000", std::nullopt, options);
    auto pinged = authenticator.ping();
    REQUIRE_FALSE(pinged);
    CHECK(pinged.error().kind == ErrorKind::network);
    CHECK_THAT(pinged.error().message, Catch::Contains("503"));
    // Tried again (a busy registry), but never over TLS.
    CHECK(urls(client) == std::vector<std::string>(4, http_ping));
  }
}

TEST_CASE("authenticator: Basic login sends the credentials only to the registry", "[auth]") {
  FakeHttpClient client;
  client.on("GET", k_ping, std::vector<Result<Response>>{basic_challenge(), make_response(200)});
  Authenticator authenticator(client, "r.example", k_alice, {});
  auto proof = authenticator.login();
  REQUIRE(proof);
  CHECK(proof->verified);
  CHECK(proof->scheme == "basic");
  CHECK(proof->refresh_token.empty());

  const auto& requests = client.requests();
  REQUIRE(requests.size() == 2);
  CHECK(header_value(requests[0], "Authorization").empty());
  CHECK(requests[1].url == k_ping);
  CHECK(header_value(requests[1], "Authorization") == "Basic " + base64_encode("alice:alicepw"));
  CHECK(requests[1].credential_origin == "https://r.example:443");
  for (const auto& request : requests) {
    CHECK_THAT(request.url, Catch::StartsWith(k_registry + "/"));
  }
}

TEST_CASE("authenticator: Basic login with wrong credentials gives the registry's words",
          "[auth]") {
  FakeHttpClient client;
  client.on(
      "GET", k_ping,
      std::vector<Result<Response>>{
          basic_challenge(),
          make_response(401, R"({"errors":[{"code":"UNAUTHORIZED","message":"bad password"}]})",
                        {{"WWW-Authenticate", "Basic realm=\"r\""}})});
  Authenticator authenticator(client, "r.example", k_alice, {});
  auto proof = authenticator.login();
  REQUIRE_FALSE(proof);
  CHECK(proof.error().kind == ErrorKind::unauthorized);
  CHECK(proof.error().message == "unauthorized: bad password");
  CHECK_THAT(proof.error().message, !Catch::Contains("alicepw"));
}

TEST_CASE("authenticator: Basic login without credentials is unauthorized at once", "[auth]") {
  FakeHttpClient client;
  client.on("GET", k_ping, basic_challenge());
  Authenticator authenticator(client, "r.example", std::nullopt, {});
  auto proof = authenticator.login();
  REQUIRE_FALSE(proof);
  CHECK(proof.error().kind == ErrorKind::unauthorized);
  CHECK(client.requests().size() == 1);
}

TEST_CASE("authenticator: Bearer login fetches one offline token, then checks /v2/", "[auth]") {
  FakeHttpClient client;
  client.on("GET", k_ping, std::vector<Result<Response>>{bearer_challenge(), make_response(200)});
  client.on("GET", k_realm, token_response("T1", "R1"));
  Authenticator authenticator(client, "r.example", k_alice, {});
  auto proof = authenticator.login();
  REQUIRE(proof);
  CHECK(proof->verified);
  CHECK(proof->scheme == "bearer");
  CHECK(proof->refresh_token == "R1");

  const auto& requests = client.requests();
  REQUIRE(requests.size() == 3);
  auto token_requests = client.requests_to(k_realm);
  REQUIRE(token_requests.size() == 1);
  const Request& token_request = token_requests[0];
  CHECK(token_request.method == "GET");
  auto params = query_of(token_request.url);
  CHECK(has_param(params, "service", "r.example"));
  CHECK(has_param(params, "account", "alice"));
  CHECK(has_param(params, "client_id", "regauth"));
  CHECK(has_param(params, "offline_token", "true"));
  CHECK_FALSE(has_param_named(params, "scope"));
  CHECK_THAT(token_request.url, !Catch::Contains("alicepw"));
  CHECK(header_value(token_request, "Authorization") == "Basic " + base64_encode("alice:alicepw"));
  CHECK(token_request.credential_origin == "https://auth.r.example:443");

  CHECK(requests[2].url == k_ping);
  CHECK(header_value(requests[2], "Authorization") == "Bearer T1");
  CHECK(requests[2].credential_origin == "https://r.example:443");
}

TEST_CASE("authenticator: a custom client id goes to the token server", "[auth]") {
  FakeHttpClient client;
  client.on("GET", k_ping, std::vector<Result<Response>>{bearer_challenge(), make_response(200)});
  client.on("GET", k_realm, token_response("T1"));
  AuthOptions options;
  options.client_id = "my-tool";
  Authenticator authenticator(client, "r.example", k_alice, options);
  auto proof = authenticator.login();
  REQUIRE(proof);
  CHECK(proof->refresh_token.empty());
  auto token_requests = client.requests_to(k_realm);
  REQUIRE(token_requests.size() == 1);
  CHECK(has_param(query_of(token_requests[0].url), "client_id", "my-tool"));
}

TEST_CASE("authenticator: a token server refusal gives its own words", "[auth]") {
  FakeHttpClient client;
  client.on("GET", k_ping, bearer_challenge());
  client.on("GET", k_realm, make_response(401, R"({"details":"incorrect username or password"})"));
  Authenticator authenticator(client, "r.example", k_alice, {});
  auto proof = authenticator.login();
  REQUIRE_FALSE(proof);
  CHECK(proof.error().kind == ErrorKind::unauthorized);
  CHECK(proof.error().message == "unauthorized: incorrect username or password");
  CHECK_THAT(proof.error().message, !Catch::Contains("alicepw"));
  CHECK(client.requests().size() == 2); // no bearer check without a token
}

TEST_CASE("authenticator: a token server failure names the realm and status", "[auth]") {
  FakeHttpClient client;
  client.on("GET", k_ping, bearer_challenge());
  client.on("GET", k_realm, make_response(500, "oops"));
  Authenticator authenticator(client, "r.example", k_alice, {});
  auto proof = authenticator.login();
  REQUIRE_FALSE(proof);
  CHECK(proof.error().kind == ErrorKind::network);
  CHECK_THAT(proof.error().message, Catch::Contains(k_realm));
  CHECK_THAT(proof.error().message, Catch::Contains("500"));
}

TEST_CASE("authenticator: a realm on another domain is refused and never contacted", "[auth]") {
  for (const std::string realm : {"https://evil.test/token", "http://auth.r.example/token",
                                  "https://169.254.169.254/token", "file:///etc/passwd"}) {
    CAPTURE(realm);
    FakeHttpClient client;
    client.on("GET", k_ping, bearer_challenge(realm));
    client.on("GET", "https://evil.test/", token_response("stolen"));
    client.on("GET", "http://", token_response("stolen"));
    client.on("GET", "https://169.254.169.254/", token_response("stolen"));
    Authenticator authenticator(client, "r.example", k_alice, {});
    auto proof = authenticator.login();
    REQUIRE_FALSE(proof);
    CHECK(proof.error().kind == ErrorKind::protocol);
    CHECK_THAT(proof.error().message, Catch::Contains("realm"));
    REQUIRE(client.requests().size() == 1);
    CHECK(client.requests()[0].url == k_ping);
  }
}

TEST_CASE("authenticator: a trusted realm on another domain is used", "[auth]") {
  FakeHttpClient client;
  client.on("GET", k_ping,
            std::vector<Result<Response>>{bearer_challenge("https://auth.other.test/token"),
                                          make_response(200)});
  client.on("GET", "https://auth.other.test/token", token_response("T1"));
  AuthOptions options;
  options.trusted_realms = {"auth.other.test"};
  Authenticator authenticator(client, "r.example", k_alice, options);
  REQUIRE(authenticator.login());
  CHECK(client.requests_to("https://auth.other.test/token").size() == 1);
}

TEST_CASE("authenticator: a relative realm resolves against the registry", "[auth]") {
  FakeHttpClient client;
  client.on("GET", k_ping,
            std::vector<Result<Response>>{bearer_challenge("/token"), make_response(200)});
  client.on("GET", "https://r.example/token", token_response("T1"));
  Authenticator authenticator(client, "r.example", k_alice, {});
  REQUIRE(authenticator.login());
  CHECK(client.requests_to("https://r.example/token?").size() == 1);
}

TEST_CASE("authenticator: an identity token is exchanged with a refresh_token grant", "[auth]") {
  const Credentials with_token{"alice", "", "IDT-secret", ""};

  SECTION("the token server speaks OAuth") {
    FakeHttpClient client;
    client.on("GET", k_ping, std::vector<Result<Response>>{bearer_challenge(), make_response(200)});
    client.on("POST", k_realm, make_response(200, R"({"access_token":"A1","expires_in":300})"));
    Authenticator authenticator(client, "r.example", with_token, {});
    auto proof = authenticator.login();
    REQUIRE(proof);
    CHECK(proof->verified);
    // No new refresh token issued: the identity token stays the one to keep.
    CHECK(proof->refresh_token == "IDT-secret");

    auto posts = client.requests_to(k_realm);
    REQUIRE(posts.size() == 1);
    const Request& post = posts[0];
    CHECK(post.method == "POST");
    CHECK(post.url == k_realm);
    CHECK(header_value(post, "Content-Type") == "application/x-www-form-urlencoded");
    CHECK(header_value(post, "Authorization").empty());
    auto form = query_of("https://x/?" + post.body);
    CHECK(has_param(form, "grant_type", "refresh_token"));
    CHECK(has_param(form, "refresh_token", "IDT-secret"));
    CHECK(has_param(form, "client_id", "regauth"));
    CHECK(has_param(form, "service", "r.example"));
    CHECK(has_param(form, "access_type", "offline"));
    CHECK_FALSE(has_param_named(form, "scope"));
    CHECK(header_value(client.requests().back(), "Authorization") == "Bearer A1");
  }
  SECTION("a 404 from the POST falls back to GET") {
    FakeHttpClient client;
    client.on("GET", k_ping, std::vector<Result<Response>>{bearer_challenge(), make_response(200)});
    client.on("POST", k_realm, make_response(404));
    client.on("GET", k_realm, token_response("T1"));
    Authenticator authenticator(client, "r.example", with_token, {});
    auto proof = authenticator.login();
    REQUIRE(proof);
    auto token_requests = client.requests_to(k_realm);
    REQUIRE(token_requests.size() == 2);
    CHECK(token_requests[0].method == "POST");
    CHECK(token_requests[1].method == "GET");
    CHECK(header_value(token_requests[1], "Authorization") ==
          "Basic " + base64_encode("alice:IDT-secret"));
    CHECK_THAT(token_requests[1].url, !Catch::Contains("IDT-secret"));
    CHECK(has_param(query_of(token_requests[1].url), "account", "alice"));
    CHECK(header_value(client.requests().back(), "Authorization") == "Bearer T1");
  }
  SECTION("a refused grant is unauthorized with the server's words") {
    FakeHttpClient client;
    client.on("GET", k_ping, bearer_challenge());
    client.on("POST", k_realm,
              make_response(400, R"({"error":"invalid_grant","error_description":"expired"})"));
    Authenticator authenticator(client, "r.example", with_token, {});
    auto proof = authenticator.login();
    REQUIRE_FALSE(proof);
    CHECK_THAT(proof.error().message, Catch::Contains("invalid_grant: expired"));
    CHECK_THAT(proof.error().message, !Catch::Contains("IDT-secret"));
    CHECK(client.requests_to(k_realm).size() == 1);
  }
}

TEST_CASE("authenticator: a registry token is sent as is", "[auth]") {
  FakeHttpClient client;
  client.on("GET", k_ping, std::vector<Result<Response>>{bearer_challenge(), make_response(200)});
  Authenticator authenticator(client, "r.example", Credentials{"", "", "", "RT"}, {});
  auto proof = authenticator.login();
  REQUIRE(proof);
  CHECK(proof->verified);
  CHECK(client.requests_to(k_realm).empty());
  CHECK(header_value(client.requests().back(), "Authorization") == "Bearer RT");
}

TEST_CASE("authenticator: tokens are fetched per scope and cached", "[auth]") {
  FakeHttpClient client;
  client.on("GET", k_ping, bearer_challenge());
  client.on("GET", k_realm,
            std::vector<Result<Response>>{token_response("T1"), token_response("T2")});
  Authenticator authenticator(client, "r.example", k_alice, {});
  auto pull = std::vector{repository_scope("app", {"pull"})};
  auto push = std::vector{repository_scope("app", {"pull", "push"})};

  auto first = authenticator.authorization(pull);
  auto second = authenticator.authorization(pull);
  auto third = authenticator.authorization(push);
  REQUIRE(first);
  REQUIRE(second);
  REQUIRE(third);
  CHECK(**first == "Bearer T1");
  CHECK(**second == "Bearer T1");
  CHECK(**third == "Bearer T2");

  auto token_requests = client.requests_to(k_realm);
  REQUIRE(token_requests.size() == 2);
  auto params = query_of(token_requests[0].url);
  CHECK(has_param(params, "scope", "repository%3Aapp%3Apull"));
  CHECK_FALSE(has_param_named(params, "offline_token"));
  CHECK(has_param(query_of(token_requests[1].url), "scope", "repository%3Aapp%3Apull%2Cpush"));

  authenticator.invalidate();
  REQUIRE(authenticator.authorization(pull));
  CHECK(client.requests_to(k_realm).size() == 3);
}

namespace {

// An answer that came, after redirects, from `url` on a request that had lost Authorization.
Response redirected_answer(long status, const std::string& url, const std::string& body = {},
                           const std::string& method = "GET") {
  Response response = make_response(status, body);
  response.url = url;
  response.method = method;
  response.authorization_sent = false;
  return response;
}

} // namespace

TEST_CASE("authenticator: a login whose /v2/ check is answered by another origin is refused",
          "[auth]") {
  SECTION("Basic: /v2/ redirected to another origin that answers 200") {
    FakeHttpClient client;
    client.on("GET", k_ping,
              std::vector<Result<Response>>{basic_challenge(),
                                            redirected_answer(200, "https://other.test/v2/")});
    Authenticator authenticator(client, "r.example", k_alice, {});
    auto proof = authenticator.login();
    REQUIRE_FALSE(proof);
    CHECK(proof.error().kind == ErrorKind::protocol);
    CHECK_THAT(proof.error().message, Catch::Contains("not verified"));
    CHECK_THAT(proof.error().message, Catch::Contains("https://r.example:443"));
    CHECK_THAT(proof.error().message, Catch::Contains("https://other.test:443"));
    CHECK_THAT(proof.error().message, !Catch::Contains("alicepw"));
  }
  SECTION("Bearer: /v2/ with the token redirected away") {
    FakeHttpClient client;
    client.on("GET", k_ping,
              std::vector<Result<Response>>{bearer_challenge(),
                                            redirected_answer(200, "https://other.test/v2/")});
    client.on("GET", k_realm, token_response("T1", "R1"));
    Authenticator authenticator(client, "r.example", k_alice, {});
    auto proof = authenticator.login();
    REQUIRE_FALSE(proof);
    CHECK(proof.error().kind == ErrorKind::protocol);
    CHECK_THAT(proof.error().message, Catch::Contains("https://other.test:443"));
  }
  SECTION("the registry's own origin, after a detour that dropped Authorization") {
    FakeHttpClient client;
    client.on("GET", k_ping,
              std::vector<Result<Response>>{basic_challenge(),
                                            redirected_answer(200, "https://r.example/v2/")});
    Authenticator authenticator(client, "r.example", k_alice, {});
    auto proof = authenticator.login();
    REQUIRE_FALSE(proof);
    CHECK(proof.error().kind == ErrorKind::protocol);
    CHECK_THAT(proof.error().message, Catch::Contains("without the credentials"));
  }
}

TEST_CASE("authenticator: a token issued by an origin that never saw the credentials is refused",
          "[auth]") {
  SECTION("GET with Basic credentials redirected to another origin") {
    FakeHttpClient client;
    client.on("GET", k_ping, std::vector<Result<Response>>{bearer_challenge(), make_response(200)});
    client.on("GET", k_realm,
              redirected_answer(200, "https://tokens.other.test/token",
                                R"({"token":"T1","expires_in":300})"));
    Authenticator authenticator(client, "r.example", k_alice, {});
    auto proof = authenticator.login();
    REQUIRE_FALSE(proof);
    CHECK(proof.error().kind == ErrorKind::protocol);
    CHECK_THAT(proof.error().message, Catch::Contains("https://auth.r.example:443"));
    CHECK_THAT(proof.error().message, Catch::Contains("https://tokens.other.test:443"));
    CHECK(client.requests_to(k_ping).size() == 1); // the token never reached the registry
  }
  SECTION("a refresh-token POST turned into a GET by a redirect on the same origin") {
    const Credentials with_token{"alice", "", "IDT-secret", ""};
    FakeHttpClient client;
    client.on("GET", k_ping, std::vector<Result<Response>>{bearer_challenge(), make_response(200)});
    client.on("POST", k_realm,
              redirected_answer(200, "https://auth.r.example/anonymous",
                                R"({"token":"T1","expires_in":300})", "GET"));
    Authenticator authenticator(client, "r.example", with_token, {});
    auto proof = authenticator.login();
    REQUIRE_FALSE(proof);
    CHECK(proof.error().kind == ErrorKind::protocol);
    CHECK_THAT(proof.error().message, Catch::Contains("without the POST request's body"));
    CHECK_THAT(proof.error().message, !Catch::Contains("IDT-secret"));
  }
  SECTION("anonymous tokens are not proof of anything and stay usable") {
    FakeHttpClient client;
    client.on("GET", k_ping, bearer_challenge());
    client.on("GET", k_realm,
              redirected_answer(200, "https://tokens.other.test/token",
                                R"({"token":"T1","expires_in":300})"));
    Authenticator authenticator(client, "r.example", std::nullopt, {});
    auto value = authenticator.authorization({repository_scope("public/app", {"pull"})});
    REQUIRE(value);
    CHECK(*value == std::optional<std::string>("Bearer T1"));
  }
}

TEST_CASE("authenticator: a ping that meets a reset or a 503 is tried again, a bounded number of "
          "times",
          "[auth]") {
  SECTION("a 503, then an answer") {
    FakeHttpClient client;
    client.on("GET", k_ping, std::vector<Result<Response>>{make_response(503), make_response(200)});
    Authenticator authenticator(client, "r.example", std::nullopt, {});
    REQUIRE(authenticator.ping());
    CHECK(client.requests_to(k_ping).size() == 2);
  }
  SECTION("a reset on both schemes, then an answer") {
    FakeHttpClient client;
    const std::string http_ping = "http://127.0.0.1:5000/v2/";
    client.on("GET", http_ping,
              std::vector<Result<Response>>{
                  regauth::make_error(ErrorKind::network, "connection reset by peer"),
                  make_response(200)});
    client.on("GET", "https://127.0.0.1:5000/v2/",
              std::vector<Result<Response>>{
                  regauth::make_error(ErrorKind::network, "wrong version number")});
    AuthOptions options;
    options.may_use_http = true;
    options.http_first = true;
    Authenticator authenticator(client, "127.0.0.1:5000", std::nullopt, options);
    REQUIRE(authenticator.ping());
    CHECK(authenticator.base_url() == "http://127.0.0.1:5000");
    CHECK(client.requests_to(http_ping).size() == 2);
  }
  SECTION("a registry that keeps failing is given up after four rounds") {
    FakeHttpClient client;
    client.on("GET", k_ping, make_response(502));
    Authenticator authenticator(client, "r.example", std::nullopt, {});
    auto pinged = authenticator.ping();
    REQUIRE_FALSE(pinged);
    CHECK(pinged.error().kind == ErrorKind::network);
    CHECK(client.requests_to(k_ping).size() == 4);
  }
}

TEST_CASE("authenticator: short-lived credentials are renewed when they have ended",
          "[auth][renewal]") {
  FakeHttpClient client;
  client.on("GET", k_ping, bearer_challenge());
  client.on("GET", k_realm, token_response("fresh"));
  int renewals = 0;
  AuthOptions options;
  options.credentials_expire_at = std::chrono::system_clock::now() - std::chrono::seconds(1);
  options.renew_credentials = [&]() -> Result<std::optional<regauth::auth::RenewedCredentials>> {
    ++renewals;
    return std::optional<regauth::auth::RenewedCredentials>(regauth::auth::RenewedCredentials{
        Credentials{"oauth2accesstoken", "new-token", "", ""},
        std::chrono::system_clock::now() + std::chrono::hours(1)});
  };
  Authenticator authenticator(client, "r.example", Credentials{"oauth2accesstoken", "old", "", ""},
                              options);
  auto first = authenticator.authorization({repository_scope("app", {"pull"})});
  REQUIRE(first);
  CHECK(renewals == 1);
  auto token_requests = client.requests_to(k_realm);
  REQUIRE(token_requests.size() == 1);
  CHECK(header_value(token_requests[0], "Authorization") ==
        "Basic " + base64_encode("oauth2accesstoken:new-token"));
  // Renewed until an hour from now: not asked again.
  REQUIRE(authenticator.authorization({repository_scope("app", {"pull"})}));
  CHECK(renewals == 1);
}

TEST_CASE("authenticator: a token server refusing the credentials gets renewed ones",
          "[auth][renewal]") {
  FakeHttpClient client;
  client.on("GET", k_ping, bearer_challenge());
  client.on("GET", k_realm,
            {make_response(401, R"({"details":"token expired"})"), token_response("ok")});
  int renewals = 0;
  AuthOptions options;
  options.renew_credentials = [&]() -> Result<std::optional<regauth::auth::RenewedCredentials>> {
    ++renewals;
    return std::optional<regauth::auth::RenewedCredentials>(
        regauth::auth::RenewedCredentials{Credentials{"u", "renewed", "", ""}, std::nullopt});
  };
  Authenticator authenticator(client, "r.example", Credentials{"u", "ended", "", ""}, options);
  auto value = authenticator.authorization({repository_scope("app", {"push", "pull"})});
  REQUIRE(value);
  CHECK(**value == "Bearer ok");
  CHECK(renewals == 1);

  SECTION("a renewal that fails names its own error") {
    FakeHttpClient refusing;
    refusing.on("GET", k_ping, bearer_challenge());
    refusing.on("GET", k_realm, make_response(401, R"({"details":"token expired"})"));
    AuthOptions failing;
    failing.renew_credentials = []() -> Result<std::optional<regauth::auth::RenewedCredentials>> {
      return regauth::make_error(ErrorKind::unauthorized,
                                 "Google metadata server: refused: invalid_grant");
    };
    Authenticator broken(refusing, "r.example", Credentials{"u", "ended", "", ""}, failing);
    auto denied = broken.authorization({repository_scope("app", {"pull"})});
    REQUIRE_FALSE(denied);
    CHECK_THAT(denied.error().message, Catch::Contains("invalid_grant"));
  }
}

namespace {

regauth::auth::Challenge challenge_of(const std::string& header) {
  auto parsed = regauth::auth::parse_challenges(header);
  REQUIRE(parsed);
  auto chosen = regauth::auth::choose_challenge(*parsed);
  REQUIRE(chosen);
  return *chosen;
}

} // namespace

TEST_CASE("authenticator: a remembered Basic challenge is taken instead of a ping until refused",
          "[auth]") {
  FakeHttpClient client;
  client.on("GET", k_ping, bearer_challenge());
  client.on("GET", k_realm, token_response("T1"));
  AuthOptions options;
  options.remembered = regauth::auth::RememberedChallenge{
      k_registry, challenge_of("Basic realm=\"Registry Realm\"")};
  Authenticator authenticator(client, "r.example", k_alice, options);
  auto scopes = std::vector{repository_scope("app", {"pull", "push"})};
  CHECK(authenticator.assumed());
  CHECK(authenticator.authorizes_at_once(scopes));
  auto basic = authenticator.authorization(scopes);
  REQUIRE(basic);
  CHECK(**basic == "Basic " + base64_encode("alice:alicepw"));
  CHECK(authenticator.base_url() == k_registry);
  CHECK(client.requests().empty()); // no ping

  // The registry refused what it led to (it moved to a token server): ask it again.
  authenticator.invalidate();
  CHECK_FALSE(authenticator.assumed());
  CHECK_FALSE(authenticator.authorizes_at_once(scopes));
  auto bearer = authenticator.authorization(scopes);
  REQUIRE(bearer);
  CHECK(**bearer == "Bearer T1");
  CHECK(client.requests_to(k_ping).size() == 1);
}

TEST_CASE("authenticator: a confirmed remembered challenge is kept after a refusal", "[auth]") {
  FakeHttpClient client;
  AuthOptions options;
  options.remembered = regauth::auth::RememberedChallenge{k_registry, std::nullopt};
  Authenticator authenticator(client, "r.example", k_alice, options);
  authenticator.confirm();
  CHECK_FALSE(authenticator.assumed());
  authenticator.forget_assumed(); // nothing to forget
  auto none = authenticator.authorization({});
  REQUIRE(none);
  CHECK_FALSE(*none); // the registry asked for no authentication
  CHECK(client.requests().empty());
}

TEST_CASE("authenticator: a remembered challenge for another origin or plain HTTP is ignored",
          "[auth]") {
  for (const std::string base : {"https://evil.example", "http://r.example",
                                 "https://r.example:444", "https://r.example/"}) {
    FakeHttpClient client;
    client.on("GET", k_ping, basic_challenge());
    AuthOptions options;
    options.remembered = regauth::auth::RememberedChallenge{base, std::nullopt};
    Authenticator authenticator(client, "r.example", k_alice, options);
    CHECK_FALSE(authenticator.assumed());
    auto value = authenticator.authorization({});
    REQUIRE(value);
    CHECK(**value == "Basic " + base64_encode("alice:alicepw"));
    CHECK(client.requests_to(k_ping).size() == 1);
  }
}

TEST_CASE("authenticator: a remembered Bearer challenge fetches its token without a ping",
          "[auth]") {
  FakeHttpClient client;
  client.on("GET", k_realm, token_response("T1"));
  AuthOptions options;
  options.remembered = regauth::auth::RememberedChallenge{
      k_registry, challenge_of("Bearer realm=\"" + k_realm + "\",service=\"r.example\"")};
  Authenticator authenticator(client, "r.example", k_alice, options);
  auto scopes = std::vector{repository_scope("app", {"pull"})};
  CHECK_FALSE(authenticator.authorizes_at_once(scopes)); // a token is one request away
  auto value = authenticator.authorization(scopes);
  REQUIRE(value);
  CHECK(**value == "Bearer T1");
  CHECK(authenticator.authorizes_at_once(scopes));
  CHECK(client.requests_to(k_ping).empty());
  REQUIRE(client.requests_to(k_realm).size() == 1);
}

TEST_CASE("authenticator: a remembered realm that fails is forgotten and the registry asked",
          "[auth]") {
  const std::string old_realm = "https://r.example/old-token";
  FakeHttpClient client;
  client.on("GET", old_realm, make_response(404, "gone"));
  client.on("GET", k_ping, bearer_challenge());
  client.on("GET", k_realm, token_response("T1"));
  AuthOptions options;
  options.remembered = regauth::auth::RememberedChallenge{
      k_registry, challenge_of("Bearer realm=\"" + old_realm + "\",service=\"r.example\"")};
  Authenticator authenticator(client, "r.example", k_alice, options);
  auto value = authenticator.authorization({repository_scope("app", {"pull"})});
  REQUIRE(value);
  CHECK(**value == "Bearer T1");
  CHECK_FALSE(authenticator.assumed());
  CHECK(client.requests_to(old_realm).size() == 1);
  CHECK(client.requests_to(k_ping).size() == 1);
}
