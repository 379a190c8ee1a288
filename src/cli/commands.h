// The `pingan` commands: thin faces over the engines. Each returns the process exit code and
// writes results to `out`, one-line errors to `err`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/datum.h"
#include <vector>

namespace pingan::cli {

struct Context {
  std::filesystem::path data_dir = "data";
  std::string config_dir;  // empty: the project's config/ next to the binary
  std::ostream* out;
  std::ostream* err;
};

// Writes "pingan: MESSAGE" as one line to the error stream and returns exit code 1.
inline int Fail(const Context& context, std::string_view message) {
  *context.err << "pingan: " << message << "\n";
  return 1;
}

int RunInit(const Context& context, uint64_t seed, double scale, bool rebuild, bool demo,
            const std::string& only_province);
int RunUnits(const Context& context, const std::string& code, bool json, int depth);
int RunUnitsGeoJson(const Context& context, const std::string& code);
int RunCode(const Context& context, const std::string& code, bool json);
int RunInfo(const Context& context, bool json);
int RunHistory(const Context& context, bool json, const std::string& former = "",
               const std::string& town = "");
// Geocodes stdin to stdout, or scores a labelled set (--eval FILE.jsonl).
int RunGeocode(const Context& context, const std::string& eval_file, int threads = 1, bool timing = false,
               const std::string& encoding = "");
// Points (`lon,lat` lines on stdin) to their grid and nearest building, on `threads` threads.
// `datum`: the points' coordinate system (core/datum.h), converted to WGS-84 before locating.
int RunGeocodePoints(const Context& context, int threads, bool timing = false, Datum datum = Datum::kWgs84);
// `pingan ingest FILE...`: JSON Lines / CSV (gzip too) into the store; prints the summary.
int RunIngest(const Context& context, const std::vector<std::string>& files, const std::string& source,
              const std::string& encoding, int threads, size_t batch, bool json_output);
// `pingan quarantine`: the records that failed validation (raw text masked unless `unmasked`).
int RunQuarantine(const Context& context, bool json, bool unmasked);
// `pingan quarantine retry`: re-reads every quarantined record after a config fix.
int RunQuarantineRetry(const Context& context, int threads, bool json);
struct EventsQuery {
  std::string unit, type, from, to;
  std::string indicator;  // only the events this indicator or key type counts
  int64_t limit = -1;
  bool json = false;
  bool unmasked = false;  // written to the audit log (`pingan audit`)
  bool unplaced = false;  // only events not placed below the city, for review
};
// `pingan events`: stored events, filtered, one per line.
int RunEvents(const Context& context, const EventsQuery& query);
int RunImportUnits(const Context& context, const std::string& file, bool dry_run);

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";
  std::string web_dir;  // "": web/dist of the project when built
  int threads = 64;
  bool log_requests = false;
  int task_batch = 512;  // task transitions per group commit at most (1: one commit each)
};
// `pingan serve`: the HTTP API and the web app until SIGINT/SIGTERM.
int RunServe(const Context& context, const ServeOptions& options);

struct DemoOptions {
  uint64_t seed = 1;
  double scale = 1.0;  // for init when DIR holds no database
  std::string from = "2021-01-01", to = "2024-06-30";
  int threads = 2;
};
// `pingan demo`: init when DIR holds no database, the demo feeds into DIR/feeds/ (kept when the
// same seed, scale and window made them), then every feed ingested; prints the summary.
int RunDemo(const Context& context, const DemoOptions& options);
// The event catalog (config/catalog/*.toml): a grouped listing, or CatalogJson with --json.
int RunCatalog(const Context& context, bool json);
// The report commands (report_command.cc).
struct ReportQuery {
  std::string unit;       // code or prefix; empty: the home city
  std::string period;     // grammar of core/period.h; empty: the month of the latest record
  std::string indicator;  // series, breakdown: an indicator or key type id
  int count = 12;         // series: periods
  int64_t limit = 50;     // major: events
  bool json = false;
  std::string format;     // "", "csv" or "xlsx"
  std::string output;     // file for csv/xlsx (csv: stdout when empty)
  std::string lang = "zh";
};
int RunReport(const Context& context, const ReportQuery& query);
int RunSeries(const Context& context, const ReportQuery& query);
int RunBreakdown(const Context& context, const ReportQuery& query);
int RunLeague(const Context& context, const ReportQuery& query);
int RunBulletin(const Context& context, const ReportQuery& query);
int RunClusters(const Context& context, const ReportQuery& query);
int RunMajor(const Context& context, const ReportQuery& query);
// `pingan cube`: loads (or with `rebuild`, rebuilds) the cube and prints its figures.
int RunCube(const Context& context, bool rebuild, bool json);

// `pingan assess` (assess_command.cc): with `input`, the empirical Bayes rates of a CSV table of
// units (docs/risk-map.md); without it, the city's own units of `level` for `period` (the
// five-colour grades), and with `raise` the warnings they raise are stored.
struct AssessOptions {
  std::string input;
  std::string period, level;
  bool json = false;
  bool raise = false;
};
int RunAssess(const Context& context, const AssessOptions& options);

// The user, source-key and audit commands (user_command.cc). Passwords are read as the first
// line of standard input (without echo on a terminal), never taken as arguments.
int RunUserAdd(const Context& context, const std::string& name, const std::string& role,
               const std::vector<std::string>& scopes);
int RunUserList(const Context& context, bool json);
int RunUserDisable(const Context& context, const std::string& name);
int RunUserPasswd(const Context& context, const std::string& name);
// Prints the new key (once) on standard output; the source must be in the catalog.
int RunSourceKeyAdd(const Context& context, const std::string& source);
int RunSourceKeyRevoke(const Context& context, const std::string& source);
struct AuditQuery {
  std::string from, to;     // YYYY-MM-DD or ISO 8601, city time
  std::string actor, action;
  int64_t limit = 100;      // the latest N entries (0: all), printed oldest first
  bool json = false;
  bool verify = false;      // check the hash chain instead of listing
};
int RunAudit(const Context& context, const AuditQuery& query);

// The config directory: --config, else the project's config/ (ResourceRoot). NotFound when
// there is none. (Defined in catalog_command.cc.)
absl::StatusOr<std::filesystem::path> ResolveConfigDir(const Context& context);

}  // namespace pingan::cli
