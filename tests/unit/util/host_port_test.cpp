#include "regauth/util/host_port.hpp"

#include <catch2/catch.hpp>

#include <string>

using regauth::is_valid_port;
using regauth::split_host_port;

TEST_CASE("host port: a host name splits at its first colon", "[util]") {
  auto plain = split_host_port("registry.example");
  REQUIRE(plain);
  CHECK(plain->host == "registry.example");
  CHECK_FALSE(plain->has_port);
  CHECK_FALSE(plain->ipv6);

  auto with_port = split_host_port("localhost:5000");
  REQUIRE(with_port);
  CHECK(with_port->host == "localhost");
  CHECK(with_port->port == "5000");
  CHECK(with_port->has_port);

  // The port is handed back unchecked, for the caller's rule.
  auto odd = split_host_port("r:5:x");
  REQUIRE(odd);
  CHECK(odd->host == "r");
  CHECK(odd->port == "5:x");

  auto empty_port = split_host_port("r:");
  REQUIRE(empty_port);
  CHECK(empty_port->has_port);
  CHECK(empty_port->port.empty());
}

TEST_CASE("host port: an IPv6 literal keeps its brackets and its colons", "[util]") {
  auto bare = split_host_port("[::1]");
  REQUIRE(bare);
  CHECK(bare->host == "[::1]");
  CHECK(bare->ipv6);
  CHECK_FALSE(bare->has_port);

  auto with_port = split_host_port("[fe80::1:AbCd]:443");
  REQUIRE(with_port);
  CHECK(with_port->host == "[fe80::1:AbCd]");
  CHECK(with_port->port == "443");

  auto mapped = split_host_port("[::ffff:10.0.0.1]:5000");
  REQUIRE(mapped);
  CHECK(mapped->host == "[::ffff:10.0.0.1]");
}

TEST_CASE("host port: a broken IPv6 literal is named as such", "[util]") {
  struct Case {
    std::string text;
    std::string reason;
  };
  const Case cases[] = {
      {"[::1", "malformed IPv6 address"},
      {"[]:5000", "malformed IPv6 address"},
      {"[::g]", "malformed IPv6 address"},
      {"[::1%eth0]", "malformed IPv6 address"},
      {"[::1]5000", "unexpected text after IPv6 address"},
      {"[::1]/x", "unexpected text after IPv6 address"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto parts = split_host_port(c.text);
    REQUIRE_FALSE(parts);
    CHECK(parts.error().kind == regauth::ErrorKind::usage);
    CHECK(parts.error().message == c.reason);
  }
}

TEST_CASE("host port: a port is a decimal number from 1 to 65535", "[util]") {
  CHECK(is_valid_port("1"));
  CHECK(is_valid_port("5000"));
  CHECK(is_valid_port("65535"));
  CHECK(is_valid_port("00080"));
  CHECK_FALSE(is_valid_port(""));
  CHECK_FALSE(is_valid_port("0"));
  CHECK_FALSE(is_valid_port("65536"));
  CHECK_FALSE(is_valid_port("000080"));
  CHECK_FALSE(is_valid_port("+80"));
  CHECK_FALSE(is_valid_port("8o"));
}
