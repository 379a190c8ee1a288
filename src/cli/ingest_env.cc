#include "cli/ingest_env.h"

#include "catalog/config.h"
#include "core/status.h"

namespace pingan::cli {

absl::StatusOr<std::unique_ptr<OpenedIngest>> OpenIngestEnv(const Context& context, int threads,
                                                            bool need_geocoder) {
  auto opened = std::make_unique<OpenedIngest>();
  PA_ASSIGN_OR_RETURN(const std::filesystem::path config_dir, ResolveConfigDir(context));
  PA_ASSIGN_OR_RETURN(opened->catalog, LoadCatalog(config_dir));
  PA_ASSIGN_OR_RETURN(opened->data, DataDir::Open(context.data_dir, SqliteStore::Mode::kReadWrite));
  PA_ASSIGN_OR_RETURN(Registry registry, opened->data.store->LoadRegistry());
  opened->registry = std::make_unique<Registry>(std::move(registry));
  const Deployment& deployment = opened->data.deployment;
  if (need_geocoder) {
    PA_ASSIGN_OR_RETURN(ProjectConfig config, LoadProjectConfig(config_dir));
    std::vector<Alias> aliases;
    for (const AliasConfig& alias : config.aliases) aliases.push_back(Alias{alias.name, alias.unit});
    std::optional<UnitId> city = opened->registry->Find(deployment.home_city);
    if (!city) return absl::FailedPreconditionError("the home city is not in the registry");
    const Registry* registry = opened->registry.get();
    const MatcherIndexFile index{opened->data.store->matcher_index_path(), opened->data.store->loaded_registry_generation()};
    opened->matcher = std::make_unique<Lazy<Matcher>>(
        [registry, home = deployment.home_city, aliases = std::move(aliases), index] {
          return Matcher::Open(*registry, home, aliases, index);
        });
    opened->points = std::make_unique<Lazy<PointIndex>>(
        [registry, city = *city, options = PointIndexOptions{.building_distance_m = deployment.geocode.building_distance_m}] {
          return PointIndex::Create(*registry, city, options);
        });
  }
  PA_ASSIGN_OR_RETURN(opened->events, EventStore::Open(opened->data.store->handle()));
  opened->env = IngestEnv{.catalog = &opened->catalog,
                          .registry = opened->registry.get(),
                          .deployment = &opened->data.deployment,
                          .lazy_matcher = opened->matcher.get(),
                          .lazy_points = opened->points.get(),
                          .store = opened->events.get(),
                          .threads = threads};
  return opened;
}

}  // namespace pingan::cli
