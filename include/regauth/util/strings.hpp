// Small text helpers that several folders share: ASCII case folding and quoting a bad value
// for an error message. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace regauth {

// `text` with ASCII letters in lower case; every other byte unchanged.
std::string to_lower(std::string_view text);

// True when `a` and `b` are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b);

// `text` in double quotes for an error message: cut at `max_bytes` (then "..." before the
// closing quote), every byte that is not printable ASCII as '?'.
std::string quote_text(std::string_view text, std::size_t max_bytes = 80);

// The decimal number that is the whole of `text` (digits only: no sign, no space), or nullopt
// when `text` is empty, holds anything else or overflows 64 bits.
std::optional<std::uint64_t> parse_uint64(std::string_view text);

} // namespace regauth
