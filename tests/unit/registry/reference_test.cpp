#include "regauth/oci/digest.hpp"
#include "regauth/registry/reference.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using regauth::ErrorKind;
using regauth::oci::validate_digest;
using regauth::registry::parse_reference;
using regauth::registry::Reference;

namespace {

const std::string k_digest =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Case {
  std::string input;
  std::string registry;
  std::string repository;
  std::string tag;
  std::string digest;
};

void check_parses(const Case& c) {
  INFO("input: " << c.input);
  auto parsed = parse_reference(c.input);
  REQUIRE(parsed.has_value());
  CHECK(parsed->registry == c.registry);
  CHECK(parsed->repository == c.repository);
  CHECK(parsed->tag == c.tag);
  CHECK(parsed->digest == c.digest);
}

void check_fails(const std::string& input, const std::string& message_part) {
  INFO("input: " << input);
  auto parsed = parse_reference(input);
  REQUIRE_FALSE(parsed.has_value());
  CHECK(parsed.error().kind == ErrorKind::usage);
  CHECK_THAT(parsed.error().message, Catch::Contains(message_part));
}

} // namespace

TEST_CASE("reference: one-part name gets library/ on Docker Hub", "[registry]") {
  for (const auto& c : {
           Case{"alpine", "registry-1.docker.io", "library/alpine", "latest", ""},
           Case{"alpine:3.19", "registry-1.docker.io", "library/alpine", "3.19", ""},
           Case{"docker.io/alpine", "registry-1.docker.io", "library/alpine", "latest", ""},
           Case{"index.docker.io/alpine", "registry-1.docker.io", "library/alpine", "latest", ""},
           Case{"docker.io/library/alpine", "registry-1.docker.io", "library/alpine", "latest", ""},
       }) {
    check_parses(c);
  }
}

TEST_CASE("reference: two-part Docker Hub names stay as written", "[registry]") {
  for (const auto& c : {
           Case{"team/app", "registry-1.docker.io", "team/app", "latest", ""},
           Case{"docker.io/team/app:v1", "registry-1.docker.io", "team/app", "v1", ""},
           Case{"team/sub/app", "registry-1.docker.io", "team/sub/app", "latest", ""},
       }) {
    check_parses(c);
  }
}

TEST_CASE("reference: a first component with a dot, a colon or localhost is a registry",
          "[registry]") {
  for (const auto& c : {
           Case{"r.example/app", "r.example", "app", "latest", ""},
           Case{"r.example:5000/team/app:1.0", "r.example:5000", "team/app", "1.0", ""},
           Case{"localhost/app", "localhost", "app", "latest", ""},
           Case{"localhost:5000/app", "localhost:5000", "app", "latest", ""},
           Case{"127.0.0.1:5000/app:x", "127.0.0.1:5000", "app", "x", ""},
           Case{"[::1]:5000/app", "[::1]:5000", "app", "latest", ""},
           Case{"[fe80::1]/app:v", "[fe80::1]", "app", "v", ""},
           Case{"My-Registry.Example/app", "My-Registry.Example", "app", "latest", ""},
       }) {
    check_parses(c);
  }
}

TEST_CASE("reference: digests alone or with a tag are kept", "[registry]") {
  for (const auto& c : {
           Case{"app@" + k_digest, "registry-1.docker.io", "library/app", "", k_digest},
           Case{"r.example/app:1@" + k_digest, "r.example", "app", "1", k_digest},
           Case{"r.example:5000/app@" + k_digest, "r.example:5000", "app", "", k_digest},
       }) {
    check_parses(c);
  }
}

TEST_CASE("reference: path component separators follow the distribution grammar", "[registry]") {
  for (const auto& c : {
           Case{"r.example/a.b_c__d-e---f", "r.example", "a.b_c__d-e---f", "latest", ""},
           Case{"r.example/0/1", "r.example", "0/1", "latest", ""},
       }) {
    check_parses(c);
  }
}

TEST_CASE("reference: tags allow word characters, dots and dashes", "[registry]") {
  check_parses(Case{"app:_a.B-9", "registry-1.docker.io", "library/app", "_a.B-9", ""});
  check_parses(Case{"app:" + std::string(128, 'a'), "registry-1.docker.io", "library/app",
                    std::string(128, 'a'), ""});
}

TEST_CASE("reference: upper-case repositories are rejected", "[registry]") {
  for (const auto& input : {"Alpine", "r.example/Team/app", "MyOrg/app", "r.example/app_X:1"}) {
    check_fails(input, "repository name must be lowercase");
  }
}

TEST_CASE("reference: malformed references fail naming the problem", "[registry]") {
  struct Bad {
    std::string input;
    std::string message_part;
  };
  for (const auto& bad : {
           Bad{"", "empty"},
           Bad{":tag", "at least one component"},
           Bad{"app:", "invalid tag format"},
           Bad{"app:-x", "invalid tag format"},
           Bad{"app:" + std::string(129, 'a'), "invalid tag format"},
           Bad{"app@sha256:abc", "invalid digest format"},
           Bad{"app@md5:" + std::string(32, 'a'), "invalid digest format"},
           Bad{"r.example/app/", "invalid reference format"},
           Bad{"r.example//app", "invalid reference format"},
           Bad{"r.example/-app", "invalid reference format"},
           Bad{"r.example/app-", "invalid reference format"},
           Bad{"r.example/a___b", "invalid reference format"},
           Bad{"r.example/a._b", "invalid reference format"},
           Bad{"r.example/a b", "invalid reference format"},
           Bad{"-r.example/app", "invalid registry"},
           Bad{"r.example:/app", "invalid registry"},
           Bad{"r.example:50a0/app", "invalid registry"},
           Bad{"[::1/app", "invalid registry"},
           Bad{"[zz::1]:5000/app", "invalid registry"},
           Bad{std::string(64, 'a'), "64-byte hexadecimal"},
           Bad{"r.example/" + std::string(256, 'a'), "not be more than 255 characters"},
       }) {
    check_fails(bad.input, bad.message_part);
  }
}

TEST_CASE("reference: messages quote at most 80 bytes of the input", "[registry]") {
  auto parsed = parse_reference(std::string(300, 'A'));
  REQUIRE_FALSE(parsed.has_value());
  CHECK(parsed.error().message.size() < 200);
}

TEST_CASE("reference: pathological inputs are rejected quickly", "[registry]") {
  // Patterns that make backtracking regular expressions take exponential time.
  std::string dashes = "r.example/a" + std::string(5000, '-') + "!";
  check_fails(dashes, "invalid reference format");
  std::string underscores = "r.example/" + std::string(5000, '_');
  check_fails(underscores, "invalid reference format");
}

TEST_CASE("reference: manifest_reference prefers the tag, then the digest", "[registry]") {
  CHECK(Reference{"r", "app", "1", k_digest}.manifest_reference() == "1");
  CHECK(Reference{"r", "app", "", k_digest}.manifest_reference() == k_digest);
  CHECK(Reference{"r", "app", "", ""}.manifest_reference() == "latest");
}

TEST_CASE("reference: to_string writes what parses back to the same reference", "[registry]") {
  for (const auto& input :
       std::vector<std::string>{"alpine", "r.example:5000/team/app:1.0",
                                "[::1]:5000/app@" + k_digest, "r.example/app:v1@" + k_digest}) {
    INFO("input: " << input);
    auto parsed = parse_reference(input);
    REQUIRE(parsed.has_value());
    auto again = parse_reference(parsed->to_string());
    REQUIRE(again.has_value());
    CHECK(again->to_string() == parsed->to_string());
    CHECK(again->registry == parsed->registry);
    CHECK(again->repository == parsed->repository);
  }
  CHECK(Reference{"r.example", "app", "1", k_digest}.to_string() == "r.example/app:1@" + k_digest);
}

TEST_CASE("digest: sha256 and sha512 with lower-case hex are valid", "[registry]") {
  CHECK(validate_digest(k_digest).has_value());
  CHECK(validate_digest("sha512:" + std::string(128, 'f')).has_value());
}

TEST_CASE("digest: malformed digests fail as protocol errors", "[registry]") {
  for (const auto& bad : std::vector<std::string>{
           std::string(""),
           std::string("sha256"),
           std::string("sha256:"),
           std::string("sha256:../../etc/passwd"),
           "sha256:" + std::string(63, 'a'),
           "sha256:" + std::string(65, 'a'),
           "sha256:" + std::string(64, 'A'),
           "sha512:" + std::string(64, 'a'),
           "md5:" + std::string(32, 'a'),
           "SHA256:" + std::string(64, 'a'),
       }) {
    INFO("digest: " << bad);
    auto valid = validate_digest(bad);
    REQUIRE_FALSE(valid.has_value());
    CHECK(valid.error().kind == ErrorKind::protocol);
    CHECK_THAT(valid.error().message, Catch::Contains("invalid digest"));
  }
}

TEST_CASE("digest: messages quote at most 80 bytes of the value", "[registry]") {
  auto valid = validate_digest("sha256:" + std::string(1000, 'z'));
  REQUIRE_FALSE(valid.has_value());
  CHECK(valid.error().message.size() < 200);
}
