// The one error channel of regauth: Result<T> holds a value or an Error.
// Shaped like std::expected (value(), error(), has_value(), operator bool) so it can become
// std::expected when the project moves to C++23.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace regauth {

// What went wrong, coarse enough to choose an exit code (docs/exit-codes.md).
enum class ErrorKind {
  usage,        // the user asked for something malformed
  config,       // config.json unreadable, malformed or unwritable
  not_found,    // a registry, repository, image or entry that does not exist
  unauthorized, // no credentials, or credentials the registry rejects
  denied,       // authenticated, but not allowed
  network,      // connection, TLS, timeout, 5xx: may be retried
  protocol,     // the peer answered something regauth cannot make sense of
  helper,       // a credential helper failed
  io,           // local file system
  interrupted,  // SIGINT or SIGTERM ended the command (exit 130 or 143)
  internal,     // a bug in regauth
};

struct Error {
  ErrorKind kind = ErrorKind::internal;
  std::string message;
  std::string hint; // the next step for the user, printed as a "hint:" line; may be empty

  // Returns a copy whose message is "<context>: <message>".
  [[nodiscard]] Error with_context(const std::string& context) const {
    return Error{kind, context + ": " + message, hint};
  }
  // Returns a copy with `next_step` as its hint.
  [[nodiscard]] Error with_hint(std::string next_step) const {
    return Error{kind, message, std::move(next_step)};
  }
};

// Returns the stable lower-case name of a kind ("unauthorized").
const char* to_string(ErrorKind kind);

template <typename T> class [[nodiscard]] Result {
public:
  Result(T value) : m_state(std::in_place_index<0>, std::move(value)) {}     // NOLINT
  Result(Error error) : m_state(std::in_place_index<1>, std::move(error)) {} // NOLINT

  [[nodiscard]] bool has_value() const { return m_state.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(m_state); }
  const T& value() const& { return std::get<0>(m_state); }
  T&& value() && { return std::get<0>(std::move(m_state)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  [[nodiscard]] const Error& error() const { return std::get<1>(m_state); }

private:
  std::variant<T, Error> m_state;
};

template <> class [[nodiscard]] Result<void> {
public:
  Result() = default;
  Result(Error error) : m_error(std::move(error)), m_failed(true) {} // NOLINT

  [[nodiscard]] bool has_value() const { return !m_failed; }
  explicit operator bool() const { return has_value(); }
  [[nodiscard]] const Error& error() const { return m_error; }

private:
  Error m_error;
  bool m_failed = false;
};

inline Error make_error(ErrorKind kind, std::string message) {
  return Error{kind, std::move(message), {}};
}

} // namespace regauth
