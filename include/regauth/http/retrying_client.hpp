// The one definition of what is worth another attempt (a network error, 408, 429, 5xx), how
// long to wait before it (exponential backoff, or the server's Retry-After within a bound),
// and an HttpClient decorator that applies both. A request whose body is a stream is sent
// again only when it says how to rewind (Request::prepare_resend).
#pragma once

#include "regauth/http/clock.hpp"
#include "regauth/http/http_client.hpp"

#include <chrono>

namespace regauth::http {

struct RetryPolicy {
  int max_attempts = 4; // in all, the first included
  std::chrono::milliseconds first_backoff{250};
  std::chrono::milliseconds max_backoff{16000};
  std::chrono::seconds max_retry_after{30}; // a longer Retry-After is cut to this
};

// 408, 429 and 5xx: statuses a later attempt may not meet (ggcr transport/error.go Temporary).
bool is_retryable_status(long status);
// A network error (connection, TLS set-up, timeout) or a retryable status.
bool is_retryable(const Result<Response>& outcome);
// How long to wait after failed attempt number `attempt` (0 for the first): the response's
// Retry-After in seconds (clamped to max_retry_after; an HTTP date or garbage is ignored), else
// first_backoff doubled per attempt up to max_backoff.
std::chrono::milliseconds retry_delay(const RetryPolicy& policy, const Response* response,
                                      int attempt);

// Sends through `inner`, and again after retry_delay while the outcome is_retryable, at most
// policy.max_attempts times in all; then returns the last outcome. Errors other than network
// ones (protocol, interrupted, a body source's own failure) are returned at once. A streamed
// body is sent again only after its prepare_resend succeeded (its failure is returned); without
// one the request is sent once.
class RetryingClient final : public HttpClient {
public:
  explicit RetryingClient(HttpClient& inner, RetryPolicy policy = {}, Clock& clock = real_clock());
  Result<Response> send(const Request& request) override;

private:
  HttpClient& m_inner;
  RetryPolicy m_policy;
  Clock& m_clock;
};

} // namespace regauth::http
