#include "regauth/http/retrying_client.hpp"

#include "regauth/util/strings.hpp"

#include <algorithm>
#include <thread>

namespace regauth::http {
namespace {

class RealClock final : public Clock {
public:
  [[nodiscard]] std::chrono::steady_clock::time_point now() const override {
    return std::chrono::steady_clock::now();
  }
  bool sleep(std::chrono::milliseconds duration) override {
    return sleep_unless_interrupted(duration);
  }
};

} // namespace

Clock& real_clock() {
  static RealClock clock;
  return clock;
}

bool is_retryable_status(long status) { return status == 408 || status == 429 || status >= 500; }

bool is_retryable(const Result<Response>& outcome) {
  return outcome ? is_retryable_status(outcome->status)
                 : outcome.error().kind == ErrorKind::network;
}

std::chrono::milliseconds retry_delay(const RetryPolicy& policy, const Response* response,
                                      int attempt) {
  if (response != nullptr) {
    if (auto after = response->header("Retry-After"); after) {
      // Whole seconds only; an HTTP date or garbage falls back to the backoff.
      if (auto seconds = parse_uint64(*after); seconds) {
        auto capped = std::min<std::uint64_t>(
            *seconds, static_cast<std::uint64_t>(policy.max_retry_after.count()));
        return std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::seconds(static_cast<std::chrono::seconds::rep>(capped)));
      }
    }
  }
  auto backoff = policy.first_backoff * (1LL << std::clamp(attempt, 0, 20));
  return std::min<std::chrono::milliseconds>(backoff, policy.max_backoff);
}

RetryingClient::RetryingClient(HttpClient& inner, RetryPolicy policy, Clock& clock)
    : m_inner(inner), m_policy(policy), m_clock(clock) {}

Result<Response> RetryingClient::send(const Request& original) {
  bool streamed = static_cast<bool>(original.body_source);
  int attempts = streamed && !original.prepare_resend ? 1 : std::max(1, m_policy.max_attempts);
  Request request = original;
  for (int attempt = 0;; ++attempt) {
    auto outcome = m_inner.send(request);
    if (attempt + 1 >= attempts || !is_retryable(outcome)) {
      return outcome;
    }
    // An interruption during the wait ends the next attempt at once (interrupted).
    (void)m_clock.sleep(retry_delay(m_policy, outcome ? &*outcome : nullptr, attempt));
    if (streamed) {
      if (auto rewound = request.prepare_resend(request); !rewound) {
        return rewound.error();
      }
    }
  }
}

} // namespace regauth::http
