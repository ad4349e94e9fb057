#include "regauth/auth/challenge.hpp"

#include "regauth/util/strings.hpp"

#include <algorithm>
#include <cctype>

namespace regauth::auth {
namespace {

constexpr std::size_t k_max_challenges = 64;
constexpr std::size_t k_max_params = 64;

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token68_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("-._~+/").find(c) != std::string_view::npos;
}

class Parser {
public:
  explicit Parser(std::string_view text) : m_text(text) {}

  Result<std::vector<Challenge>> parse() {
    std::vector<Challenge> challenges;
    skip_separators();
    while (!at_end()) {
      if (challenges.size() >= k_max_challenges) {
        return fail("more than 64 challenges");
      }
      auto challenge = parse_challenge();
      if (!challenge) {
        return challenge.error();
      }
      challenges.push_back(std::move(*challenge));
      skip_separators();
    }
    return challenges;
  }

private:
  [[nodiscard]] bool at_end() const { return m_pos >= m_text.size(); }
  [[nodiscard]] char peek() const { return m_text[m_pos]; }

  void skip_spaces() {
    while (!at_end() && (peek() == ' ' || peek() == '\t')) {
      ++m_pos;
    }
  }
  void skip_separators() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == ',')) {
      ++m_pos;
    }
  }

  Error fail(const std::string& why) const {
    return make_error(ErrorKind::protocol, "malformed WWW-Authenticate header at byte " +
                                               std::to_string(m_pos) + ": " + why);
  }

  std::string_view read_token() {
    std::size_t start = m_pos;
    while (!at_end() && is_tchar(peek())) {
      ++m_pos;
    }
    return m_text.substr(start, m_pos - start);
  }

  // token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=", and only when it
  // is the whole rest of the challenge.
  bool try_token68(std::string& out) {
    std::size_t pos = m_pos;
    while (pos < m_text.size() && is_token68_char(m_text[pos])) {
      ++pos;
    }
    if (pos == m_pos) {
      return false;
    }
    while (pos < m_text.size() && m_text[pos] == '=') {
      ++pos;
    }
    std::size_t end = pos;
    while (pos < m_text.size() && (m_text[pos] == ' ' || m_text[pos] == '\t')) {
      ++pos;
    }
    if (pos < m_text.size() && m_text[pos] != ',') {
      return false;
    }
    out = std::string(m_text.substr(m_pos, end - m_pos));
    m_pos = pos;
    return true;
  }

  Result<std::string> read_quoted() {
    ++m_pos; // opening quote
    std::string value;
    while (!at_end()) {
      char c = peek();
      ++m_pos;
      if (c == '"') {
        return value;
      }
      if (c == '\\') {
        if (at_end()) {
          break;
        }
        c = peek();
        ++m_pos;
      }
      auto byte = static_cast<unsigned char>(c);
      if ((byte < 0x20 && c != '\t') || byte == 0x7f) {
        return fail("control character in quoted string");
      }
      value += c;
    }
    return fail("unterminated quoted string");
  }

  // True when the text at the cursor starts an auth-param (token BWS "=" and not "==", which
  // only token68 padding can have: "Negotiate abc==").
  [[nodiscard]] bool at_param() const {
    std::size_t pos = m_pos;
    while (pos < m_text.size() && is_tchar(m_text[pos])) {
      ++pos;
    }
    if (pos == m_pos) {
      return false;
    }
    while (pos < m_text.size() && (m_text[pos] == ' ' || m_text[pos] == '\t')) {
      ++pos;
    }
    return pos < m_text.size() && m_text[pos] == '=' &&
           (pos + 1 >= m_text.size() || m_text[pos + 1] != '=');
  }

  Result<Challenge> parse_challenge() {
    Challenge challenge;
    std::string_view scheme = read_token();
    if (scheme.empty()) {
      return fail("expected an authentication scheme");
    }
    challenge.scheme = to_lower(scheme);
    if (at_end() || peek() == ',') {
      return challenge;
    }
    if (peek() != ' ' && peek() != '\t') {
      return fail("expected a space after the scheme");
    }
    skip_spaces();
    if (at_end() || peek() == ',') {
      return challenge;
    }
    if (try_token68(challenge.token68)) {
      return challenge;
    }
    while (true) {
      if (challenge.params.size() >= k_max_params) {
        return fail("more than 64 parameters");
      }
      std::string name = to_lower(read_token());
      if (name.empty()) {
        return fail("expected a parameter name");
      }
      skip_spaces();
      if (at_end() || peek() != '=') {
        return fail("expected '=' after \"" + name + "\"");
      }
      ++m_pos;
      skip_spaces();
      std::string value;
      if (!at_end() && peek() == '"') {
        auto quoted = read_quoted();
        if (!quoted) {
          return quoted.error();
        }
        value = std::move(*quoted);
      } else {
        value = std::string(read_token());
      }
      if (!challenge.params.emplace(name, value).second) {
        return fail("duplicate parameter \"" + name + "\"");
      }
      skip_spaces();
      if (at_end()) {
        return challenge;
      }
      if (peek() != ',') {
        return fail("expected ',' after the value of \"" + name + "\"");
      }
      // After a comma: another parameter of this challenge, or the next challenge.
      skip_separators();
      if (at_end() || !at_param()) {
        return challenge;
      }
    }
  }

  std::string_view m_text;
  std::size_t m_pos = 0;
};

std::string quote(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

} // namespace

std::string Challenge::param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

Result<std::vector<Challenge>> parse_challenges(std::string_view header) {
  return Parser(header).parse();
}

Result<std::vector<Challenge>> parse_challenge_headers(const std::vector<std::string>& headers) {
  std::vector<Challenge> all;
  for (const auto& header : headers) {
    auto parsed = parse_challenges(header);
    if (!parsed) {
      return parsed.error();
    }
    all.insert(all.end(), parsed->begin(), parsed->end());
  }
  return all;
}

std::string to_header(const Challenge& challenge) {
  std::string out = challenge.scheme;
  if (!challenge.token68.empty()) {
    return out + " " + challenge.token68;
  }
  bool first = true;
  for (const auto& [name, value] : challenge.params) {
    out += first ? " " : ", ";
    first = false;
    out += name + "=" + quote(value);
  }
  return out;
}

Result<Challenge> choose_challenge(const std::vector<Challenge>& challenges) {
  for (const auto& challenge : challenges) {
    if (challenge.scheme == "bearer") {
      auto realm = challenge.params.find("realm");
      if (realm == challenge.params.end() || realm->second.empty()) {
        return make_error(ErrorKind::protocol, "the registry's Bearer challenge has no realm");
      }
      return challenge;
    }
  }
  for (const auto& challenge : challenges) {
    if (challenge.scheme == "basic") {
      return challenge;
    }
  }
  std::string offered;
  for (const auto& challenge : challenges) {
    offered += (offered.empty() ? "" : ", ") + challenge.scheme;
  }
  return make_error(ErrorKind::protocol,
                    "the registry offers no authentication scheme regauth supports (offered: " +
                        (offered.empty() ? std::string("none") : offered) + ")");
}

} // namespace regauth::auth
