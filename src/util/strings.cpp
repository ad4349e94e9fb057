#include "regauth/util/strings.hpp"

#include <algorithm>
#include <charconv>

namespace regauth {
namespace {

char lower_char(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

} // namespace

std::string to_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), lower_char);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return lower_char(x) == lower_char(y);
         });
}

std::string quote_text(std::string_view text, std::size_t max_bytes) {
  std::string out = "\"";
  for (char c : text.substr(0, max_bytes)) {
    out += c >= 0x20 && c < 0x7f ? c : '?';
  }
  if (text.size() > max_bytes) {
    out += "...";
  }
  return out + "\"";
}

std::optional<std::uint64_t> parse_uint64(std::string_view text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || stop != end) {
    return std::nullopt;
  }
  return value;
}

} // namespace regauth
