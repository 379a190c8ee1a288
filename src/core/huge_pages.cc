#include "core/huge_pages.h"

#include <gnu/libc-version.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace pingan {
namespace {

constexpr std::string_view kTunable = "glibc.malloc.hugetlb";
constexpr char kReexecMarker[] = "PINGAN_HEAP_REEXEC";

bool SanitizedBuild() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

// glibc 2.35 introduced glibc.malloc.hugetlb.
bool GlibcHasTunable() {
  int major = 0, minor = 0;
  if (std::sscanf(gnu_get_libc_version(), "%d.%d", &major, &minor) != 2) return false;
  return major > 2 || (major == 2 && minor >= 35);
}

}  // namespace

std::string TunablesWithHugePages(std::string_view existing) {
  // Tunables are name=value pairs separated by ':'.
  size_t start = 0;
  while (start <= existing.size()) {
    size_t end = existing.find(':', start);
    if (end == std::string_view::npos) end = existing.size();
    const std::string_view pair = existing.substr(start, end - start);
    if (pair.substr(0, pair.find('=')) == kTunable) return std::string(existing);
    start = end + 1;
  }
  std::string out(existing);
  if (!out.empty()) out += ':';
  out += kTunable;
  out += "=1";
  return out;
}

bool HugePagesNeedAdvice(std::string_view thp_enabled) {
  return thp_enabled.find("[madvise]") != std::string_view::npos;
}

void UseHugePagesForHeap(char** argv) {
  if (SanitizedBuild() || argv == nullptr || argv[0] == nullptr) return;
  if (std::getenv(kReexecMarker) != nullptr) return;
  if (const char* off = std::getenv("PINGAN_HUGE_PAGES"); off != nullptr && std::strcmp(off, "0") == 0) return;
  const char* existing = std::getenv("GLIBC_TUNABLES");
  const std::string current = existing == nullptr ? "" : existing;
  const std::string wanted = TunablesWithHugePages(current);
  if (wanted == current || !GlibcHasTunable()) return;
  std::ifstream mode_file("/sys/kernel/mm/transparent_hugepage/enabled");
  std::stringstream mode;
  mode << mode_file.rdbuf();
  if (!HugePagesNeedAdvice(mode.str())) return;
  if (::setenv("GLIBC_TUNABLES", wanted.c_str(), 1) != 0 || ::setenv(kReexecMarker, "1", 1) != 0) return;
  // The binary's own path rather than /proc/self/exe, so that the process keeps its name (the
  // kernel names a process after the file executed: ps and pgrep would show "exe").
  char self[4096];
  const ssize_t length = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (length > 0) {
    self[length] = '\0';
    ::execv(self, argv);
  }
  // Could not re-execute: go on as we are, with the environment as it was.
  if (existing == nullptr) {
    ::unsetenv("GLIBC_TUNABLES");
  } else {
    ::setenv("GLIBC_TUNABLES", current.c_str(), 1);
  }
  ::unsetenv(kReexecMarker);
}

void KeepHeapForBatch() {
  if (SanitizedBuild()) return;
  mallopt(M_TOP_PAD, 256 << 20);
  // A worker thread's arena grows by 64 MiB heaps, and glibc unmaps a heap as soon as all of it
  // is free — the trim threshold (128 KiB by default) decides that, not the top pad — so the next
  // batch mapped and faulted in a new one. A 1 GiB threshold keeps them. Setting it also stops
  // the dynamic mmap threshold: blocks up to 32 MiB (its ceiling) come from the heaps as well.
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
}

}  // namespace pingan
