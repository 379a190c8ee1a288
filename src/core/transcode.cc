#include "core/transcode.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "core/strings.h"

namespace pingan {

bool Transcoder::IsUtf8(std::string_view encoding) {
  const std::string upper = absl::AsciiStrToUpper(absl::string_view(encoding.data(), encoding.size()));
  return upper.empty() || upper == "UTF-8" || upper == "UTF8";
}

absl::StatusOr<std::unique_ptr<Transcoder>> Transcoder::Open(std::string_view encoding) {
  // iconv names are short words of letters, digits and - _ . :; anything else (a //IGNORE
  // suffix, a path) is refused before iconv sees it.
  bool plain = !encoding.empty() && encoding.size() <= 40;
  for (char c : encoding) {
    plain = plain && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':');
  }
  if (!plain) {
    return absl::InvalidArgumentError(
        Cat("'", encoding.substr(0, 40), "' is not an encoding name (such as GB18030, GBK, BIG5, UTF-8)"));
  }
  const std::string name(encoding);
  iconv_t cd = iconv_open("UTF-8", name.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    return absl::InvalidArgumentError(
        Cat("unknown encoding '", name, "' (iconv knows GB18030, GBK, GB2312, BIG5, UTF-16LE, ...)"));
  }
  return std::unique_ptr<Transcoder>(new Transcoder(cd, absl::AsciiStrToUpper(absl::string_view(name))));
}

Transcoder::~Transcoder() { iconv_close(cd_); }

size_t Transcoder::Convert(const char* in, size_t size, char* out, size_t& used, bool last) {
  char* from = const_cast<char*>(in);  // iconv's signature; it does not write the input
  size_t left = size;
  char* to = out;
  size_t room = 4 * size + 16;  // no encoding gives more than 4 UTF-8 bytes a byte
  while (left > 0) {
    if (iconv(cd_, &from, &left, &to, &room) != static_cast<size_t>(-1)) break;
    if (errno == EILSEQ || (errno == EINVAL && last)) {
      // Not a character of the encoding (or cut off at the very end): one byte becomes 0xFF,
      // never valid UTF-8, so that the record holding it is quarantined; then on from the next.
      *to++ = '\xFF';
      --room;
      ++from;
      --left;
      iconv(cd_, nullptr, nullptr, nullptr, nullptr);  // back to the initial shift state
    } else {
      break;  // EINVAL: the rest comes with the next read; E2BIG cannot happen with that room
    }
  }
  if (last && left == 0) {
    size_t flushed_room = room;
    iconv(cd_, nullptr, nullptr, &to, &flushed_room);  // a stateful encoding's closing sequence
  }
  used = size - left;
  return static_cast<size_t>(to - out);
}

Transcoder::Read Transcoder::Wrap(Read read) {
  struct State {
    std::vector<char> in;
    size_t have = 0;  // bytes in `in` not converted yet (a sequence cut by a read)
    bool ended = false, done = false;
  };
  auto state = std::make_shared<State>();
  return [this, read = std::move(read), state](char* buffer, size_t size) -> absl::StatusOr<size_t> {
    State& s = *state;
    if (size < 64) return absl::InternalError("transcoder: read buffer under 64 bytes");
    const size_t capacity = size / 4 - 4;  // at most 4 x capacity + 16 bytes out
    if (s.in.size() < capacity) s.in.resize(capacity);
    while (!s.done) {
      if (!s.ended && s.have < capacity) {
        absl::StatusOr<size_t> got = read(s.in.data() + s.have, capacity - s.have);
        if (!got.ok()) return got.status();
        if (*got == 0) s.ended = true;
        s.have += *got;
      }
      const size_t take = std::min(s.have, capacity);
      // A full buffer that is one unfinished sequence can never be finished: it is invalid.
      const bool last = (s.ended && take == s.have) || take == capacity;
      size_t used = 0;
      size_t written = Convert(s.in.data(), take, buffer, used, s.ended && take == s.have);
      if (used == 0 && last && take > 0) written = Convert(s.in.data(), take, buffer, used, true);
      std::memmove(s.in.data(), s.in.data() + used, s.have - used);
      s.have -= used;
      if (s.ended && s.have == 0) s.done = true;
      if (written > 0) return written;
    }
    return size_t{0};
  };
}

void Transcoder::ConvertAll(std::string_view in, std::string& out) {
  const size_t start = out.size();
  out.resize(start + 4 * in.size() + 16);
  size_t used = 0;
  const size_t written = Convert(in.data(), in.size(), out.data() + start, used, /*last=*/true);
  out.resize(start + written);
  iconv(cd_, nullptr, nullptr, nullptr, nullptr);
}

}  // namespace pingan
