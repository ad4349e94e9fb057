#include "regauth/util/terminal_text.hpp"

#include <catch2/catch.hpp>

using regauth::escape_for_terminal;
using regauth::is_clean_text;

TEST_CASE("terminal text: plain text and valid UTF-8 pass unchanged", "[text]") {
  CHECK(escape_for_terminal("registry.example:5000") == "registry.example:5000");
  CHECK(escape_for_terminal("caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x90\xB3") ==
        "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x90\xB3");
  CHECK(escape_for_terminal("back\\slash") == "back\\slash");
  CHECK(escape_for_terminal("") == "");
}

TEST_CASE("terminal text: C0 controls and DEL are shown as byte escapes", "[text]") {
  CHECK(escape_for_terminal("a\x1b]0;title\x07z") == "a\\x1b]0;title\\x07z");
  CHECK(escape_for_terminal("\x1b[2J\x1b[H") == "\\x1b[2J\\x1b[H");
  CHECK(escape_for_terminal(std::string("nul\0byte", 8)) == "nul\\x00byte");
  CHECK(escape_for_terminal("del\x7f") == "del\\x7f");
  CHECK(escape_for_terminal("one\ntwo\r\n\tthree") == "one\\ntwo\\r\\n\\tthree");
}

TEST_CASE("terminal text: C1 controls and bidi controls are shown as code point escapes",
          "[text]") {
  CHECK(escape_for_terminal("csi\xC2\x9B"
                            "2J") == "csi\\u009b2J");
  CHECK(escape_for_terminal("nel\xC2\x85") == "nel\\u0085");
  CHECK(escape_for_terminal("user\xE2\x80\xAEgnp.exe") == "user\\u202egnp.exe");
  for (const char* bidi :
       {"\xE2\x80\xAA", "\xE2\x80\xAB", "\xE2\x80\xAC", "\xE2\x80\xAD", "\xE2\x81\xA6",
        "\xE2\x81\xA7", "\xE2\x81\xA8", "\xE2\x81\xA9", "\xE2\x80\x8E", "\xE2\x80\x8F", "\xD8\x9C",
        "\xE2\x80\x8B", "\xEF\xBB\xBF", "\xE2\x80\xA8"}) {
    std::string shown = escape_for_terminal(bidi);
    CHECK(shown.substr(0, 2) == "\\u");
    CHECK(shown.size() == 6);
  }
  // The characters next to the bidi controls are ordinary text.
  CHECK(escape_for_terminal("\xE2\x80\xA9\xE2\x80\xAF") == "\\u2029\xE2\x80\xAF");
  CHECK(escape_for_terminal("\xC2\xA0") == "\xC2\xA0");
}

TEST_CASE("terminal text: every byte of invalid UTF-8 is shown as a byte escape", "[text]") {
  CHECK(escape_for_terminal("a\xFF"
                            "b") == "a\\xffb");
  CHECK(escape_for_terminal("\xC0\xAF") == "\\xc0\\xaf");                   // overlong '/'
  CHECK(escape_for_terminal("\xE0\x80\xAF") == "\\xe0\\x80\\xaf");          // overlong
  CHECK(escape_for_terminal("\xED\xA0\x80") == "\\xed\\xa0\\x80");          // surrogate
  CHECK(escape_for_terminal("\xF4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80"); // > U+10FFFF
  CHECK(escape_for_terminal("cut\xE2\x80") == "cut\\xe2\\x80");             // truncated
}

TEST_CASE("terminal text: escaping twice is escaping once", "[text]") {
  for (std::string_view text : {"a\x1b[31mred", "\xE2\x80\xAE", "\xFF\xFE", "x\\x1by"}) {
    std::string once = escape_for_terminal(text);
    CHECK(escape_for_terminal(once) == once);
    CHECK(is_clean_text(once));
  }
}

TEST_CASE("terminal text: the cap cuts at a character boundary and says so", "[text]") {
  CHECK(escape_for_terminal(std::string(300, 'a'), 300) == std::string(300, 'a'));
  CHECK(escape_for_terminal(std::string(301, 'a'), 300) == std::string(300, 'a') + "...");
  CHECK(escape_for_terminal("abcdef", 3) == "abc...");
  CHECK(escape_for_terminal("ab\xC3\xA9z", 3) == "ab\xC3\xA9...");
}

TEST_CASE("terminal text: clean text is valid UTF-8 without controls", "[text]") {
  CHECK(is_clean_text("registry.example"));
  CHECK(is_clean_text("caf\xC3\xA9"));
  CHECK_FALSE(is_clean_text("a\x1b"));
  CHECK_FALSE(is_clean_text("a\n"));
  CHECK_FALSE(is_clean_text("a\xC2\x85"));
  CHECK_FALSE(is_clean_text("a\xFF"));
  CHECK_FALSE(is_clean_text("sha256:\xE9"));
}
