#include "sim/init.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <chrono>
#include <fstream>

#include "core/strings.h"
#include "core/status.h"
#include "sim/eval_sets.h"
#include "store/data_dir.h"

namespace pingan {
namespace fs = std::filesystem;

namespace {

// Temporary files of an init that was killed (pingan.db.tmp-PID, ...) whose process is gone.
void RemoveStaleTemporaries(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    size_t at = name.find(".tmp-");
    if (at == std::string::npos || name.rfind("pingan.", 0) != 0) continue;
    long pid = std::strtol(name.c_str() + at + 5, nullptr, 10);
    if (pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)) continue;
    fs::remove(entry.path(), ec);
  }
}

}  // namespace

absl::StatusOr<Registry> BuildRegistry(const ProjectConfig& config, const std::filesystem::path& division_dir,
                                       std::string_view only_province, bool demo, uint64_t seed, double scale,
                                       InitResult* stats) {
  InitResult local;
  InitResult& result = stats != nullptr ? *stats : local;
  RegistryBuilder builder;
  PA_ASSIGN_OR_RETURN(result.divisions, ImportDivisions(division_dir, config, builder, std::string(only_province)));
  if (demo) {
    PA_ASSIGN_OR_RETURN(result.demo, BuildDemoCity(config.demo, seed, scale, builder));
  }
  // History: every successor must be a unit of today's registry.
  for (const HistoryChange& change : config.history) {
    for (const HistoryPiece& piece : change.pieces) {
      if (!builder.Find(piece.successor) && only_province.empty()) {
        return absl::InvalidArgumentError(Cat(change.source, ": key 'successor': no unit ",
                                              piece.successor.ToString().substr(0, 6)));
      }
    }
  }
  builder.SetHistory(History(config.history));
  return std::move(builder).Build();
}

absl::StatusOr<InitResult> InitDataDir(const InitOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  std::error_code ec;
  const fs::path& dir = options.data_dir;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    return absl::FailedPreconditionError(Cat(dir.string(), " exists and is not a directory"));
  }
  if (DataDir::Exists(dir) && !options.rebuild) {
    return absl::AlreadyExistsError(Cat(dir.string(), " already holds a pingan registry; pass --rebuild to replace it"));
  }
  PA_ASSIGN_OR_RETURN(ProjectConfig config, LoadProjectConfig(options.config_dir));

  InitResult result;
  PA_ASSIGN_OR_RETURN(Registry registry, BuildRegistry(config, options.division_dir, options.only_province,
                                                       options.demo, options.seed, options.scale, &result));
  result.units = registry.size();

  fs::create_directories(dir, ec);
  if (ec) return absl::PermissionDeniedError(Cat("cannot create ", dir.string(), ": ", ec.message()));
  RemoveStaleTemporaries(dir);
  const std::string suffix = Cat(".tmp-", ::getpid());
  const fs::path db_tmp = dir / (std::string(kDatabaseFile) + suffix);
  const fs::path toml_tmp = dir / (std::string(kDeploymentFile) + suffix);
  fs::remove(db_tmp, ec);
  auto cleanup = [&](absl::Status status) {
    std::error_code ignored;
    fs::remove(db_tmp, ignored);
    fs::remove(toml_tmp, ignored);
    fs::remove(db_tmp.string() + ".registry", ignored);
    return status;
  };
  {
    auto store = SqliteStore::Create(db_tmp);
    if (!store.ok()) return cleanup(store.status());
    if (auto status = (*store)->SaveRegistry(registry); !status.ok()) return cleanup(status);
    for (const auto& [key, value] : std::initializer_list<std::pair<std::string, std::string>>{
             {"seed", std::to_string(options.seed)},
             {"scale", Cat(options.scale)},
             {"demo", options.demo ? "1" : "0"}}) {
      if (auto status = (*store)->SetMeta(key, value); !status.ok()) return cleanup(status);
    }
    if (auto status = (*store)->Finish(); !status.ok()) return cleanup(status);
  }
  Deployment deployment{.home_city = config.demo.home_city};
  if (options.demo) deployment.demo = DemoSettings{.seed = options.seed, .scale = options.scale};
  {
    std::ofstream out(toml_tmp, std::ios::trunc);
    out << DeploymentToml(deployment);
    out.flush();
    if (!out) return cleanup(absl::InternalError(Cat("cannot write ", toml_tmp.string())));
  }
  // Labelled address sets for the geocoder (DIR/eval/), written whole or not at all.
  EvalSetOptions eval{.seed = options.seed};
  if (options.demo) eval.home_city = config.demo.home_city;
  if (auto sets = WriteEvalSets(registry, dir, eval); !sets.ok()) return cleanup(sets.status());
  // The database appears last: its presence marks a complete data directory.
  for (const char* name : {"pingan.db-wal", "pingan.db-shm"}) fs::remove(dir / name, ec);
  fs::rename(toml_tmp, dir / kDeploymentFile, ec);
  if (!ec) fs::rename(db_tmp.string() + ".registry", dir / (std::string(kDatabaseFile) + ".registry"), ec);
  if (ec) return cleanup(absl::InternalError(Cat("cannot rename into ", dir.string(), ": ", ec.message())));
  fs::rename(db_tmp, dir / kDatabaseFile, ec);
  if (ec) return cleanup(absl::InternalError(Cat("cannot rename into ", dir.string(), ": ", ec.message())));
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace pingan
