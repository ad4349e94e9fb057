#include "regauth/http/http_client.hpp"

#include "regauth/util/strings.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <csignal>
#include <mutex>

namespace regauth::http {
namespace {

std::atomic<int> g_interrupted{0};
std::mutex g_interrupt_mutex;
std::condition_variable g_interrupt_signalled;

} // namespace

void interrupt(int signal_number) {
  {
    std::lock_guard lock(g_interrupt_mutex);
    int none = 0;
    g_interrupted.compare_exchange_strong(none, signal_number);
  }
  g_interrupt_signalled.notify_all();
}

int interrupted_by() { return g_interrupted.load(); }

bool sleep_unless_interrupted(std::chrono::milliseconds duration) {
  std::unique_lock lock(g_interrupt_mutex);
  return !g_interrupt_signalled.wait_for(lock, duration, [] { return g_interrupted.load() != 0; });
}

Error interrupted_error(const std::string& what) {
  int number = interrupted_by();
  std::string name = number == SIGINT    ? "SIGINT"
                     : number == SIGTERM ? "SIGTERM"
                                         : "signal " + std::to_string(number);
  return make_error(ErrorKind::interrupted, what + ": interrupted by " + name);
}

bool equals_ignore_case(std::string_view a, std::string_view b) { return iequals(a, b); }

std::optional<std::string> Response::header(std::string_view name) const {
  for (const auto& header : headers) {
    if (equals_ignore_case(header.name, name)) {
      return header.value;
    }
  }
  return std::nullopt;
}

std::vector<std::string> Response::header_values(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& header : headers) {
    if (equals_ignore_case(header.name, name)) {
      values.push_back(header.value);
    }
  }
  return values;
}

} // namespace regauth::http
