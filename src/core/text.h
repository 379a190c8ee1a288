// UTF-8 helpers shared by the modules. All functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

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

// A phone or ID number inside free text (an address, a raw record), for masking: its digits
// byte ranges in order. Found are a run of 7 or more digits (an ID's 18th character 'X' or 'x'
// too), and digit groups joined by single spaces or hyphens that make a mobile number (11
// digits from 1: 189 1234 5678, 138-1234-5678), a landline with its area code (10-12 digits
// from 0: 0571-8888 6666) or an ID number (15 or 18). Digits are ASCII or full width
// (１３８１２３４５６７８); so are the separators (U+3000, U+FF0D). House, building and room
// numbers (478号, 12-3-1203) are not numbers of this kind.
struct DigitRange {
  size_t begin = 0, end = 0;  // bytes of one digit (1 or 3)
};
struct PersonalNumber {
  std::vector<DigitRange> digits;
};
std::vector<PersonalNumber> FindPersonalNumbers(std::string_view text);

}  // namespace pingan
