#include "regauth/cli/terminal.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ostream>
#include <termios.h>
#include <unistd.h>

namespace regauth::cli {
namespace {

constexpr std::size_t k_max_secret = 1024 * 1024;

termios g_saved_termios{};
std::atomic<bool> g_echo_off{false};

void restore_echo() {
  if (g_echo_off.exchange(false)) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_termios);
  }
}

extern "C" void restore_and_reraise(int signal_number) {
  restore_echo();
  (void)::write(STDERR_FILENO, "\n", 1);
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

// Switches echo off for its lifetime, with signal handlers that switch it back on.
class EchoOff {
public:
  EchoOff() {
    if (::tcgetattr(STDIN_FILENO, &g_saved_termios) != 0) {
      return;
    }
    struct sigaction action {};
    action.sa_handler = restore_and_reraise;
    sigemptyset(&action.sa_mask);
    for (int signal_number : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP}) {
      ::sigaction(signal_number, &action, nullptr);
    }
    termios quiet = g_saved_termios;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    g_echo_off = true;
    if (::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) {
      g_echo_off = false;
    }
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;
  ~EchoOff() {
    restore_echo();
    for (int signal_number : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP}) {
      ::signal(signal_number, SIG_DFL);
    }
  }
};

Result<std::string> read_line_from_stdin() {
  std::string line;
  char c = 0;
  while (true) {
    ssize_t got = ::read(STDIN_FILENO, &c, 1);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      if (line.empty()) {
        return make_error(ErrorKind::usage, "no input: end of file at the prompt");
      }
      return line;
    }
    if (c == '\n') {
      return strip_one_line_ending(line);
    }
    line += c;
    if (line.size() > k_max_secret) {
      return make_error(ErrorKind::usage, "input line longer than 1 MiB");
    }
  }
}

} // namespace

bool stdin_is_terminal() { return ::isatty(STDIN_FILENO) == 1; }

std::string strip_one_line_ending(std::string text) {
  if (text.size() >= 2 && text.compare(text.size() - 2, 2, "\r\n") == 0) {
    text.resize(text.size() - 2);
  } else if (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  return text;
}

Result<std::string> prompt_line(const std::string& prompt, bool secret, std::ostream& err) {
  if (!secret) {
    err << prompt << std::flush;
    return read_line_from_stdin();
  }
  EchoOff echo_off; // before the prompt, so nothing typed after it is ever echoed
  err << prompt << std::flush;
  return read_line_from_stdin();
}

Result<std::string> read_secret_from_stdin() {
  std::string data;
  char buffer[4096];
  while (true) {
    ssize_t got = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      return make_error(ErrorKind::io, std::string("reading stdin: ") + std::strerror(errno));
    }
    if (got == 0) {
      break;
    }
    data.append(buffer, static_cast<std::size_t>(got));
    if (data.size() > k_max_secret) {
      return make_error(ErrorKind::usage, "the password on stdin is larger than 1 MiB");
    }
  }
  data = strip_one_line_ending(std::move(data));
  if (data.empty()) {
    return make_error(ErrorKind::usage, "the password on stdin is empty");
  }
  return data;
}

} // namespace regauth::cli
