// Running credential helpers: the ProcessRunner interface, with one real implementation
// (src/credentials/helper_process.cpp, the only code that forks) and a scripted fake in tests.
#pragma once

#include "regauth/result.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace regauth::credentials {

struct ProcessRequest {
  std::filesystem::path program; // absolute path; never looked up through a shell
  std::vector<std::string> args; // argv[1..]; never holds a secret
  std::string input;             // written to stdin, which is then closed
  std::chrono::milliseconds timeout{30000};
  std::size_t max_output = 1024 * 1024;
};

struct ProcessOutcome {
  int exit_status = 0;   // valid when !signaled
  bool signaled = false; // ended by a signal
  int signal = 0;
  bool timed_out = false;        // killed (with its process group) at the deadline
  bool output_truncated = false; // stdout exceeded max_output; the process was killed
  std::string output;            // stdout; stderr goes to regauth's stderr
};

class ProcessRunner {
public:
  virtual ~ProcessRunner() = default;
  // Runs the program to completion or to its deadline. Fails (helper) only when it cannot
  // be started; a non-zero exit is an outcome, not an error.
  virtual Result<ProcessOutcome> run(const ProcessRequest& request) = 0;
};

// The real runner: posix_spawn in a new process group, stdin/stdout pipes, stderr inherited.
std::unique_ptr<ProcessRunner> make_system_process_runner();

} // namespace regauth::credentials
