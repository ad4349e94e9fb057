// The terminal sanitiser: its output is clean text (valid UTF-8, no C0, DEL or C1 control, no
// bidi or invisible format character), escaping is idempotent, and the cap holds.
#include "regauth/util/terminal_text.hpp"

#include "fuzz_check.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string shown = regauth::escape_for_terminal(input);
  FUZZ_CHECK(regauth::is_clean_text(shown));
  FUZZ_CHECK(shown.find("\xE2\x80\xAE") == std::string::npos); // U+202E
  FUZZ_CHECK(shown.find("\xE2\x81\xA6") == std::string::npos); // U+2066
  FUZZ_CHECK(regauth::escape_for_terminal(shown) == shown);
  std::size_t cap = size % 64;
  std::string capped = regauth::escape_for_terminal(input, cap);
  FUZZ_CHECK(regauth::is_clean_text(capped));
  FUZZ_CHECK(capped.size() <= cap + 3 + 6); // at most one escape past the cap, then "..."
  return 0;
}
