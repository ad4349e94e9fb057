#include "regauth/registry/registry_client.hpp"

#include "support/fake_clock.hpp"
#include "support/fake_http_client.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

using regauth::ErrorKind;
using regauth::make_error;
using regauth::Result;
using regauth::auth::repository_scope;
using regauth::auth::SharedAuthenticator;
using regauth::credentials::Credentials;
using regauth::http::HttpClient;
using regauth::http::Request;
using regauth::http::Response;
using regauth::registry::ClientStack;
using regauth::registry::Refusal;
using regauth::registry::RegistryClient;
using regauth::registry::UploadPolicy;
using regauth::registry::UploadSession;
using regauth::testing::FakeClock;
using regauth::testing::FakeHttpClient;
using regauth::testing::header_value;
using regauth::testing::make_response;
using std::chrono::milliseconds;

namespace {

const std::string k_base = "https://r.example/v2/app";
const std::string k_realm = "https://auth.r.example/token";
const std::string k_digest =
    "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
const std::string k_blob = "hello";

// Reads a streamed body the way the transport does, so that the fake sees its bytes in `body`.
class DrainingClient final : public HttpClient {
public:
  explicit DrainingClient(FakeHttpClient& inner) : m_inner(inner) {}
  Result<Response> send(const Request& original) override {
    Request request = original;
    if (request.body_source) {
      std::string body;
      char buffer[2];
      for (;;) {
        auto got = request.body_source(buffer, sizeof buffer);
        if (!got) {
          return got.error();
        }
        if (*got == 0) {
          break;
        }
        body.append(buffer, *got);
      }
      request.body = body;
      request.body_source = nullptr;
    }
    return m_inner.send(request);
  }

private:
  FakeHttpClient& m_inner;
};

Response bearer_challenge() {
  return make_response(
      401, "", {{"WWW-Authenticate", "Bearer realm=\"" + k_realm + "\",service=\"r.example\""}});
}

Response token_response(const std::string& token) {
  return make_response(200, R"({"token":")" + token + R"(","expires_in":300})");
}

Response session_opened(const std::string& id) {
  return make_response(202, "", {{"Location", "/v2/app/blobs/uploads/" + id + "?_state=s"}});
}

// One registry with a bearer challenge, a FakeHttpClient behind the stack, a fake clock.
struct Fixture {
  FakeHttpClient fake;
  DrainingClient transport{fake};
  FakeClock clock;
  SharedAuthenticator authenticator;
  ClientStack stack;
  RegistryClient client;
  int opens = 0;

  explicit Fixture(UploadPolicy policy = {})
      : authenticator(transport, "r.example", Credentials{"alice", "pw", "", ""}, options()),
        stack(nullptr, transport, authenticator, {repository_scope("app", {"pull", "push"})}, {},
              clock),
        client(stack, "app", policy) {
    fake.on("GET", "https://r.example/v2/", bearer_challenge());
    fake.on("GET", k_realm, {token_response("T1"), token_response("T2"), token_response("T3")});
  }

  regauth::auth::AuthOptions options() {
    regauth::auth::AuthOptions options;
    options.clock = &clock;
    return options;
  }

  // A fresh stream of k_blob each time.
  regauth::registry::BlobOpener opener() {
    return [this]() -> Result<std::function<Result<std::size_t>(char*, std::size_t)>> {
      ++opens;
      auto offset = std::make_shared<std::size_t>(0);
      return std::function<Result<std::size_t>(char*, std::size_t)>(
          [offset](char* buffer, std::size_t size) -> Result<std::size_t> {
            std::size_t n = std::min(size, k_blob.size() - *offset);
            k_blob.copy(buffer, n, *offset);
            *offset += n;
            return n;
          });
    };
  }
};

} // namespace

TEST_CASE("registry client: HEAD blob gives the size, nullopt on 404, retries 5xx",
          "[registry][registry_client]") {
  Fixture f;
  f.fake.on("HEAD", k_base + "/blobs/sha256:a",
            {make_response(503), make_response(200, "", {{"Content-Length", "42"}})});
  f.fake.on("HEAD", k_base + "/blobs/sha256:b", make_response(404));
  auto present = f.client.head_blob("sha256:a");
  REQUIRE(present);
  CHECK(*present == std::optional<std::uint64_t>(42));
  CHECK(f.clock.sleeps() == std::vector<milliseconds>{milliseconds(250)});
  auto absent = f.client.head_blob("sha256:b");
  REQUIRE(absent);
  CHECK_FALSE(absent->has_value());
  auto heads = f.fake.requests_to(k_base + "/blobs/sha256:a");
  REQUIRE(heads.size() == 2);
  CHECK(header_value(heads[0], "Authorization") == "Bearer T1");
}

TEST_CASE("registry client: an upload session's Location is resolved, a missing one refused",
          "[registry][registry_client]") {
  Fixture f;
  f.fake.on("POST", k_base + "/blobs/uploads/",
            {session_opened("u1"), make_response(202), make_response(403)});
  auto session = f.client.start_upload();
  REQUIRE(session);
  CHECK(session->location == "https://r.example/v2/app/blobs/uploads/u1?_state=s");
  auto missing = f.client.start_upload();
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == ErrorKind::protocol);
  auto denied = f.client.start_upload();
  REQUIRE_FALSE(denied);
  CHECK(denied.error().kind == ErrorKind::denied);
}

TEST_CASE("registry client: a monolithic upload refused with 503 starts over in a fresh session",
          "[registry][registry_client]") {
  Fixture f;
  f.fake.on("POST", k_base + "/blobs/uploads/", session_opened("u2"));
  f.fake.on("PUT", k_base + "/blobs/uploads/u1", make_response(503, "", {{"Retry-After", "2"}}));
  f.fake.on("PUT", k_base + "/blobs/uploads/u2", make_response(201));
  UploadSession session{k_base + "/blobs/uploads/u1?_state=s", 0};
  std::vector<std::uint64_t> progress;
  auto uploaded = f.client.upload_blob(session, k_digest, k_blob.size(), f.opener(),
                                       [&](std::uint64_t sent) { progress.push_back(sent); });
  REQUIRE(uploaded);
  CHECK(f.opens == 2); // the stream was rewound: opened again from its first byte
  auto puts = f.fake.requests_to(k_base + "/blobs/uploads/u2");
  REQUIRE(puts.size() == 1);
  CHECK(puts[0].body == k_blob);
  CHECK(puts[0].url.find("digest=sha256%3A") != std::string::npos);
  CHECK(f.clock.sleeps() == std::vector<milliseconds>{milliseconds(2000)}); // Retry-After
  CHECK(progress.back() == k_blob.size());
}

TEST_CASE("registry client: a monolithic upload that keeps failing stops after four attempts",
          "[registry][registry_client]") {
  Fixture f;
  f.fake.on("POST", k_base + "/blobs/uploads/", session_opened("u2"));
  f.fake.on("PUT", k_base + "/blobs/uploads/", make_response(500));
  UploadSession session{k_base + "/blobs/uploads/u1?_state=s", 0};
  auto uploaded = f.client.upload_blob(session, k_digest, k_blob.size(), f.opener(), nullptr);
  REQUIRE_FALSE(uploaded);
  CHECK(uploaded.error().kind == ErrorKind::network);
  CHECK(f.fake.requests_to(k_base + "/blobs/uploads/u").size() == 4);
  CHECK(f.clock.sleeps() ==
        std::vector<milliseconds>{milliseconds(250), milliseconds(500), milliseconds(1000)});
}

TEST_CASE("registry client: a 401 on an upload renews the token once and sends again",
          "[registry][registry_client]") {
  Fixture f;
  f.fake.on("POST", k_base + "/blobs/uploads/", session_opened("u2"));
  f.fake.on("PUT", k_base + "/blobs/uploads/u1", make_response(401));
  f.fake.on("PUT", k_base + "/blobs/uploads/u2", make_response(201));
  UploadSession session{k_base + "/blobs/uploads/u1?_state=s", 0};
  REQUIRE(f.client.upload_blob(session, k_digest, k_blob.size(), f.opener(), nullptr));
  auto puts = f.fake.requests_to(k_base + "/blobs/uploads/u2");
  REQUIRE(puts.size() == 1);
  CHECK(header_value(puts[0], "Authorization") == "Bearer T2");
  CHECK(f.fake.requests_to(k_realm).size() == 2);
}

TEST_CASE("registry client: a chunked upload resumes at the registry's offset",
          "[registry][registry_client]") {
  UploadPolicy policy;
  policy.chunk_threshold = 1;
  policy.chunk_size = 2;
  Fixture f(policy);
  const std::string upload = k_base + "/blobs/uploads/u1";
  // The first PATCH ("he") lands, the second is cut off; the registry then says 0-1 (two
  // bytes): the upload goes on from "l".
  f.fake.on("PATCH", upload,
            {make_response(202, "", {{"Location", upload + "?_state=a"}}),
             Result<Response>(make_error(ErrorKind::network, "connection reset")),
             make_response(202, "", {{"Location", upload + "?_state=b"}})});
  f.fake.on("GET", upload, make_response(204, "", {{"Range", "0-1"}, {"Location", upload}}));
  f.fake.on("PUT", upload, make_response(201));
  UploadSession session{upload + "?_state=s", 0};
  REQUIRE(f.client.upload_blob(session, k_digest, k_blob.size(), f.opener(), nullptr));
  auto patches = f.fake.requests_to(upload);
  std::string sent;
  std::vector<std::string> ranges;
  for (const auto& request : patches) {
    if (request.method == "PATCH") {
      ranges.push_back(header_value(request, "Content-Range"));
      sent += request.body;
    }
  }
  // he | (lost) | ll | o: the last byte goes alone, read before it is sent.
  CHECK(ranges == std::vector<std::string>{"0-1", "2-3", "2-3", "4-4"});
  CHECK(f.opens == 2);
  CHECK(f.clock.sleeps().size() == 1);
}

TEST_CASE("registry client: the push gate takes a 401 as the verdict, and retries a 503",
          "[registry][registry_client]") {
  Fixture f;
  f.fake.on("POST", k_base + "/blobs/uploads/",
            {make_response(503),
             make_response(401, R"({"errors":[{"code":"DENIED","message":"no push"}]})",
                           {{"WWW-Authenticate",
                             "Bearer realm=\"" + k_realm + "\",error=\"insufficient_scope\""}})});
  Refusal refusal;
  auto gate = f.client.open_gate(refusal, "");
  REQUIRE_FALSE(gate);
  CHECK(refusal.status == 401);
  CHECK(refusal.challenge_error == "insufficient_scope");
  CHECK(f.fake.requests_to(k_base + "/blobs/uploads/").size() == 2);
  CHECK(f.fake.requests_to(k_realm).size() == 1); // not renewed
}

TEST_CASE("registry client: cancelling asks once for a token that may delete",
          "[registry][registry_client]") {
  Fixture f;
  const std::string upload = k_base + "/blobs/uploads/u1";
  f.fake.on("DELETE", upload, {make_response(401), make_response(204)});
  REQUIRE(f.client.cancel_upload(UploadSession{upload, 0}));
  auto deletes = f.fake.requests_to(upload);
  REQUIRE(deletes.size() == 2);
  CHECK(header_value(deletes[0], "Authorization") == "Bearer T1");
  CHECK(header_value(deletes[1], "Authorization") == "Bearer T2");
  CHECK(deletes[1].during_interrupt);
  auto tokens = f.fake.requests_to(k_realm);
  REQUIRE(tokens.size() == 2);
  CHECK(tokens[1].url.find("delete") != std::string::npos);
}

TEST_CASE("registry client: a manifest PUT answered by another origin is refused",
          "[registry][registry_client]") {
  Fixture f;
  Response elsewhere = make_response(201);
  elsewhere.url = "https://cdn.example/v2/app/manifests/1";
  elsewhere.method = "PUT";
  f.fake.on("PUT", k_base + "/manifests/1", elsewhere);
  f.fake.on("PUT", k_base + "/manifests/2",
            make_response(201, "", {{"Docker-Content-Digest", k_digest}}));
  auto refused = f.client.put_manifest("1", "application/vnd.oci.image.manifest.v1+json", "{}");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::protocol);
  auto put = f.client.put_manifest("2", "application/vnd.oci.image.manifest.v1+json", "{}");
  REQUIRE(put);
  CHECK(put->digest == k_digest);
}

TEST_CASE("registry client: the manifest lookup uses the given Authorization, once",
          "[registry][registry_client]") {
  Fixture f;
  REQUIRE(f.authenticator.ping());
  f.fake.on("HEAD", k_base + "/manifests/1",
            make_response(200, "", {{"Docker-Content-Digest", k_digest}}));
  auto found = f.client.head_manifest("1", "application/vnd.oci.image.manifest.v1+json",
                                      std::string("Bearer given"));
  REQUIRE(found);
  CHECK(*found == std::optional<std::string>(k_digest));
  auto heads = f.fake.requests_to(k_base + "/manifests/1");
  REQUIRE(heads.size() == 1);
  CHECK(header_value(heads[0], "Authorization") == "Bearer given");
  CHECK(f.fake.requests_to(k_realm).empty());
}

TEST_CASE("registry client: a streamed upload sends one chunked PATCH and puts the digest of "
          "what it sent",
          "[registry][registry_client]") {
  Fixture f;
  const std::string upload = k_base + "/blobs/uploads/u1";
  f.fake.on("PATCH", upload, make_response(202, "", {{"Location", upload + "?_state=a"}}));
  f.fake.on("PUT", upload, make_response(201));
  auto sent = f.client.upload_streamed(UploadSession{upload + "?_state=s", 0}, "layer x",
                                       f.opener(), nullptr);
  REQUIRE(sent);
  CHECK(sent->digest == k_digest); // sha256("hello")
  CHECK(sent->size == k_blob.size());
  auto requests = f.fake.requests_to(upload);
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].method == "PATCH");
  CHECK(requests[0].body == k_blob);
  CHECK(header_value(requests[0], "Content-Range").empty());
  CHECK(requests[1].method == "PUT");
  CHECK(requests[1].url == upload + "?_state=a&digest=sha256%3A" + k_digest.substr(7));
  CHECK(requests[1].body.empty());
}

TEST_CASE("registry client: a streamed upload cut off resumes at the registry's offset, and "
          "hashes every byte",
          "[registry][registry_client]") {
  Fixture f;
  const std::string upload = k_base + "/blobs/uploads/u1";
  f.fake.on("PATCH", upload,
            {Result<Response>(make_error(ErrorKind::network, "connection reset")),
             make_response(202, "", {{"Location", upload + "?_state=b"}})});
  f.fake.on("GET", upload, make_response(204, "", {{"Range", "0-1"}, {"Location", upload}}));
  f.fake.on("PUT", upload, make_response(201));
  auto sent = f.client.upload_streamed(UploadSession{upload + "?_state=s", 0}, "layer x",
                                       f.opener(), nullptr);
  REQUIRE(sent);
  CHECK(sent->digest == k_digest);
  std::vector<std::string> bodies;
  for (const auto& request : f.fake.requests_to(upload)) {
    if (request.method == "PATCH") {
      bodies.push_back(request.body);
    }
  }
  // The registry kept "he": the stream is read again and goes on from "l".
  CHECK(bodies == std::vector<std::string>{"hello", "llo"});
  CHECK(f.opens == 2);
  CHECK(f.clock.sleeps().size() == 1);
}

TEST_CASE("registry client: a streamed upload whose source fails ends its body, cancels the "
          "session and never puts a digest",
          "[registry][registry_client]") {
  Fixture f;
  const std::string upload = k_base + "/blobs/uploads/u1";
  f.fake.on("PATCH", upload, make_response(202, "", {{"Location", upload + "?_state=a"}}));
  f.fake.on("DELETE", upload, make_response(204));
  f.fake.on("PUT", upload, make_response(201));
  regauth::registry::BlobOpener failing =
      []() -> Result<std::function<Result<std::size_t>(char*, std::size_t)>> {
    auto calls = std::make_shared<int>(0);
    return std::function<Result<std::size_t>(char*, std::size_t)>(
        [calls](char* buffer, std::size_t) -> Result<std::size_t> {
          if ((*calls)++ == 0) {
            buffer[0] = 'h';
            return std::size_t{1};
          }
          return make_error(ErrorKind::protocol, "layer y does not match its digest");
        });
  };
  auto sent =
      f.client.upload_streamed(UploadSession{upload + "?_state=s", 0}, "layer y", failing, nullptr);
  REQUIRE_FALSE(sent);
  CHECK(sent.error().kind == ErrorKind::protocol);
  CHECK(sent.error().message.find("does not match its digest") != std::string::npos);
  CHECK(sent.error().message.find("cancelled") != std::string::npos);
  std::vector<std::string> methods;
  for (const auto& request : f.fake.requests_to(upload)) {
    methods.push_back(request.method);
  }
  CHECK(methods == std::vector<std::string>{"PATCH", "DELETE"});
  CHECK(f.client.cancelled_sessions() == 1);
}

TEST_CASE("registry client: a streamed upload whose session the registry dropped starts over in "
          "a fresh one",
          "[registry][registry_client]") {
  Fixture f;
  const std::string upload = k_base + "/blobs/uploads/u1";
  const std::string fresh = k_base + "/blobs/uploads/u2";
  // The PATCH reached the registry but its answer was lost: the Location in hand is stale, and
  // distribution answers 404 (and cancels the upload) when it is used.
  f.fake.on("PATCH", upload,
            {Result<Response>(make_error(ErrorKind::network, "connection reset"))});
  f.fake.on("GET", upload, make_response(404, R"({"errors":[{"code":"BLOB_UPLOAD_INVALID"}]})"));
  f.fake.on("POST", k_base + "/blobs/uploads/", session_opened("u2"));
  f.fake.on("PATCH", fresh, make_response(202, "", {{"Location", fresh + "?_state=b"}}));
  f.fake.on("PUT", fresh, make_response(201));
  auto sent = f.client.upload_streamed(UploadSession{upload + "?_state=s", 0}, "layer x",
                                       f.opener(), nullptr);
  REQUIRE(sent);
  CHECK(sent->digest == k_digest);
  auto second = f.fake.requests_to(fresh);
  REQUIRE(second.size() == 2);
  CHECK(second[0].body == k_blob); // the whole stream again, from its first byte
  CHECK(second[1].url == fresh + "?_state=b&digest=sha256%3A" + k_digest.substr(7));
  CHECK(f.opens == 2);
}
