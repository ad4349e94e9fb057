// Pure readers of AWS's hosts and answers; see include/regauth/identity/aws.hpp.

#include "regauth/http/error_body.hpp"
#include "regauth/identity/aws.hpp"
#include "regauth/util/base64.hpp"
#include "regauth/util/strings.hpp"
#include "regauth/util/terminal_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <utility>
#include <vector>

namespace regauth::identity::aws {
namespace {

struct Partition {
  std::string_view registry_domain; // what follows REGION in the registry host
  std::string_view name;
  std::string_view api_domain;
};

// The registry domains the ECR credential helper accepts (ecr-login/api/client.go), each with
// the partition whose API endpoints serve it.
constexpr std::array<Partition, 9> k_partitions{{
    {"amazonaws.com", "aws", "amazonaws.com"},
    {"amazonaws.com.cn", "aws-cn", "amazonaws.com.cn"},
    {"amazonaws.eu", "aws-eusc", "amazonaws.eu"},
    {"on.aws", "aws", "amazonaws.com"},
    {"on.amazonwebservices.com.cn", "aws-cn", "amazonaws.com.cn"},
    {"c2s.ic.gov", "aws-iso", "c2s.ic.gov"},
    {"sc2s.sgov.gov", "aws-iso-b", "sc2s.sgov.gov"},
    {"cloud.adc-e.uk", "aws-iso-e", "cloud.adc-e.uk"},
    {"csp.hci.ic.gov", "aws-iso-f", "csp.hci.ic.gov"},
}};

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    auto at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) {
      return parts;
    }
    text.remove_prefix(at + 1);
  }
}

bool is_account(std::string_view text) {
  return text.size() == 12 && std::all_of(text.begin(), text.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) != 0;
         });
}

// A region label: lower-case letters, digits and hyphens, starting with a letter or digit.
bool is_region(std::string_view text) {
  if (text.empty() || text.size() > 63 || text.front() == '-' || text.back() == '-') {
    return false;
  }
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// Keys and tokens go into HTTP headers and libcurl's signing: printable ASCII, no spaces.
bool is_header_safe(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

Result<AwsCredentials> checked(AwsCredentials credentials, const std::string& what) {
  if (!is_header_safe(credentials.access_key_id)) {
    return make_error(ErrorKind::protocol, what + ": no usable access key id");
  }
  if (!is_header_safe(credentials.secret_access_key)) {
    return make_error(ErrorKind::protocol, what + ": no usable secret access key");
  }
  if (!credentials.session_token.empty() && !is_header_safe(credentials.session_token)) {
    return make_error(ErrorKind::protocol, what + ": a malformed session token");
  }
  return credentials;
}

// A string member of a JSON object, or "" when absent or not a string.
std::string string_member(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) {
    return {};
  }
  return it->get<std::string>();
}

Result<std::optional<TimePoint>> expiration_member(const nlohmann::json& object, const char* name,
                                                   const std::string& what) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) {
    return std::optional<TimePoint>();
  }
  if (!it->is_string()) {
    return make_error(ErrorKind::protocol, what + ": " + name + " is not a string");
  }
  auto parsed = parse_iso8601(it->get<std::string>());
  if (!parsed) {
    return make_error(ErrorKind::protocol, what + ": " + name + " is not an ISO 8601 time");
  }
  return std::optional<TimePoint>(*parsed);
}

// The text of the first <name>...</name> element in `xml` (after `from`), entities decoded;
// nullopt when there is none.
std::optional<std::string> xml_element(std::string_view xml, std::string_view name,
                                       std::size_t from = 0) {
  std::string open = "<" + std::string(name) + ">";
  std::string close = "</" + std::string(name) + ">";
  auto start = xml.find(open, from);
  if (start == std::string_view::npos) {
    return std::nullopt;
  }
  start += open.size();
  auto end = xml.find(close, start);
  if (end == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view raw = trim(xml.substr(start, end - start));
  std::string text;
  constexpr std::array<std::pair<std::string_view, char>, 5> k_entities{
      {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}}};
  for (std::size_t i = 0; i < raw.size();) {
    bool replaced = false;
    if (raw[i] == '&') {
      for (const auto& [entity, character] : k_entities) {
        if (raw.substr(i, entity.size()) == entity) {
          text += character;
          i += entity.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) {
      text += raw[i++];
    }
  }
  return text;
}

} // namespace

std::optional<EcrHost> parse_ecr_host(std::string_view host) {
  if (host.size() > 253) {
    return std::nullopt;
  }
  if (host == "public.ecr.aws" || host == "ecr-public.aws.com") {
    EcrHost found;
    found.is_public = true;
    found.region = "us-east-1";
    found.partition = "aws";
    found.api_domain = "amazonaws.com";
    found.dualstack = host == "ecr-public.aws.com";
    return found;
  }
  for (const auto& partition : k_partitions) {
    std::string suffix = "." + std::string(partition.registry_domain);
    if (host.size() <= suffix.size() ||
        host.substr(host.size() - suffix.size()) != std::string_view(suffix)) {
      continue;
    }
    auto labels = split(host.substr(0, host.size() - suffix.size()), '.');
    EcrHost found;
    std::string_view service;
    if (labels.size() == 4 && labels[1] == "dkr") {
      service = labels[2];
    } else if (labels.size() == 3 && labels[1].substr(0, 4) == "dkr-") {
      service = labels[1].substr(4);
      found.dualstack = true;
    } else {
      continue;
    }
    if (service != "ecr" && service != "ecr-fips") {
      continue;
    }
    if (!is_account(labels[0]) || !is_region(labels.back())) {
      continue;
    }
    found.account = std::string(labels[0]);
    found.region = std::string(labels.back());
    found.fips = service == "ecr-fips";
    found.partition = std::string(partition.name);
    found.api_domain = std::string(partition.api_domain);
    return found;
  }
  return std::nullopt;
}

std::string ecr_api_endpoint(const EcrHost& host) {
  if (host.is_public) {
    return "https://api.ecr-public.us-east-1.amazonaws.com";
  }
  return std::string(host.fips ? "https://ecr-fips." : "https://api.ecr.") + host.region + "." +
         host.api_domain;
}

Result<IniSections> parse_ini(std::string_view text) {
  IniSections sections;
  std::map<std::string, std::string>* keys = nullptr;
  int number = 0;
  for (std::string_view raw : split(text, '\n')) {
    ++number;
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') {
      continue;
    }
    if (raw.front() == ' ' || raw.front() == '\t') {
      // A continuation line: a nested sub-section (`s3 =` then `  max_concurrent_requests = 2`)
      // or a multi-line value. Neither names credentials.
      continue;
    }
    if (line.front() == '[') {
      if (line.back() != ']') {
        return make_error(ErrorKind::config,
                          "line " + std::to_string(number) + ": a section header without ']'");
      }
      std::string name(trim(line.substr(1, line.size() - 2)));
      keys = &sections[name];
      continue;
    }
    auto equals = line.find('=');
    if (equals == std::string_view::npos) {
      return make_error(ErrorKind::config,
                        "line " + std::to_string(number) + ": expected 'key = value'");
    }
    if (keys == nullptr) {
      return make_error(ErrorKind::config,
                        "line " + std::to_string(number) + ": a key before any [section]");
    }
    std::string key = to_lower(trim(line.substr(0, equals)));
    if (key.empty()) {
      return make_error(ErrorKind::config, "line " + std::to_string(number) + ": an empty key");
    }
    (*keys)[key] = std::string(trim(line.substr(equals + 1)));
  }
  return sections;
}

std::optional<TimePoint> parse_iso8601(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  if (text.size() < 20 || text.size() > 40) {
    return std::nullopt;
  }
  std::string copy(text);
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int consumed = 0;
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &year, &month, &day, &hour,
                  &minute, &second, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  if (year < 1970 || year > 2200 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
      minute > 59 || second > 60 || hour < 0 || minute < 0 || second < 0) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(19);
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    std::size_t digits = 0;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) {
      ++digits;
    }
    if (digits == 0) {
      return std::nullopt;
    }
    rest.remove_prefix(digits);
  }
  long offset = 0;
  if (rest == "Z" || rest == "z") {
    offset = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
             std::isdigit(static_cast<unsigned char>(rest[1])) &&
             std::isdigit(static_cast<unsigned char>(rest[2])) &&
             std::isdigit(static_cast<unsigned char>(rest[4])) &&
             std::isdigit(static_cast<unsigned char>(rest[5]))) {
    long hours = (rest[1] - '0') * 10 + (rest[2] - '0');
    long minutes = (rest[4] - '0') * 10 + (rest[5] - '0');
    if (hours > 23 || minutes > 59) {
      return std::nullopt;
    }
    offset = (rest[0] == '+' ? 1 : -1) * (hours * 3600 + minutes * 60);
  } else {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  time_t seconds = timegm(&tm);
  return std::chrono::system_clock::from_time_t(seconds - offset);
}

Result<AwsCredentials> parse_credential_process_output(std::string_view json) {
  const std::string what = "credential_process output";
  auto document = nlohmann::json::parse(json, nullptr, false);
  if (document.is_discarded() || !document.is_object()) {
    return make_error(ErrorKind::protocol, what + ": not a JSON object");
  }
  auto version = document.find("Version");
  if (version == document.end() || !version->is_number_integer() || version->get<long>() != 1) {
    return make_error(ErrorKind::protocol, what + ": Version must be 1");
  }
  AwsCredentials credentials;
  credentials.access_key_id = string_member(document, "AccessKeyId");
  credentials.secret_access_key = string_member(document, "SecretAccessKey");
  credentials.session_token = string_member(document, "SessionToken");
  auto expiration = expiration_member(document, "Expiration", what);
  if (!expiration) {
    return expiration.error();
  }
  credentials.expiration = *expiration;
  return checked(std::move(credentials), what);
}

Result<AwsCredentials> parse_metadata_credentials(std::string_view json) {
  const std::string what = "credentials answer";
  auto document = nlohmann::json::parse(json, nullptr, false);
  if (document.is_discarded() || !document.is_object()) {
    return make_error(ErrorKind::protocol, what + ": not a JSON object");
  }
  if (auto code = document.find("Code"); code != document.end()) {
    if (!code->is_string() || code->get<std::string>() != "Success") {
      std::string said = code->is_string() ? escape_for_terminal(code->get<std::string>(), 80) : "";
      return make_error(ErrorKind::protocol, what + ": Code is not Success" +
                                                 (said.empty() ? "" : " but '" + said + "'"));
    }
  }
  AwsCredentials credentials;
  credentials.access_key_id = string_member(document, "AccessKeyId");
  credentials.secret_access_key = string_member(document, "SecretAccessKey");
  credentials.session_token = string_member(document, "Token");
  auto expiration = expiration_member(document, "Expiration", what);
  if (!expiration) {
    return expiration.error();
  }
  credentials.expiration = *expiration;
  return checked(std::move(credentials), what);
}

Result<AwsCredentials> parse_sts_credentials(std::string_view xml) {
  const std::string what = "AssumeRoleWithWebIdentity answer";
  auto at = xml.find("<Credentials>");
  if (at == std::string_view::npos) {
    return make_error(ErrorKind::protocol, what + ": no Credentials element");
  }
  AwsCredentials credentials;
  credentials.access_key_id = xml_element(xml, "AccessKeyId", at).value_or("");
  credentials.secret_access_key = xml_element(xml, "SecretAccessKey", at).value_or("");
  credentials.session_token = xml_element(xml, "SessionToken", at).value_or("");
  if (credentials.session_token.empty()) {
    return make_error(ErrorKind::protocol, what + ": no SessionToken");
  }
  if (auto expiration = xml_element(xml, "Expiration", at); expiration) {
    auto parsed = parse_iso8601(*expiration);
    if (!parsed) {
      return make_error(ErrorKind::protocol, what + ": Expiration is not an ISO 8601 time");
    }
    credentials.expiration = *parsed;
  }
  return checked(std::move(credentials), what);
}

std::string describe_aws_error(std::string_view body) {
  std::string code;
  std::string message;
  auto document = nlohmann::json::parse(body, nullptr, false);
  if (!document.is_discarded() && document.is_object()) {
    code = string_member(document, "__type");
    if (code.empty()) {
      code = string_member(document, "code");
    }
    if (auto hash = code.rfind('#'); hash != std::string::npos) {
      code = code.substr(hash + 1); // "com.amazonaws.ecr#AccessDeniedException"
    }
    message = string_member(document, "message");
    if (message.empty()) {
      message = string_member(document, "Message");
    }
  } else if (auto error = body.find("<Error>"); error != std::string_view::npos) {
    code = xml_element(body, "Code", error).value_or("");
    message = xml_element(body, "Message", error).value_or("");
  }
  std::string text = code.empty() ? message : message.empty() ? code : code + ": " + message;
  return escape_for_terminal(text);
}

Result<EcrAuthorization> parse_ecr_authorization(std::string_view json) {
  const std::string what = "GetAuthorizationToken answer";
  auto document = nlohmann::json::parse(json, nullptr, false);
  if (document.is_discarded() || !document.is_object()) {
    return make_error(ErrorKind::protocol, what + ": not a JSON object");
  }
  auto data = document.find("authorizationData");
  if (data == document.end()) {
    return make_error(ErrorKind::protocol, what + ": no authorizationData");
  }
  const nlohmann::json* entry = nullptr;
  if (data->is_array() && !data->empty() && (*data)[0].is_object()) {
    entry = &(*data)[0];
  } else if (data->is_object()) {
    entry = &*data; // ECR Public
  } else {
    return make_error(ErrorKind::protocol, what + ": authorizationData holds no entry");
  }
  std::string token = string_member(*entry, "authorizationToken");
  if (token.empty()) {
    return make_error(ErrorKind::protocol, what + ": no authorizationToken");
  }
  auto decoded = base64_decode(token);
  if (!decoded) {
    return make_error(ErrorKind::protocol, what + ": authorizationToken is not base64");
  }
  auto colon = decoded->find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == decoded->size()) {
    return make_error(ErrorKind::protocol, what + ": authorizationToken is not user:password");
  }
  EcrAuthorization authorization;
  authorization.username = decoded->substr(0, colon);
  authorization.password = decoded->substr(colon + 1);
  if (!is_header_safe(authorization.username) || !is_header_safe(authorization.password)) {
    return make_error(ErrorKind::protocol,
                      what + ": authorizationToken holds spaces or control bytes");
  }
  if (auto expires = entry->find("expiresAt"); expires != entry->end() && !expires->is_null()) {
    if (expires->is_number()) {
      double seconds = expires->get<double>();
      // Epoch seconds between 1970 and 2200: anything else is nonsense.
      if (!std::isfinite(seconds) || seconds < 0 || seconds > 7258118400.0) {
        return make_error(ErrorKind::protocol, what + ": expiresAt is out of range");
      }
      authorization.expires_at =
          TimePoint(std::chrono::seconds(static_cast<long long>(std::floor(seconds))));
    } else if (expires->is_string()) {
      auto parsed = parse_iso8601(expires->get<std::string>());
      if (!parsed) {
        return make_error(ErrorKind::protocol, what + ": expiresAt is not a time");
      }
      authorization.expires_at = *parsed;
    } else {
      return make_error(ErrorKind::protocol, what + ": expiresAt is not a time");
    }
  }
  return authorization;
}

} // namespace regauth::identity::aws
