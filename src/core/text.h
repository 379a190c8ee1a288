// UTF-8 helpers shared by the modules. All functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace pingan {

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Number of code points in valid UTF-8 `text`.
size_t Utf8Length(std::string_view text);

// True when `text` ends with `suffix` (bytewise).
inline bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// A string safe to put in a one-line error message: invalid bytes and control characters are
// escaped and the result is cut to at most `max_bytes` bytes (on a code point boundary).
std::string Printable(std::string_view text, size_t max_bytes = 80);

}  // namespace pingan
