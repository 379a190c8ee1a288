// libFuzzer target for reading files in another encoding (src/core/transcode.h): the first byte
// picks the encoding and the size of the raw reads, the rest is the file. Built with clang only
// (cmake -DPINGAN_FUZZ=ON); `make fuzz` runs it.
//
// Invariants checked on every input:
//   - read through Wrap, whatever the reads' size, the text converts to the same bytes as in
//     one piece (ConvertAll): a sequence cut by a read is completed by the next;
//   - no read answers more than its buffer, and the whole is at most 4 bytes a byte;
//   - the output has no byte 0xFF except where the input held a byte iconv refused, and what
//     it holds besides is valid UTF-8 (checked by splitting at 0xFF).
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "core/transcode.h"
#include "fuzz_check.h"

namespace {

constexpr const char* kEncodings[] = {"GB18030", "GBK", "BIG5", "UTF-16", "UTF-16LE", "SHIFT_JIS", "EUC-KR", "ISO-2022-JP"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const char* encoding = kEncodings[data[0] % std::size(kEncodings)];
  const size_t step = 1 + data[0] / std::size(kEncodings);  // 1 to 32 bytes a raw read
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  auto whole_converter = pingan::Transcoder::Open(encoding);
  auto piece_converter = pingan::Transcoder::Open(encoding);
  FUZZ_CHECK(whole_converter.ok() && piece_converter.ok());
  std::string whole;
  (*whole_converter)->ConvertAll(text, whole);
  FUZZ_CHECK(whole.size() <= 4 * text.size() + 16);

  size_t offset = 0;
  pingan::Transcoder::Read read = (*piece_converter)->Wrap([&](char* buffer, size_t room) -> absl::StatusOr<size_t> {
    const size_t take = std::min({room, step, text.size() - offset});
    std::copy_n(text.data() + offset, take, buffer);
    offset += take;
    return take;
  });
  std::string pieces;
  std::string buffer(64 + data[0] % 64, '\0');
  for (int guard = 0; guard < (1 << 20); ++guard) {
    absl::StatusOr<size_t> got = read(buffer.data(), buffer.size());
    FUZZ_CHECK(got.ok());
    FUZZ_CHECK(*got <= buffer.size());
    if (*got == 0) break;
    pieces.append(buffer.data(), *got);
  }
  FUZZ_CHECK(offset == text.size());
  FUZZ_CHECK(pieces == whole);

  size_t start = 0;
  while (start <= whole.size()) {
    size_t end = whole.find('\xFF', start);
    if (end == std::string::npos) end = whole.size();
    FUZZ_CHECK(simdjson::validate_utf8(whole.data() + start, end - start));
    start = end + 1;
  }
  return 0;
}
