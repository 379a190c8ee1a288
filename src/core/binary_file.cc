#include "core/binary_file.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "core/strings.h"

namespace pingan {

namespace fs = std::filesystem;

absl::Status WriteFileAtomically(const fs::path& path, std::initializer_list<std::string_view> parts,
                                 std::string_view what) {
  fs::path temp = path;
  temp += Cat(".tmp-", ::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::PermissionDeniedError(Cat("cannot write ", what, " ", temp.string()));
  bool ok = true;
  for (std::string_view part : parts) {
    while (ok && !part.empty()) {
      const ssize_t step = ::write(fd, part.data(), std::min<size_t>(part.size(), size_t{1} << 30));
      if (step <= 0) ok = false;
      else part.remove_prefix(static_cast<size_t>(step));
    }
  }
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  std::error_code ec;
  if (!ok) {
    fs::remove(temp, ec);
    return absl::InternalError(Cat("cannot write ", what, " ", temp.string()));
  }
  fs::rename(temp, path, ec);
  if (ec) {
    fs::remove(temp, ec);
    return absl::InternalError(Cat("cannot rename ", what, " into ", path.string(), ": ", ec.message()));
  }
  if (const int dir = ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(), O_RDONLY | O_CLOEXEC);
      dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return absl::OkStatus();
}

absl::StatusOr<MappedFile> MappedFile::Open(const fs::path& path, size_t min_size, size_t max_size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(Cat(path.string(), " is absent"));
  struct stat info {};
  const bool stat_ok = ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
  const auto size = stat_ok ? static_cast<uintmax_t>(info.st_size) : 0;
  if (!stat_ok || size < min_size || size > max_size) {
    ::close(fd);
    return absl::DataLossError(Cat(path.string(), ": bad size ", size));
  }
  void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  if (data == MAP_FAILED) {
    ::close(fd);
    return absl::DataLossError(Cat(path.string(), ": cannot map it"));
  }
  return MappedFile(fd, data, size);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    this->~MappedFile();
    fd_ = std::exchange(other.fd_, -1);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(data_, size_);
  if (fd_ >= 0) ::close(fd_);
}

std::string_view ProgramBuildId() {
  static const std::string id = [] {
    std::string found;
    // The first object dl_iterate_phdr reports is the program itself.
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* out) -> int {
          auto& result = *static_cast<std::string*>(out);
          for (int i = 0; i < info->dlpi_phnum && result.empty(); ++i) {
            const ElfW(Phdr)& header = info->dlpi_phdr[i];
            if (header.p_type != PT_NOTE) continue;
            const char* at = reinterpret_cast<const char*>(info->dlpi_addr + header.p_vaddr);
            const char* end = at + header.p_memsz;
            while (at + sizeof(ElfW(Nhdr)) <= end) {
              ElfW(Nhdr) note;
              std::memcpy(&note, at, sizeof note);
              const char* name = at + sizeof note;
              const char* desc = name + ((note.n_namesz + 3) & ~3u);
              const char* next = desc + ((note.n_descsz + 3) & ~3u);
              if (next > end) break;
              if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
                static constexpr char kHex[] = "0123456789abcdef";
                for (uint32_t b = 0; b < note.n_descsz; ++b) {
                  const auto byte = static_cast<unsigned char>(desc[b]);
                  result += kHex[byte >> 4];
                  result += kHex[byte & 15];
                }
                break;
              }
              at = next;
            }
          }
          return 1;  // the program only
        },
        &found);
    return found;
  }();
  return id;
}

}  // namespace pingan
