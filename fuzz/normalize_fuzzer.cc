// libFuzzer target for the address normaliser (src/address/normalize.h). Built with clang only
// (cmake -DPINGAN_FUZZ=ON); `make fuzz` builds it with ASan+UBSan and runs it for a bounded time
// on the seeds in fuzz/corpus/normalize/.
//
// Invariants checked on every input:
//   - an error is InvalidArgument with the same problem CheckAddressLine reports, and its
//     message never contains the line;
//   - the text is valid UTF-8, at most 4 times the input's bytes, without control characters
//     or white space, with '-' only between two ASCII digits;
//   - offsets: one per code point of the text, non-decreasing, each the start of a character
//     of the input;
//   - the result is a fixed point: normalising the text again gives the same text, removes no
//     noise and finds no personal number;
//   - NormalizeAddressInto with a reused output gives the same result as NormalizeAddress.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "address/normalize.h"
#include "core/text.h"
#include "fuzz_check.h"

namespace {


// The code points of valid UTF-8 `text`, with the byte offset of each.
template <typename F>
void ForEachCodePoint(std::string_view text, F&& f) {
  for (size_t i = 0; i < text.size();) {
    const auto lead = static_cast<uint8_t>(text[i]);
    size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    uint32_t cp = length == 1   ? lead
                  : length == 2 ? lead & 0x1F
                  : length == 3 ? lead & 0x0F
                                : lead & 0x07;
    for (size_t k = 1; k < length; ++k) cp = (cp << 6) | (static_cast<uint8_t>(text[i + k]) & 0x3F);
    f(cp, i);
    i += length;
  }
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pingan;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const NormalizeOptions options{.max_bytes = 4096, .record_offsets = true};
  absl::StatusOr<NormalizedAddress> result = NormalizeAddress(line, options);
  const LineCheck check = CheckAddressLine(line, options.max_bytes);

  if (!result.ok()) {
    FUZZ_CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(check.problem != InputProblem::kNone);
    FUZZ_CHECK(InputProblemOf(result.status()) == check.problem);
    if (size >= 16)
      FUZZ_CHECK(std::string(result.status().message()).find(line) == std::string::npos);
    return 0;
  }
  FUZZ_CHECK(check.problem == InputProblem::kNone);
  const NormalizedAddress& n = *result;
  const std::string& text = n.text;

  FUZZ_CHECK(IsValidUtf8(text));
  FUZZ_CHECK(text.size() <= 4 * size);
  size_t points = 0;
  ForEachCodePoint(text, [&](uint32_t cp, size_t) {
    ++points;
    FUZZ_CHECK(!(cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029));
    FUZZ_CHECK(cp != ' ' && cp != 0x3000);
  });
  for (size_t k = 0; k < text.size(); ++k) {
    if (text[k] == '-')
      FUZZ_CHECK(k > 0 && k + 1 < text.size() && IsDigit(text[k - 1]) && IsDigit(text[k + 1]));
  }

  // Offsets: one per code point, non-decreasing, each at the start of an input character.
  FUZZ_CHECK(n.offsets.size() == points);
  std::string starts(size, '\0');
  ForEachCodePoint(line, [&](uint32_t, size_t offset) { starts[offset] = 1; });
  for (size_t k = 0; k < n.offsets.size(); ++k) {
    FUZZ_CHECK(n.offsets[k] < size && starts[n.offsets[k]]);
    if (k > 0) FUZZ_CHECK(n.offsets[k - 1] <= n.offsets[k]);
  }

  // Reusing an output object gives the same result.
  static NormalizedAddress reused;
  FUZZ_CHECK(NormalizeAddressInto(line, options, reused).ok());
  FUZZ_CHECK(reused.text == text && reused.offsets == n.offsets &&
             reused.removed_noise == n.removed_noise && reused.had_phone == n.had_phone &&
             reused.had_id_number == n.had_id_number);

  // A fixed point.
  if (!text.empty()) {
    absl::StatusOr<NormalizedAddress> again = NormalizeAddress(text, {.max_bytes = 4 * 4096});
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->text == text);
    FUZZ_CHECK(again->removed_noise.empty());
    FUZZ_CHECK(!again->had_phone && !again->had_id_number);
  }
  return 0;
}
