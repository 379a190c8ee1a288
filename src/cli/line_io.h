// Line-oriented stdin -> stdout commands (`pingan geocode`, `pingan geocode --points`): a bounded
// line reader, and a driver that answers blocks of lines on several threads in input order.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/transcode.h"

namespace pingan::cli {

constexpr size_t kMaxLineBytes = 1 << 20;  // longer lines are answered `invalid` and skipped

// Reads lines ending at '\n' (a trailing '\r' dropped) from a file descriptor through a 1 MiB
// buffer, never holding more than kMaxLineBytes of one line: the rest of a longer line is
// skipped and the line is marked too long.
class LineReader {
 public:
  // With `transcoder` (which must outlive the reader), the input is in its encoding (GB18030,
  // ...) and the lines come out in UTF-8.
  explicit LineReader(int fd, Transcoder* transcoder = nullptr);

  // False at the end of input (or on a read error).
  bool Next(std::string& line, bool& too_long);

  // True when the next Next() would not wait for input: bytes are buffered, or the descriptor
  // is readable (or at its end). A block of lines ends where the input pauses, so that a client
  // writing one line at a time gets its answer at once.
  bool Ready() const;

 private:
  bool Fill();

  int fd_;
  Transcoder::Read read_;
  std::vector<char> buffer_;
  size_t at_ = 0, end_ = 0;
};

// Answers one slice of a block: answers[i] for lines[i] (without the newline), on worker
// `worker` (0 .. threads-1; a worker's slices never run at the same time).
using AnswerSlice = std::function<void(size_t worker, std::span<const std::string> lines,
                                       std::span<const uint8_t> too_long, std::span<std::string> answers)>;

// Reads `reader` to its end in blocks (at most 16,384 lines or 16 MiB, shorter where the input
// pauses), answers each block on up to `threads` threads, and writes the answers in input order,
// one line each, flushing after every block. Returns the number of lines answered.
size_t AnswerInBlocks(LineReader& reader, int threads, std::ostream& out, const AnswerSlice& answer);

// `--timing`: one line on `err` saying how long `command` took to start (from `started` to
// `ready`: loading the registry, building its index) and to answer its `lines` (from `ready` to
// now: reading, answering, writing), and the rate:
//   pingan geocode: start-up 1.52 s; 20000 lines answered in 0.141 s (141844 lines/s)
// The start-up is a fixed cost, paid once per process; the rate is what a long input gets.
void ReportTiming(std::ostream& err, std::string_view command, std::chrono::steady_clock::time_point started,
                  std::chrono::steady_clock::time_point ready, size_t lines);

}  // namespace pingan::cli
