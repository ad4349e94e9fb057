// A CredentialStore backed by a docker-credential-<name> helper program, spoken to with the
// docker-credential-helpers protocol (get/store/erase/list over stdin/stdout).
#pragma once

#include "regauth/credentials/credentials.hpp"
#include "regauth/credentials/process_runner.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace regauth::credentials {

// True for a helper name regauth will run: letters, digits, '.', '_', '-', not starting with
// '-' or '.', at most 64 bytes. Rejects '/', "..", spaces and control bytes.
bool is_valid_helper_name(std::string_view name);

// Finds docker-credential-<name> on `search_path` (a PATH value), skipping empty and relative
// entries so that the current directory never supplies a helper. nullopt when absent.
std::optional<std::filesystem::path> find_helper_program(std::string_view name,
                                                         std::string_view search_path);

class HelperStore final : public CredentialStore {
public:
  // `search_path` is the PATH to find the program on; nullopt means the environment's PATH.
  HelperStore(std::string name, ProcessRunner& runner, std::chrono::milliseconds timeout,
              std::optional<std::string> search_path = std::nullopt);

  [[nodiscard]] std::string description() const override;
  Result<std::optional<Credentials>> get(const std::string& key) override;
  Result<void> store(const std::string& key, const Credentials& credentials) override;
  Result<bool> erase(const std::string& key) override;
  Result<std::map<std::string, std::string>> list() override;

  [[nodiscard]] const std::string& name() const { return m_name; }

private:
  // Runs one action; fails (helper) naming the helper, the action and what went wrong. A
  // non-zero exit is an answer only when it is the protocol's "not found" and
  // `not_found_answers` (get, erase, list).
  Result<ProcessOutcome> run(const char* action, std::string input, std::string_view secret,
                             bool not_found_answers = true);
  std::string program_name() const { return "docker-credential-" + m_name; }

  std::string m_name;
  ProcessRunner& m_runner;
  std::chrono::milliseconds m_timeout;
  std::optional<std::string> m_search_path;
  std::optional<std::filesystem::path> m_program;
};

} // namespace regauth::credentials
