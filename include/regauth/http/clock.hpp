// Time as the retrying code sees it: now() and a sleep that an interruption cuts short. The real
// one is steady_clock and sleep_unless_interrupted; unit tests pass a fake that records sleeps.
#pragma once

#include <chrono>

namespace regauth::http {

class Clock {
public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual std::chrono::steady_clock::time_point now() const = 0;
  // Waits `duration`, or less when interrupt() comes. Returns false when interrupted.
  virtual bool sleep(std::chrono::milliseconds duration) = 0;
};

// std::chrono::steady_clock and sleep_unless_interrupted; one for the process, thread-safe.
Clock& real_clock();

} // namespace regauth::http
