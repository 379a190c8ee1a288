// Reading files written in another encoding than UTF-8: GB18030 (and its subsets GBK and
// GB2312, which Excel on Chinese Windows uses for CSV), Big5, ... through glibc's iconv.
//
//   PA_ASSIGN_OR_RETURN(std::unique_ptr<Transcoder> gbk, Transcoder::Open("GB18030"));
//   Transcoder::Reader reader = gbk->Wrap(read);   // read(char*, size_t) -> StatusOr<size_t>
//   PA_ASSIGN_OR_RETURN(size_t got, reader(buffer, size));  // UTF-8 bytes
//
// A byte sequence that is not valid in the encoding becomes the byte 0xFF, which is never valid
// UTF-8: the record holding it goes to quarantine as bad_utf8, and the rest of the file is read.
// A sequence cut by the end of a read is completed by the next one.
#pragma once

#include <iconv.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace pingan {

class Transcoder {
 public:
  using Read = std::function<absl::StatusOr<size_t>(char* buffer, size_t size)>;

  // A converter from `encoding` (an iconv name, any case: GB18030, GBK, GB2312, BIG5,
  // UTF-16LE, ...) to UTF-8; InvalidArgument when iconv does not know the name.
  static absl::StatusOr<std::unique_ptr<Transcoder>> Open(std::string_view encoding);
  // True when `encoding` names UTF-8 (or is empty): nothing to convert.
  static bool IsUtf8(std::string_view encoding);

  ~Transcoder();
  Transcoder(const Transcoder&) = delete;
  Transcoder& operator=(const Transcoder&) = delete;

  // Reads through `read` and answers UTF-8; at most `size` bytes a call, 0 at the end. `size`
  // must be at least 64. The transcoder must outlive the reader.
  Read Wrap(Read read);

  // Converts `in` (the whole of a text) into UTF-8, appended to `out`.
  void ConvertAll(std::string_view in, std::string& out);

  const std::string& name() const { return name_; }

 private:
  Transcoder(iconv_t cd, std::string name) : cd_(cd), name_(std::move(name)) {}
  // Converts as much of in[0, size) as forms whole characters into out (room for at least 4 x
  // size bytes); returns the bytes written and sets `used` to the input consumed. With `last`,
  // an incomplete sequence at the end is invalid and consumed.
  size_t Convert(const char* in, size_t size, char* out, size_t& used, bool last);

  iconv_t cd_;
  std::string name_;
};

}  // namespace pingan
