// The command line: CLI11 wiring, one file per command, and the only code that prints.
#pragma once

#include "regauth/credentials/process_runner.hpp"
#include "regauth/http/transport.hpp"
#include "regauth/result.hpp"

#include <functional>
#include <iosfwd>
#include <memory>
#include <thread>

namespace regauth::cli {

// The outside world, built by main() and replaced in tests.
struct Services {
  credentials::ProcessRunner* process_runner = nullptr;
  std::function<std::unique_ptr<http::HttpClient>(const http::TransportOptions&)> make_http_client;
  // Prepares what make_http_client needs (loads libcurl); may run on another thread. Optional.
  std::function<void()> warm_up_http;
};

// Runs services.warm_up_http on a thread of its own, joined when the returned object dies:
// libcurl loads (several milliseconds) while the command reads its config, image and helpers.
std::jthread warm_up_http(const Services& services);

// Runs regauth with `argv`; returns the process exit code (docs/exit-codes.md).
int run(int argc, char** argv, Services& services, std::ostream& out, std::ostream& err);

// The documented exit code for an error kind.
int exit_code_for(ErrorKind kind);

} // namespace regauth::cli
