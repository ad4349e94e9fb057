// A Clock for unit tests: time stands still unless a sleep moves it, and every sleep is
// recorded, so that a test asserts the waits (Retry-After, backoff) without waiting.
#pragma once

#include "regauth/http/clock.hpp"

#include <chrono>
#include <vector>

namespace regauth::testing {

class FakeClock final : public http::Clock {
public:
  [[nodiscard]] std::chrono::steady_clock::time_point now() const override { return m_now; }
  bool sleep(std::chrono::milliseconds duration) override {
    m_sleeps.push_back(duration);
    m_now += duration;
    return true;
  }
  [[nodiscard]] const std::vector<std::chrono::milliseconds>& sleeps() const { return m_sleeps; }

private:
  std::chrono::steady_clock::time_point m_now{};
  std::vector<std::chrono::milliseconds> m_sleeps;
};

} // namespace regauth::testing
