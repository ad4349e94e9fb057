#include "regauth/util/terminal_text.hpp"

namespace regauth {
namespace {

constexpr char k_hex[] = "0123456789abcdef";

void append_byte_escape(std::string& out, unsigned char byte) {
  out += "\\x";
  out += k_hex[byte >> 4];
  out += k_hex[byte & 0xf];
}

void append_code_point_escape(std::string& out, char32_t code_point) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) {
    out += k_hex[(code_point >> shift) & 0xf];
  }
}

char32_t decode(std::string_view sequence) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(sequence[i]); };
  switch (sequence.size()) {
  case 1:
    return byte(0);
  case 2:
    return (char32_t{byte(0)} & 0x1f) << 6 | (byte(1) & 0x3f);
  case 3:
    return (char32_t{byte(0)} & 0x0f) << 12 | (char32_t{byte(1)} & 0x3f) << 6 | (byte(2) & 0x3f);
  default:
    return (char32_t{byte(0)} & 0x07) << 18 | (char32_t{byte(1)} & 0x3f) << 12 |
           (char32_t{byte(2)} & 0x3f) << 6 | (byte(3) & 0x3f);
  }
}

// C1 controls, and the format characters that reorder or hide text (Unicode's Bidi_Control
// set, zero-width characters, line and paragraph separators, invisible operators, BOM).
bool is_hidden_code_point(char32_t c) {
  return (c >= 0x80 && c <= 0x9f) || c == 0x061c || (c >= 0x200b && c <= 0x200f) ||
         (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x206f) || c == 0xfeff;
}

} // namespace

std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(at);
  if (lead < 0x80) {
    return 1;
  }
  std::size_t length = lead >= 0xF0 && lead <= 0xF4  ? 4
                       : lead >= 0xE0 && lead < 0xF0 ? 3
                       : lead >= 0xC2 && lead < 0xE0 ? 2
                                                     : 0;
  if (length == 0 || at + length > text.size()) {
    return 0;
  }
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xC0) != 0x80) {
      return 0;
    }
  }
  unsigned char second = byte(at + 1);
  if ((lead == 0xE0 && second < 0xA0) ||  // overlong
      (lead == 0xED && second >= 0xA0) || // UTF-16 surrogates
      (lead == 0xF0 && second < 0x90) ||  // overlong
      (lead == 0xF4 && second >= 0x90)) { // above U+10FFFF
    return 0;
  }
  return length;
}

std::string escape_for_terminal(std::string_view text, std::size_t max) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    auto byte = static_cast<unsigned char>(text[i]);
    std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) {
      append_byte_escape(out, byte);
      ++i;
      continue;
    }
    if (length == 1) {
      if (byte == '\n') {
        out += "\\n";
      } else if (byte == '\r') {
        out += "\\r";
      } else if (byte == '\t') {
        out += "\\t";
      } else if (byte < 0x20 || byte == 0x7f) {
        append_byte_escape(out, byte);
      } else {
        out += static_cast<char>(byte);
      }
      ++i;
      continue;
    }
    std::string_view sequence = text.substr(i, length);
    if (char32_t code_point = decode(sequence); is_hidden_code_point(code_point)) {
      append_code_point_escape(out, code_point);
    } else {
      out.append(sequence);
    }
    i += length;
  }
  return out;
}

bool is_clean_text(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    auto byte = static_cast<unsigned char>(text[i]);
    std::size_t length = utf8_sequence_length(text, i);
    if (length == 0 || byte < 0x20 || byte == 0x7f ||
        (length == 2 && byte == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0)) {
      return false;
    }
    i += length;
  }
  return true;
}

} // namespace regauth
