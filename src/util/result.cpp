#include "regauth/result.hpp"

namespace regauth {

const char* to_string(ErrorKind kind) {
  switch (kind) {
  case ErrorKind::usage:
    return "usage";
  case ErrorKind::config:
    return "config";
  case ErrorKind::not_found:
    return "not_found";
  case ErrorKind::unauthorized:
    return "unauthorized";
  case ErrorKind::denied:
    return "denied";
  case ErrorKind::network:
    return "network";
  case ErrorKind::protocol:
    return "protocol";
  case ErrorKind::helper:
    return "helper";
  case ErrorKind::io:
    return "io";
  case ErrorKind::interrupted:
    return "interrupted";
  case ErrorKind::internal:
    return "internal";
  }
  return "internal";
}

} // namespace regauth
