#include "regauth/http/error_body.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace regauth::http {
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string string_member(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const char* reason_phrase(long status) {
  switch (status) {
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 408:
    return "Request Timeout";
  case 409:
    return "Conflict";
  case 413:
    return "Payload Too Large";
  case 416:
    return "Range Not Satisfiable";
  case 429:
    return "Too Many Requests";
  case 500:
    return "Internal Server Error";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Unavailable";
  case 504:
    return "Gateway Timeout";
  default:
    return "";
  }
}

} // namespace

// The length of the valid UTF-8 sequence at `at`, or 0 (C1 controls count as invalid).
std::size_t utf8_sequence(std::string_view text, std::size_t at) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(at);
  std::size_t length = lead >= 0xF0 && lead <= 0xF4  ? 4
                       : lead >= 0xE0 && lead < 0xF0 ? 3
                       : lead >= 0xC2 && lead < 0xE0 ? 2
                                                     : 0;
  if (length == 0 || at + length > text.size()) {
    return 0;
  }
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xC0) != 0x80) {
      return 0;
    }
  }
  if (lead == 0xC2 && byte(at + 1) < 0xA0) {
    return 0; // U+0080..U+009F: C1 control characters
  }
  return length;
}

std::string printable(std::string_view text, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    char c = text[i];
    auto byte = static_cast<unsigned char>(c);
    if (c == '\n' || c == '\t' || c == '\r') {
      if (!out.empty() && out.back() != ' ') {
        out += ' ';
      }
    } else if (byte >= 0x80) {
      std::size_t length = utf8_sequence(text, i);
      if (length == 0) {
        out += '?';
      } else {
        out.append(text.substr(i, length));
        i += length - 1;
      }
    } else if (byte >= 0x20 && byte != 0x7f) {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  return out;
}

std::vector<ServerError> parse_error_body(std::string_view body) {
  std::vector<ServerError> errors;
  auto json = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return errors;
  }
  if (auto list = json.find("errors"); list != json.end() && list->is_array()) {
    for (const auto& item : *list) {
      if (item.is_object()) {
        errors.push_back({string_member(item, "code"), string_member(item, "message")});
      }
    }
    if (!errors.empty()) {
      return errors;
    }
  }
  if (auto details = string_member(json, "details"); !details.empty()) {
    errors.push_back({"", details});
  } else if (auto error = string_member(json, "error"); !error.empty()) {
    auto description = string_member(json, "error_description");
    errors.push_back({"", description.empty() ? error : error + ": " + description});
  } else if (auto message = string_member(json, "message"); !message.empty()) {
    errors.push_back({"", message});
  }
  return errors;
}

std::string describe_error_body(std::string_view body) {
  std::string text;
  for (const auto& error : parse_error_body(body)) {
    if (!text.empty()) {
      text += "; ";
    }
    if (!error.code.empty()) {
      text += lower(error.code);
      if (!error.message.empty()) {
        text += ": ";
      }
    }
    text += error.message;
  }
  return printable(text);
}

ErrorKind kind_for_status(long status) {
  switch (status) {
  case 401:
    return ErrorKind::unauthorized;
  case 403:
    return ErrorKind::denied;
  case 404:
    return ErrorKind::not_found;
  case 408:
  case 429:
    return ErrorKind::network;
  default:
    return status >= 500 ? ErrorKind::network : ErrorKind::protocol;
  }
}

Error response_error(const std::string& what, const Response& response) {
  std::string message = what + ": " + std::to_string(response.status);
  if (const char* reason = reason_phrase(response.status); *reason) {
    message += std::string(" ") + reason;
  }
  if (auto described = describe_error_body(response.body); !described.empty()) {
    message += ": " + described;
  }
  return make_error(kind_for_status(response.status), message);
}

} // namespace regauth::http
