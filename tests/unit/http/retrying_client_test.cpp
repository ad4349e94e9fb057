#include "regauth/http/retrying_client.hpp"

#include "support/fake_clock.hpp"
#include "support/fake_http_client.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

using regauth::ErrorKind;
using regauth::make_error;
using regauth::Result;
using regauth::http::is_retryable;
using regauth::http::is_retryable_status;
using regauth::http::Request;
using regauth::http::Response;
using regauth::http::retry_delay;
using regauth::http::RetryingClient;
using regauth::http::RetryPolicy;
using regauth::testing::FakeClock;
using regauth::testing::FakeHttpClient;
using regauth::testing::make_response;
using std::chrono::milliseconds;

namespace {

const std::string k_url = "https://r.example/v2/app/blobs/sha256:1";

Request get() {
  Request request;
  request.url = k_url;
  return request;
}

Result<Response> network_error() {
  return make_error(ErrorKind::network, "connection reset by peer");
}

} // namespace

TEST_CASE("retry: network errors, 408, 429 and 5xx are retryable, nothing else", "[http][retry]") {
  for (long status : {408L, 429L, 500L, 502L, 503L, 504L, 599L}) {
    CHECK(is_retryable_status(status));
  }
  for (long status : {200L, 201L, 301L, 400L, 401L, 403L, 404L, 416L}) {
    CHECK_FALSE(is_retryable_status(status));
  }
  CHECK(is_retryable(network_error()));
  CHECK_FALSE(is_retryable(Result<Response>(make_error(ErrorKind::protocol, "bad header"))));
  CHECK_FALSE(is_retryable(Result<Response>(make_error(ErrorKind::interrupted, "SIGINT"))));
  CHECK(is_retryable(Result<Response>(make_response(503))));
  CHECK_FALSE(is_retryable(Result<Response>(make_response(401))));
}

TEST_CASE("retry: the delay is Retry-After in seconds, bounded, else a bounded backoff",
          "[http][retry]") {
  RetryPolicy policy;
  CHECK(retry_delay(policy, nullptr, 0) == milliseconds(250));
  CHECK(retry_delay(policy, nullptr, 1) == milliseconds(500));
  CHECK(retry_delay(policy, nullptr, 3) == milliseconds(2000));
  CHECK(retry_delay(policy, nullptr, 6) == milliseconds(16000));
  CHECK(retry_delay(policy, nullptr, 30) == policy.max_backoff);
  Response limited = make_response(429, "", {{"Retry-After", "3"}});
  CHECK(retry_delay(policy, &limited, 0) == milliseconds(3000));
  Response greedy = make_response(503, "", {{"Retry-After", "3600"}});
  CHECK(retry_delay(policy, &greedy, 0) == milliseconds(30000));
  for (const char* odd : {"Wed, 21 Oct 2015 07:28:00 GMT", "-5x", "", "1.5"}) {
    Response date = make_response(503, "", {{"Retry-After", odd}});
    CHECK(retry_delay(policy, &date, 1) == milliseconds(500));
  }
}

TEST_CASE("retry: a 429 with Retry-After waits that long, then succeeds", "[http][retry]") {
  FakeHttpClient inner;
  inner.on("GET", k_url,
           {make_response(429, "", {{"Retry-After", "2"}}), make_response(200, "ok")});
  FakeClock clock;
  RetryingClient client(inner, {}, clock);
  auto response = client.send(get());
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(inner.requests().size() == 2);
  CHECK(clock.sleeps() == std::vector<milliseconds>{milliseconds(2000)});
}

TEST_CASE("retry: attempts are bounded and the backoff grows", "[http][retry]") {
  FakeHttpClient inner;
  inner.on("GET", k_url, {network_error(), make_response(502), make_response(503)});
  FakeClock clock;
  RetryingClient client(inner, {}, clock);
  auto response = client.send(get());
  REQUIRE(response);
  CHECK(response->status == 503); // the last outcome, after four attempts
  CHECK(inner.requests().size() == 4);
  CHECK(clock.sleeps() ==
        std::vector<milliseconds>{milliseconds(250), milliseconds(500), milliseconds(1000)});

  SECTION("a network error on the last attempt is returned") {
    FakeHttpClient failing;
    failing.on("GET", k_url, {network_error()});
    FakeClock waits;
    RetryPolicy twice;
    twice.max_attempts = 2;
    RetryingClient retrying(failing, twice, waits);
    auto outcome = retrying.send(get());
    REQUIRE_FALSE(outcome);
    CHECK(outcome.error().kind == ErrorKind::network);
    CHECK(failing.requests().size() == 2);
    CHECK(waits.sleeps().size() == 1);
  }
}

TEST_CASE("retry: other errors and statuses are returned at once", "[http][retry]") {
  for (long status : {200L, 401L, 403L, 404L}) {
    FakeHttpClient inner;
    inner.on("GET", k_url, make_response(status));
    FakeClock clock;
    RetryingClient client(inner, {}, clock);
    auto response = client.send(get());
    REQUIRE(response);
    CHECK(response->status == status);
    CHECK(inner.requests().size() == 1);
    CHECK(clock.sleeps().empty());
  }
  FakeHttpClient refusing;
  refusing.on("GET", k_url, {Result<Response>(make_error(ErrorKind::protocol, "https to http"))});
  FakeClock clock;
  RetryingClient client(refusing, {}, clock);
  REQUIRE_FALSE(client.send(get()));
  CHECK(refusing.requests().size() == 1);
}

TEST_CASE("retry: a streamed body is retried only when it can be rewound", "[http][retry]") {
  auto streamed = [] {
    Request request;
    request.method = "PUT";
    request.url = k_url;
    request.body_size = 3;
    request.body_source = [](char*, std::size_t) { return Result<std::size_t>(std::size_t{0}); };
    return request;
  };
  SECTION("without prepare_resend it is sent once") {
    FakeHttpClient inner;
    inner.on("PUT", k_url, {make_response(503), make_response(201)});
    FakeClock clock;
    RetryingClient client(inner, {}, clock);
    auto response = client.send(streamed());
    REQUIRE(response);
    CHECK(response->status == 503);
    CHECK(inner.requests().size() == 1);
    CHECK(clock.sleeps().empty());
  }
  SECTION("with prepare_resend it is rewound before each new attempt") {
    FakeHttpClient inner;
    inner.on("PUT", k_url, {make_response(503), network_error(), make_response(201)});
    FakeClock clock;
    RetryingClient client(inner, {}, clock);
    int rewinds = 0;
    Request request = streamed();
    request.prepare_resend = [&](Request& again) -> Result<void> {
      ++rewinds;
      again.url = k_url + "?attempt=" + std::to_string(rewinds);
      return {};
    };
    auto response = client.send(request);
    REQUIRE(response);
    CHECK(response->status == 201);
    CHECK(rewinds == 2);
    REQUIRE(inner.requests().size() == 3);
    CHECK(inner.requests()[2].url == k_url + "?attempt=2");
  }
  SECTION("a rewind that fails ends the request with its error") {
    FakeHttpClient inner;
    inner.on("PUT", k_url, {make_response(503)});
    FakeClock clock;
    RetryingClient client(inner, {}, clock);
    Request request = streamed();
    request.prepare_resend = [](Request&) -> Result<void> {
      return make_error(ErrorKind::io, "the blob is gone");
    };
    auto response = client.send(request);
    REQUIRE_FALSE(response);
    CHECK(response.error().message == "the blob is gone");
    CHECK(inner.requests().size() == 1);
  }
}
