#include "regauth/http/error_body.hpp"

#include "regauth/http/retrying_client.hpp"
#include "regauth/util/strings.hpp"
#include "regauth/util/terminal_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace regauth::http {
namespace {

constexpr std::size_t k_max_described = 300;

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
      text += to_lower(error.code);
      if (!error.message.empty()) {
        text += ": ";
      }
    }
    text += error.message;
  }
  return escape_for_terminal(text, k_max_described);
}

ErrorKind kind_for_status(long status) {
  switch (status) {
  case 401:
    return ErrorKind::unauthorized;
  case 403:
    return ErrorKind::denied;
  case 404:
    return ErrorKind::not_found;
  default:
    return is_retryable_status(status) ? ErrorKind::network : ErrorKind::protocol;
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
