#include "regauth/credentials/helper_store.hpp"

#include "regauth/credentials/helper_messages.hpp"
#include "regauth/util/search_path.hpp"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <cstring>

namespace regauth::credentials {
namespace {

// "30 s", or "250 ms" when not a whole number of seconds.
std::string describe_timeout(std::chrono::milliseconds timeout) {
  return timeout.count() % 1000 == 0 ? std::to_string(timeout.count() / 1000) + " s"
                                     : std::to_string(timeout.count()) + " ms";
}

} // namespace

bool is_valid_helper_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '-' || name.front() == '.') {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
  });
}

std::optional<std::filesystem::path> find_helper_program(std::string_view name,
                                                         std::string_view search_path) {
  if (!is_valid_helper_name(name)) {
    return std::nullopt;
  }
  return find_on_path("docker-credential-" + std::string(name), search_path);
}

HelperStore::HelperStore(std::string name, ProcessRunner& runner, std::chrono::milliseconds timeout,
                         std::optional<std::string> search_path)
    : m_name(std::move(name)), m_runner(runner), m_timeout(timeout),
      m_search_path(std::move(search_path)) {}

std::string HelperStore::description() const { return "credential helper " + program_name(); }

Result<ProcessOutcome> HelperStore::run(const char* action, std::string input,
                                        std::string_view secret, bool not_found_answers) {
  auto fail = [&](const std::string& why) {
    return make_error(ErrorKind::helper, program_name() + " " + action + ": " + why);
  };
  if (!is_valid_helper_name(m_name)) {
    return make_error(ErrorKind::helper,
                      "invalid credential helper name \"" + sanitize_helper_message(m_name) +
                          "\": only letters, digits, '.', '_' and '-' are allowed");
  }
  if (!m_program) {
    const char* path = std::getenv("PATH");
    m_program = find_helper_program(m_name, m_search_path ? *m_search_path : (path ? path : ""));
    if (!m_program) {
      return fail("not found on PATH")
          .with_hint("install " + program_name() + ", or remove \"" + m_name +
                     "\" from credsStore/credHelpers in the config");
    }
  }
  ProcessRequest request;
  request.program = *m_program;
  request.args = {action};
  request.input = std::move(input);
  request.timeout = m_timeout;
  auto outcome = m_runner.run(request);
  if (!outcome) {
    return fail(outcome.error().message);
  }
  if (outcome->timed_out) {
    return fail("no answer after " + describe_timeout(m_timeout) +
                ", killed (set --helper-timeout to wait longer)");
  }
  if (outcome->output_truncated) {
    return fail("output larger than " + std::to_string(request.max_output) + " bytes, killed");
  }
  if (outcome->signaled) {
    return fail(std::string("killed by signal ") + ::strsignal(outcome->signal));
  }
  if (outcome->exit_status != 0 && !(not_found_answers && is_not_found_message(outcome->output))) {
    std::string message = sanitize_helper_message(outcome->output, secret);
    return fail("exited with status " + std::to_string(outcome->exit_status) +
                (message.empty() ? std::string() : ": " + message));
  }
  return outcome;
}

Result<std::optional<Credentials>> HelperStore::get(const std::string& key) {
  if (!is_safe_server_url(key)) {
    return make_error(ErrorKind::usage, "refusing to pass a server address with control "
                                        "characters to a credential helper");
  }
  auto outcome = run("get", key, {});
  if (!outcome) {
    return outcome.error().with_context("getting credentials for " + key);
  }
  if (outcome->exit_status != 0) {
    return std::optional<Credentials>(); // the not-found answer
  }
  auto parsed = parse_get_response(outcome->output);
  if (!parsed) {
    return parsed.error().with_context("getting credentials for " + key + ": " + program_name());
  }
  return parsed;
}

Result<void> HelperStore::store(const std::string& key, const Credentials& credentials) {
  if (!is_safe_server_url(key)) {
    return make_error(ErrorKind::usage, "refusing to pass a server address with control "
                                        "characters to a credential helper");
  }
  std::string_view secret =
      credentials.identity_token.empty() ? credentials.password : credentials.identity_token;
  // Any failure, a "not found" answer included, is an error for `store`.
  auto outcome = run("store", make_store_message(key, credentials), secret, false);
  if (!outcome) {
    return outcome.error().with_context("storing credentials for " + key);
  }
  return {};
}

Result<bool> HelperStore::erase(const std::string& key) {
  if (!is_safe_server_url(key)) {
    return make_error(ErrorKind::usage, "refusing to pass a server address with control "
                                        "characters to a credential helper");
  }
  auto outcome = run("erase", key, {});
  if (!outcome) {
    return outcome.error().with_context("erasing credentials for " + key);
  }
  return outcome->exit_status == 0;
}

Result<std::map<std::string, std::string>> HelperStore::list() {
  auto outcome = run("list", "unused", {});
  if (!outcome) {
    return outcome.error().with_context("listing credentials");
  }
  if (outcome->exit_status != 0) {
    return std::map<std::string, std::string>();
  }
  auto parsed = parse_list_response(outcome->output);
  if (!parsed) {
    return parsed.error().with_context("listing credentials: " + program_name());
  }
  return parsed;
}

} // namespace regauth::credentials
