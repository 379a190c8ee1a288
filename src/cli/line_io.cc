#include "cli/line_io.h"

#include <poll.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cerrno>
#include <cstring>
#include <thread>

namespace pingan::cli {
namespace {
constexpr size_t kBlockLines = 16384;
constexpr size_t kBlockBytes = 16 << 20;
}  // namespace

LineReader::LineReader(int fd, Transcoder* transcoder) : fd_(fd), buffer_(1 << 20) {
  read_ = [fd](char* buffer, size_t size) -> absl::StatusOr<size_t> {
    while (true) {
      const ssize_t got = ::read(fd, buffer, size);
      if (got < 0 && errno == EINTR) continue;
      return got < 0 ? size_t{0} : static_cast<size_t>(got);  // an error ends the input
    }
  };
  if (transcoder != nullptr) read_ = transcoder->Wrap(std::move(read_));
}

bool LineReader::Next(std::string& line, bool& too_long) {
  line.clear();
  too_long = false;
  bool any = false;
  while (true) {
    if (at_ == end_ && !Fill()) break;
    any = true;
    const char* start = buffer_.data() + at_;
    const char* newline = static_cast<const char*>(std::memchr(start, '\n', end_ - at_));
    const size_t length = newline != nullptr ? static_cast<size_t>(newline - start) : end_ - at_;
    const size_t room = kMaxLineBytes - line.size();
    if (length > room) too_long = true;
    line.append(start, std::min(length, room));
    at_ += length;
    if (newline != nullptr) {
      ++at_;
      break;
    }
  }
  if (!any) return false;
  if (!too_long && !line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

bool LineReader::Ready() const {
  if (at_ < end_) return true;
  pollfd poll_fd{.fd = fd_, .events = POLLIN, .revents = 0};
  return ::poll(&poll_fd, 1, 0) > 0;
}

bool LineReader::Fill() {
  at_ = end_ = 0;
  const absl::StatusOr<size_t> got = read_(buffer_.data(), buffer_.size());
  if (!got.ok() || *got == 0) return false;
  end_ = *got;
  return true;
}

size_t AnswerInBlocks(LineReader& reader, int threads, std::ostream& out, const AnswerSlice& answer) {
  threads = std::max(1, threads);
  size_t answered = 0;
  std::vector<std::string> lines(kBlockLines), answers(kBlockLines);
  std::vector<uint8_t> too_long(kBlockLines);
  std::string block_out;
  bool more = true;
  while (more) {
    size_t count = 0, bytes = 0;
    while (count < kBlockLines && bytes < kBlockBytes && (count == 0 || reader.Ready())) {
      bool long_line = false;
      if (!reader.Next(lines[count], long_line)) {
        more = false;
        break;
      }
      too_long[count] = long_line;
      bytes += lines[count].size() + 1;
      ++count;
    }
    if (count == 0) break;
    auto run = [&](size_t worker, size_t begin, size_t end) {
      answer(worker, std::span<const std::string>(lines.data() + begin, end - begin),
             std::span<const uint8_t>(too_long.data() + begin, end - begin),
             std::span<std::string>(answers.data() + begin, end - begin));
    };
    const size_t used = std::min<size_t>(static_cast<size_t>(threads), (count + 255) / 256);  // no thread for a few lines
    if (used <= 1) {
      run(0, 0, count);
    } else {
      std::vector<std::thread> pool;
      const size_t share = (count + used - 1) / used;
      for (size_t worker = 1; worker < used; ++worker) {
        pool.emplace_back(run, worker, std::min(count, worker * share), std::min(count, (worker + 1) * share));
      }
      run(0, 0, std::min(count, share));
      for (std::thread& thread : pool) thread.join();
    }
    block_out.clear();
    for (size_t at = 0; at < count; ++at) {
      block_out += answers[at];
      block_out += '\n';
    }
    out.write(block_out.data(), static_cast<std::streamsize>(block_out.size()));
    out.flush();
    answered += count;
  }
  return answered;
}

void ReportTiming(std::ostream& err, std::string_view command, std::chrono::steady_clock::time_point started,
                  std::chrono::steady_clock::time_point ready, size_t lines) {
  using Seconds = std::chrono::duration<double>;
  const double startup_seconds = Seconds(ready - started).count();
  const double answer_seconds = Seconds(std::chrono::steady_clock::now() - ready).count();
  err << fmt::format("pingan {}: start-up {:.2f} s; {} lines answered in {:.3f} s ({} lines/s)\n", command,
                     startup_seconds, lines, answer_seconds,
                     static_cast<int64_t>(std::llround(static_cast<double>(lines) / std::max(answer_seconds, 1e-9))));
}

}  // namespace pingan::cli
