// Reading secrets from a terminal or from stdin. Echo is switched off for passwords and
// restored on every exit path, SIGINT and SIGTERM included.
#pragma once

#include "regauth/result.hpp"

#include <iosfwd>
#include <string>

namespace regauth::cli {

// True when stdin is a terminal.
bool stdin_is_terminal();

// Prints `prompt` on `err` and reads one line from the terminal; echo off when `secret`.
// Fails (usage) at end of input, or (io) when the terminal cannot be configured.
Result<std::string> prompt_line(const std::string& prompt, bool secret, std::ostream& err);

// Reads all of stdin (at most 1 MiB) and removes exactly one trailing LF, CRLF or CR.
// Fails (usage) when the result is empty.
Result<std::string> read_secret_from_stdin();

// Removes exactly one trailing line ending (LF, CRLF or CR). Pure.
std::string strip_one_line_ending(std::string text);

} // namespace regauth::cli
