// A scripted ProcessRunner for unit tests: answers each run with the next scripted outcome and
// records every request, so tests can check argv, stdin and that nothing ran at all.
#pragma once

#include "regauth/credentials/process_runner.hpp"

#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace regauth::testing {

class FakeProcessRunner final : public credentials::ProcessRunner {
public:
  // Queues the outcome of the next run.
  void script(Result<credentials::ProcessOutcome> outcome) {
    m_outcomes.push_back(std::move(outcome));
  }
  // Queues a run that exits with `status` after printing `output` on stdout.
  void script_exit(int status, std::string output) {
    credentials::ProcessOutcome outcome;
    outcome.exit_status = status;
    outcome.output = std::move(output);
    script(std::move(outcome));
  }

  // Returns the next scripted outcome; fails (internal) when the script has run out.
  Result<credentials::ProcessOutcome> run(const credentials::ProcessRequest& request) override {
    m_requests.push_back(request);
    if (m_outcomes.empty()) {
      return make_error(ErrorKind::internal,
                        "FakeProcessRunner: no scripted outcome for " + request.program.string());
    }
    auto outcome = std::move(m_outcomes.front());
    m_outcomes.pop_front();
    return outcome;
  }

  [[nodiscard]] const std::vector<credentials::ProcessRequest>& requests() const {
    return m_requests;
  }
  [[nodiscard]] std::size_t unused_outcomes() const { return m_outcomes.size(); }

private:
  std::deque<Result<credentials::ProcessOutcome>> m_outcomes;
  std::vector<credentials::ProcessRequest> m_requests;
};

} // namespace regauth::testing
