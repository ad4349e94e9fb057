#include "regauth/cli/app.hpp"
#include "regauth/http/http_client.hpp"

namespace regauth {

namespace cli {

// Keep in step with docs/exit-codes.md and the --help footer.
int exit_code_for(ErrorKind kind) {
  switch (kind) {
  case ErrorKind::usage:
    return 2;
  case ErrorKind::config:
    return 3;
  case ErrorKind::helper:
    return 4;
  case ErrorKind::unauthorized:
    return 5;
  case ErrorKind::denied:
    return 6;
  case ErrorKind::network:
    return 7;
  case ErrorKind::not_found:
    return 8;
  case ErrorKind::protocol:
    return 9;
  case ErrorKind::io:
    return 10;
  case ErrorKind::interrupted:
    // 128 + the signal's number, as a shell reports it: 130 for SIGINT, 143 for SIGTERM.
    return http::interrupted_by() != 0 ? 128 + http::interrupted_by() : 130;
  case ErrorKind::internal:
    return 1;
  }
  return 1;
}

} // namespace cli
} // namespace regauth
