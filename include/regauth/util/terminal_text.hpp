// The one sanitiser for text from outside (config.json, helpers, registries, files) on its way
// to a terminal: control characters, C1 controls, bidi and other invisible format characters,
// and invalid UTF-8 are shown escaped, so that nothing a registry or a file says can move the
// cursor, retitle the window, clear the screen or reorder what the user reads. Pure.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>

namespace regauth {

// `text` with every byte that could drive or deceive a terminal shown escaped:
// - C0 controls and DEL as `\xNN` (`\n`, `\r`, `\t` as such), e.g. ESC as `\x1b`;
// - C1 controls (U+0080..U+009F) and bidi/invisible format characters (U+061C, U+200B..U+200F,
//   U+2028..U+202E, U+2060..U+206F, U+FEFF) as `\uNNNN`, e.g. `\u202e`;
// - every byte of an invalid UTF-8 sequence (overlong, surrogate, truncated, > U+10FFFF) as
//   `\xNN`.
// A backslash is left as it is, so escaping twice is escaping once (messages that already
// passed through it can pass again). Text longer than `max` bytes is cut at a character
// boundary and ends in "...".
std::string escape_for_terminal(std::string_view text,
                                std::size_t max = std::numeric_limits<std::size_t>::max());

// The length of the valid UTF-8 sequence at `at` (1 for ASCII), or 0 when the bytes there are
// not valid UTF-8 (overlong forms, surrogates and code points above U+10FFFF included).
std::size_t utf8_sequence_length(std::string_view text, std::size_t at);

// True when `text` is valid UTF-8 and holds no C0 control, DEL or C1 control.
bool is_clean_text(std::string_view text);

} // namespace regauth
