// The only file that starts processes.
#include "regauth/credentials/process_runner.hpp"
#include "regauth/util/unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ; // NOLINT

namespace regauth::credentials {
namespace {

class Pipe {
public:
  Pipe() {
    int fds[2]{-1, -1};
    if (::pipe2(fds, O_CLOEXEC) == 0) {
      m_read.reset(fds[0]);
      m_write.reset(fds[1]);
    }
  }
  [[nodiscard]] bool ok() const { return m_read.valid(); }
  [[nodiscard]] int read_end() const { return m_read.get(); }
  [[nodiscard]] int write_end() const { return m_write.get(); }
  void close_read() { m_read.reset(); }
  void close_write() { m_write.reset(); }

private:
  UniqueFd m_read;
  UniqueFd m_write;
};

class SystemProcessRunner final : public ProcessRunner {
public:
  Result<ProcessOutcome> run(const ProcessRequest& request) override {
    Pipe input;
    Pipe output;
    if (!input.ok() || !output.ok()) {
      return make_error(ErrorKind::helper, std::string("creating pipes: ") + std::strerror(errno));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, input.read_end(), STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, output.write_end(), STDOUT_FILENO);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigset_t empty;
    sigemptyset(&empty);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setsigmask(&attributes, &empty);
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(
        &attributes,
        static_cast<short>(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK));
    std::vector<std::string> argv_strings;
    argv_strings.push_back(request.program.filename().string());
    argv_strings.insert(argv_strings.end(), request.args.begin(), request.args.end());
    std::vector<char*> argv;
    for (auto& arg : argv_strings) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    pid_t pid = 0;
    int spawned =
        ::posix_spawn(&pid, request.program.c_str(), &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (spawned != 0) {
      return make_error(ErrorKind::helper,
                        "starting " + request.program.string() + ": " + std::strerror(spawned));
    }
    input.close_read();
    output.close_write();
    return communicate(pid, input, output, request);
  }

private:
  static Result<ProcessOutcome> communicate(pid_t pid, Pipe& input, Pipe& output,
                                            const ProcessRequest& request) {
    using clock = std::chrono::steady_clock;
    ProcessOutcome outcome;
    auto deadline = clock::now() + request.timeout;
    ::fcntl(input.write_end(), F_SETFL, O_NONBLOCK);
    ::fcntl(output.read_end(), F_SETFL, O_NONBLOCK);
    std::size_t written = 0;
    if (request.input.empty()) {
      input.close_write();
    }
    bool exited = false;
    int status = 0;
    std::optional<clock::time_point> drain_deadline;
    while (true) {
      if (!exited) {
        pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) {
          exited = true;
          // A helper's own children (gpg-agent) may keep stdout open: read what is there,
          // briefly, then stop rather than wait for them.
          drain_deadline = clock::now() + std::chrono::milliseconds(200);
        }
      }
      auto now = clock::now();
      if (!exited && now >= deadline) {
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        outcome.timed_out = true;
        return outcome;
      }
      if (exited && (output.read_end() < 0 || now >= *drain_deadline)) {
        break;
      }
      pollfd fds[2]{};
      nfds_t count = 0;
      if (output.read_end() >= 0) {
        fds[count++] = pollfd{output.read_end(), POLLIN, 0};
      }
      if (input.write_end() >= 0) {
        fds[count++] = pollfd{input.write_end(), POLLOUT, 0};
      }
      auto limit = exited ? *drain_deadline : deadline;
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(limit - now).count();
      int timeout_ms = static_cast<int>(std::clamp<long long>(wait, 0, exited ? 50 : 20));
      if (count == 0) {
        ::usleep(static_cast<useconds_t>(timeout_ms) * 1000);
        continue;
      }
      if (::poll(fds, count, timeout_ms) < 0 && errno != EINTR) {
        break;
      }
      for (nfds_t i = 0; i < count; ++i) {
        if (fds[i].revents == 0) {
          continue;
        }
        if (fds[i].fd == output.read_end()) {
          char buffer[16384];
          ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
          if (got > 0) {
            outcome.output.append(buffer, static_cast<std::size_t>(got));
            if (outcome.output.size() > request.max_output) {
              outcome.output.resize(request.max_output);
              outcome.output_truncated = true;
              ::kill(-pid, SIGKILL);
              if (!exited) {
                ::waitpid(pid, &status, 0);
              }
              return outcome;
            }
          } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
            output.close_read();
          }
        } else if (fds[i].fd == input.write_end()) {
          std::string_view rest = std::string_view(request.input).substr(written);
          ssize_t sent = ::write(fds[i].fd, rest.data(), rest.size());
          if (sent > 0) {
            written += static_cast<std::size_t>(sent);
          }
          // A helper that exits without reading its input is not our failure: stop writing.
          if (written >= request.input.size() || (sent < 0 && errno != EAGAIN && errno != EINTR)) {
            input.close_write();
          }
        }
      }
    }
    if (WIFSIGNALED(status)) {
      outcome.signaled = true;
      outcome.signal = WTERMSIG(status);
    } else {
      outcome.exit_status = WEXITSTATUS(status);
    }
    return outcome;
  }
};

} // namespace

std::unique_ptr<ProcessRunner> make_system_process_runner() {
  return std::make_unique<SystemProcessRunner>();
}

} // namespace regauth::credentials
