#include "regauth/cli/terminal.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using regauth::cli::strip_one_line_ending;

TEST_CASE("terminal: exactly one line ending is removed", "[cli]") {
  struct Case {
    std::string input;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"a\n", "a"},
      {"a\r\n", "a"},
      {"a\r", "a"},
      {"a\n\n", "a\n"},
      {"a\r\n\r\n", "a\r\n"},
      {"a\n\r", "a\n"},
      {"a\r\r", "a\r"},
      {"a", "a"},
      {"", ""},
      {"\n", ""},
      {"\r\n", ""},
      {"pass word \n", "pass word "},
      {"p\nw\n", "p\nw"},
      {"trailing\t\n", "trailing\t"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    CHECK(strip_one_line_ending(c.input) == c.expected);
  }
}
