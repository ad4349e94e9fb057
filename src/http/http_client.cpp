#include "regauth/http/http_client.hpp"

#include <algorithm>
#include <cctype>

namespace regauth::http {

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<std::string> Response::header(std::string_view name) const {
  for (const auto& header : headers) {
    if (equals_ignore_case(header.name, name)) {
      return header.value;
    }
  }
  return std::nullopt;
}

std::vector<std::string> Response::header_values(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& header : headers) {
    if (equals_ignore_case(header.name, name)) {
      values.push_back(header.value);
    }
  }
  return values;
}

} // namespace regauth::http
