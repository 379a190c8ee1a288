// Text normalisation for the geocoder: one free-text Chinese address line -> the canonical text
// the matcher reads. See docs/geocoder.md for every rule and its reasons.
//
// The pipeline: validate (UTF-8, no control characters, length) -> fold each character (NFKC
// compatibility forms through utf8proc, full-width -> half-width, case folding, traditional ->
// simplified through a table from OpenCC) -> separators (removed; '-' kept between digits) ->
// noise words (附近, 对面, X路口 -> X路, ...) -> Chinese numerals before an address unit
// (三十二号 -> 32号, but not 三墩镇) -> personal data (mobile and landline numbers, 18-digit ID
// numbers, with the words that introduce them) masked away.
//
// Example:
//   absl::StatusOr<NormalizedAddress> n = NormalizeAddress("浙江省杭州市西湖区 文三路４７８号
//   附近");
//   // n->text == "浙江省杭州市西湖区文三路478号", n->removed_noise == {"附近"}
//   if (!n.ok() && InputProblemOf(n.status()) == InputProblem::kInvalidUtf8) ...
//
// The result is a fixed point: NormalizeAddress(n->text)->text == n->text.
// Error messages never contain the line's text (it may hold personal data).
//
// Thread-safety: all functions are thread-safe. The lookup tables are built once, on the first
// call (5-10 ms); WarmUpNormalizer() builds them ahead of time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pingan {

// Why a line cannot be normalised.
enum class InputProblem : uint8_t {
  kNone = 0,
  kEmpty,             // no bytes, or nothing but white space and invisible characters
  kInvalidUtf8,       // overlong forms, surrogates, truncated sequences, stray bytes, > U+10FFFF
  kControlCharacter,  // C0 (NUL included; TAB is white space), DEL, C1, U+2028, U+2029
  kTooLong,           // more than NormalizeOptions::max_bytes bytes
};
// "empty", "invalid UTF-8", "control character", "too long" ("none" for kNone).
std::string_view InputProblemName(InputProblem problem);

struct NormalizeOptions {
  static constexpr size_t kDefaultMaxBytes = 1024;
  size_t max_bytes = kDefaultMaxBytes;  // longer lines are kTooLong (checked before reading them)
  bool record_offsets = false;          // fill NormalizedAddress::offsets (costs a little)
};

struct NormalizedAddress {
  // Normalised UTF-8: simplified Chinese, half-width lower-case ASCII, no white space, no
  // control or separator characters; '-' only between two digits; '#' kept (3#楼).
  std::string text;
  // With NormalizeOptions::record_offsets: for each code point of `text`, the byte offset in the
  // input line of the character it came from. Non-decreasing. A converted numeral run maps its
  // first digit to the run's first character and its last digit to the run's last character
  // (三十二 -> "32": '3' -> 三, '2' -> 二). Empty otherwise.
  std::vector<uint32_t> offsets;
  bool had_phone = false;      // a mobile or landline number was removed
  bool had_id_number = false;  // an 18-digit resident ID number was removed
  // Noise removed, in the order found, as normalised text: "附近", "对面", "路口" (for X路口
  // -> X路), "近" (478号近华星 -> 478号华星), "地址" (a leading label). Never personal data.
  std::vector<std::string> removed_noise;

  void Clear();
};

// Where a line fails validation: the problem and the byte offset it was found at (0 for kEmpty
// and kTooLong). {kNone, 0} when the line is acceptable.
struct LineCheck {
  InputProblem problem = InputProblem::kNone;
  size_t byte = 0;
};
LineCheck CheckAddressLine(std::string_view line,
                           size_t max_bytes = NormalizeOptions::kDefaultMaxBytes);

// Validates and normalises one address line (already split on '\n', a trailing '\r' dropped by
// the caller: a line containing either is kControlCharacter, never split). InvalidArgument with
// the problem (InputProblemOf) and a message naming the problem and the byte offset, never the
// text. A valid line may normalise to an empty text (only punctuation, or only a phone number).
absl::StatusOr<NormalizedAddress> NormalizeAddress(std::string_view line,
                                                   const NormalizeOptions& options = {});

// The same into `out`, reusing its buffers (no allocation once they have grown): for loops over
// many lines. On error `out` is cleared.
absl::Status NormalizeAddressInto(std::string_view line, const NormalizeOptions& options,
                                  NormalizedAddress& out);

// The problem an error of NormalizeAddress reports; kNone for OK and for any other status.
InputProblem InputProblemOf(const absl::Status& status);

// The input bytes [begin, end) that produced the text bytes [text_begin, text_end) of
// `normalized`, for highlighting a match in what the user wrote. REQUIRES: `normalized` came from
// `line` with record_offsets; text_begin < text_end <= text.size(), both on code point
// boundaries. An empty range when these do not hold.
struct ByteRange {
  size_t begin = 0;
  size_t end = 0;
};
ByteRange InputRangeOf(const NormalizedAddress& normalized, std::string_view line,
                       size_t text_begin, size_t text_end);

// Builds the lookup tables now rather than on the first call.
void WarmUpNormalizer();

}  // namespace pingan
