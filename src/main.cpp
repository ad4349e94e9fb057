// Composition root: builds the real HTTP client factory and process runner, runs the CLI.
#include "regauth/cli/app.hpp"
#include "regauth/credentials/process_runner.hpp"
#include "regauth/http/curl_client.hpp"

#include <csignal>
#include <cstdlib>
#include <exception>
#include <iostream>

// Sanitizers report at exit (leaks, races): under one, main() returns instead of _Exit.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define REGAUTH_LEAK_CHECKED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||                         \
    __has_feature(leak_sanitizer) || __has_feature(memory_sanitizer)
#define REGAUTH_LEAK_CHECKED 1
#endif
#endif

int main(int argc, char** argv) {
  // A helper or server that hangs up must give regauth an error, not kill it.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    auto runner = regauth::credentials::make_system_process_runner();
    regauth::cli::Services services;
    services.process_runner = runner.get();
    services.make_http_client = [](const regauth::http::TransportOptions& options) {
      return regauth::http::make_curl_client(options);
    };
    services.warm_up_http = regauth::http::initialise_http;
    int code = regauth::cli::run(argc, argv, services, std::cout, std::cerr);
    std::cout.flush();
    std::cerr.flush();
#ifndef REGAUTH_LEAK_CHECKED
    // Every file is closed and every thread joined by now. What exit() would still run is the
    // libraries' clean-up (OpenSSL frees its providers, tables and error strings, about a
    // millisecond) for memory the kernel is about to take back: skip it.
    std::_Exit(code);
#else
    return code;
#endif
  } catch (const std::exception& e) {
    std::cerr << "regauth: error: internal: " << e.what() << '\n';
    return 1;
  }
}
