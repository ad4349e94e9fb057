// Composition root: builds the real HTTP client factory and process runner, runs the CLI.
#include "regauth/cli/app.hpp"
#include "regauth/credentials/process_runner.hpp"
#include "regauth/http/curl_client.hpp"

#include <csignal>
#include <exception>
#include <iostream>

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
    return code;
  } catch (const std::exception& e) {
    std::cerr << "regauth: error: internal: " << e.what() << '\n';
    return 1;
  }
}
