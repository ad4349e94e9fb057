#include "regauth/config/registry_key.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using regauth::ErrorKind;
using regauth::config::is_docker_hub_key;
using regauth::config::k_docker_hub_key;
using regauth::config::normalize_registry_key;
using regauth::config::registry_host_for_key;
using regauth::config::registry_key_matches;

namespace {

struct KeyCase {
  std::string input;
  std::string expected;
};

} // namespace

TEST_CASE("registry key: every spelling of Docker Hub maps to the legacy key", "[config]") {
  const std::vector<std::string> spellings = {
      "",
      "docker.io",
      "index.docker.io",
      "registry-1.docker.io",
      "https://index.docker.io/v1/",
      "https://index.docker.io",
      "http://docker.io/",
      "https://registry-1.docker.io/v2/",
      "DOCKER.IO",
      "HTTPS://Index.Docker.IO/v1/",
  };
  for (const auto& input : spellings) {
    CAPTURE(input);
    auto key = normalize_registry_key(input);
    REQUIRE(key);
    CHECK(*key == k_docker_hub_key);
    CHECK(*key == "https://index.docker.io/v1/");
  }
}

TEST_CASE("registry key: scheme and path are stripped, host lower-cased, port kept", "[config]") {
  const std::vector<KeyCase> cases = {
      {"r.example", "r.example"},
      {"R.Example", "r.example"},
      {"r.example:5000", "r.example:5000"},
      {"https://r.example", "r.example"},
      {"http://r.example", "r.example"},
      {"HTTPS://R.EXAMPLE/", "r.example"},
      {"https://r.example/v2/", "r.example"},
      {"https://r.example:5000/v1/", "r.example:5000"},
      {"http://R.example:443/some/path", "r.example:443"},
      {"r.example/some/repo", "r.example"},
      {"r.example?query=1", "r.example"},
      {"r.example#fragment", "r.example"},
      {"localhost:5000", "localhost:5000"},
      {"127.0.0.1:5001", "127.0.0.1:5001"},
      {"my_registry.local", "my_registry.local"},
      {"docker.io.example", "docker.io.example"},
      {"docker.io:5000", "docker.io:5000"},
      {"[::1]:5000", "[::1]:5000"},
      {"[::1]", "[::1]"},
      {"https://[::1]:5000/v2/", "[::1]:5000"},
      {"[FE80::1]:443", "[fe80::1]:443"},
      {"[::ffff:127.0.0.1]:5000", "[::ffff:127.0.0.1]:5000"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    auto key = normalize_registry_key(c.input);
    REQUIRE(key);
    CHECK(*key == c.expected);
    // Normalizing is idempotent.
    auto again = normalize_registry_key(*key);
    REQUIRE(again);
    CHECK(*again == *key);
  }
}

TEST_CASE("registry key: malformed servers are usage errors", "[config]") {
  struct ErrorCase {
    std::string input;
    std::string words; // expected in the message
  };
  const std::vector<ErrorCase> cases = {
      {"r example", "space or control"},
      {" r.example", "space or control"},
      {"r.example\n", "space or control"},
      {std::string("r.example\0x", 11), "space or control"},
      {"r.example\t", "space or control"},
      {"r.\x1b[31mexample", "space or control"},
      {"r.example\x7f", "space or control"},
      {"user@r.example", "user information"},
      {"https://user@r.example/v2/", "user information"},
      {"r.example:0", "port"},
      {"r.example:65536", "port"},
      {"r.example:99999999", "port"},
      {"r.example:abc", "port"},
      {"r.example:", "port"},
      {"r.example:-1", "port"},
      {"r.example:50:00", "port"},
      {"[::1]:x", "port"},
      {"[::1", "IPv6"},
      {"[zz::1]:5000", "IPv6"},
      {"[]:5000", "IPv6"},
      {"[::1]5000", "IPv6"},
      {"ftp://r.example", "only http:// and https://"},
      {"file:///etc/passwd", "only http:// and https://"},
      {"ssh://r.example", "only http:// and https://"},
      {"https://", "no host"},
      {":5000", "no host"},
      {"/v2/", "no host"},
      {"-r.example", "invalid host"},
      {".r.example", "invalid host"},
      {"r..example", "invalid host"},
      {"r.example!", "invalid host"},
      {"r%2eexample", "invalid host"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    auto key = normalize_registry_key(c.input);
    REQUIRE_FALSE(key);
    CHECK(key.error().kind == ErrorKind::usage);
    CHECK_THAT(key.error().message, Catch::Contains(c.words));
  }
}

TEST_CASE("registry key: the error quotes the input but never user information", "[config]") {
  auto quoted = normalize_registry_key("ftp://r.example");
  REQUIRE_FALSE(quoted);
  CHECK_THAT(quoted.error().message, Catch::Contains("'ftp://r.example'"));

  auto with_password = normalize_registry_key("https://alice:hunter2@r.example/");
  REQUIRE_FALSE(with_password);
  CHECK(with_password.error().kind == ErrorKind::usage);
  CHECK_THAT(with_password.error().message, Catch::Contains("user information"));
  CHECK_THAT(with_password.error().message, !Catch::Contains("hunter2"));
  CHECK_THAT(with_password.error().message, Catch::Contains("r.example"));
}

TEST_CASE("registry key: matching is exact on host and port", "[config]") {
  struct MatchCase {
    std::string stored;
    std::string normalized;
    bool matches;
  };
  const std::vector<MatchCase> cases = {
      {"example.com", "example.com", true},
      {"https://example.com/v1/", "example.com", true},
      {"https://example.com", "example.com", true},
      {"http://example.com/v2/", "example.com", true},
      {"EXAMPLE.COM", "example.com", true},
      {"example.com:444", "example.com:444", true},
      {"https://example.com:444/", "example.com:444", true},
      {"example.com.evil.test", "example.com", false},
      {"https://example.com.evil.test/", "example.com", false},
      {"example.com:444", "example.com", false},
      {"example.com", "example.com:444", false},
      {"https://example.com:443/", "example.com", false},
      {"evil.example.com", "example.com", false},
      {"xexample.com", "example.com", false},
      {"user@example.com", "example.com", false},
      {"ftp://example.com", "example.com", false},
      {"", "example.com", false},
      {"docker.io", "https://index.docker.io/v1/", true},
      {"index.docker.io", "https://index.docker.io/v1/", true},
      {"https://index.docker.io/v1/", "https://index.docker.io/v1/", true},
      {"registry-1.docker.io", "https://index.docker.io/v1/", true},
      {"docker.io.evil.test", "https://index.docker.io/v1/", false},
      {"[::1]:5000", "[::1]:5000", true},
      {"https://[::1]:5000/v2/", "[::1]:5000", true},
      {"[::1]:5001", "[::1]:5000", false},
      // Any case of the host passes the quick check that skips keys not holding it.
      {"HTTP://R.EXAMPLE:5000/v1/", "r.example:5000", true},
      {"https://Example.COM", "example.com", true},
      {"r.example:500", "r.example:5000", false},
      {"https://r.example/", "r.example:5000", false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.stored, c.normalized);
    CHECK(registry_key_matches(c.stored, c.normalized) == c.matches);
  }
}

TEST_CASE("registry key: Docker Hub is contacted at registry-1.docker.io", "[config]") {
  CHECK(is_docker_hub_key("https://index.docker.io/v1/"));
  CHECK_FALSE(is_docker_hub_key("docker.io"));
  CHECK_FALSE(is_docker_hub_key("r.example"));
  CHECK(registry_host_for_key("https://index.docker.io/v1/") == "registry-1.docker.io");
  CHECK(registry_host_for_key("r.example:5000") == "r.example:5000");
  CHECK(registry_host_for_key("[::1]:5000") == "[::1]:5000");
}

TEST_CASE("auth.json key: namespaces are kept, hosts normalized, legacy keys keep the host",
          "[config]") {
  using regauth::config::normalize_auth_file_key;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "docker.io"},
      {"docker.io", "docker.io"},
      {"index.docker.io/library/alpine", "docker.io/library/alpine"},
      {"Registry.Example:5000", "registry.example:5000"},
      {"registry.example:5000/team", "registry.example:5000/team"},
      {"registry.example:5000/team/app/", "registry.example:5000/team/app"},
      {"https://registry.example:5000/v2/", "registry.example:5000"},
      {"http://quay.io/team/app", "quay.io"},
      {"https://index.docker.io/v1/", "docker.io"},
  };
  for (const auto& [input, expected] : cases) {
    CAPTURE(input);
    auto key = normalize_auth_file_key(input);
    REQUIRE(key);
    CHECK(*key == expected);
  }
}

TEST_CASE("auth.json key: upper-case or empty namespace components are usage errors", "[config]") {
  using regauth::config::normalize_auth_file_key;
  // "r.example/app//" is a fuzzer finding: one trailing '/' is dropped, a second is an error.
  for (const char* input : {"r.example/Team", "r.example//app", "r.example/app//", "r.example/a b",
                            "u:p@r.example/a", "ftp://r.example"}) {
    CAPTURE(input);
    auto key = normalize_auth_file_key(input);
    REQUIRE_FALSE(key);
    CHECK(key.error().kind == ErrorKind::usage);
  }
}

TEST_CASE("auth.json lookup: from the repository up to the registry", "[config]") {
  using regauth::config::auth_file_lookup_keys;
  using regauth::config::auth_file_registry;
  CHECK(auth_file_lookup_keys("r:5000/ns/team/app") ==
        std::vector<std::string>{"r:5000/ns/team/app", "r:5000/ns/team", "r:5000/ns", "r:5000"});
  CHECK(auth_file_lookup_keys("r") == std::vector<std::string>{"r"});
  CHECK(auth_file_registry("r:5000/ns/app") == "r:5000");
  CHECK(auth_file_registry("docker.io") == "docker.io");
}

TEST_CASE("registry key: normalizing_keeps_key holds only for keys that normalizing leaves as "
          "they are (or rejects)",
          "[config]") {
  using regauth::config::normalize_auth_file_key;
  using regauth::config::normalizing_keeps_key;
  for (const char* key : {"r.example", "r.example:5000", "127.0.0.1:5000", "[::1]:5000",
                          "my_registry-1.example.com", "r.example:99999", "-bad.example"}) {
    CAPTURE(key);
    CHECK(normalizing_keeps_key(key));
  }
  for (const char* key :
       {"", "R.example", "https://r.example", "http://r.example/v2/", "r.example/ns", "r.example?x",
        "r.example#x", "docker.io", "index.docker.io", "registry-1.docker.io",
        "https://index.docker.io/v1/"}) {
    CAPTURE(key);
    CHECK_FALSE(normalizing_keeps_key(key));
  }
  // Whatever it says yes to, both normalizations give back unchanged or reject.
  for (const char* key : {"r.example",
                          "r.example:5000",
                          "127.0.0.1:5000",
                          "[::1]:5000",
                          "[::1]",
                          "r.example:99999",
                          "-bad.example",
                          "a..b",
                          "r.example:",
                          ":5000",
                          "r example",
                          "r\texample",
                          "u@r.example",
                          "x://r.example",
                          "docker.io:443",
                          "r.example:5000:1",
                          "\xc3\xa9.example",
                          "[FE80::1]",
                          "R.example",
                          "https://r.example",
                          "docker.io"}) {
    CAPTURE(key);
    if (!normalizing_keeps_key(key)) {
      continue;
    }
    auto docker = normalize_registry_key(key);
    CHECK((!docker || *docker == key));
    auto auth_file = normalize_auth_file_key(key);
    CHECK((!auth_file || *auth_file == key));
  }
}
