#include "cli/app.h"

#include <iostream>

#include <CLI/CLI.hpp>

#include "auth/auth.h"
#include "cli/commands.h"
#include "core/huge_pages.h"
#include "core/strings.h"

namespace pingan::cli {

int Main(int argc, char** argv) { return Main(argc, argv, std::cout, std::cerr); }

int Main(int argc, char** argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"pingan: the safety and rule-of-law governance platform (平安)"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show every command's options");
  Context context{.out = &out, .err = &err};
  std::string data_dir = "data";
  auto add_common = [&](CLI::App* command) {
    command->add_option("--data", data_dir, "Data directory")->capture_default_str();
    command->add_option("--config", context.config_dir, "Config directory (default: the project's config/)");
  };

  uint64_t seed = 1;
  double scale = 1.0;
  bool rebuild = false, no_demo = false, json = false, dry_run = false;
  std::string code, file, province;
  int depth = 1;

  CLI::App* init = app.add_subcommand("init", "Build the registry (all of China, the demo city to the room) into --data");
  add_common(init);
  init->add_option("--seed", seed, "Seed of the synthetic demo city")->capture_default_str();
  init->add_option("--scale", scale, "Scale of the demo city (1 = Hangzhou-sized, ~12 million people)")
      ->capture_default_str()->check(CLI::Range(0.0001, 10.0));
  init->add_flag("--rebuild", rebuild, "Replace an existing registry");
  init->add_flag("--no-demo", no_demo, "Only the statistical registry, no synthetic levels");
  init->add_option("--province", province, "Import only this province (2 digits; for tests)")
      ->check(CLI::Validator([](std::string& text) {
        return text.size() == 2 && isdigit(text[0]) && isdigit(text[1]) ? "" : "a 2-digit province code";
      }, "PROVINCE"));

  CLI::App* units = app.add_subcommand("units", "Print the governance tree under CODE (the nation without CODE)");
  add_common(units);
  units->add_option("code", code, "A 27-digit code or its significant prefix (33, 3301, 330106, ...)");
  units->add_flag("--json", json, "JSON output");
  bool geojson = false;
  units->add_flag("--geojson", geojson, "GeoJSON FeatureCollection of the unit's children (polygons; points for buildings)");
  units->add_option("--depth", depth, "Levels of children to print")->capture_default_str()->check(CLI::Range(1, 3));

  CLI::App* code_command = app.add_subcommand("code", "Check a 27-digit code and print its levels and names");
  add_common(code_command);
  code_command->add_option("code", code, "Exactly 27 digits")->required();
  code_command->add_flag("--json", json, "JSON output");

  CLI::App* info = app.add_subcommand("info", "Summarise a data directory: counts per level, population, settings");
  add_common(info);
  info->add_flag("--json", json, "JSON output");

  CLI::App* history = app.add_subcommand("history", "List former units (renamed, merged, split) and where they went");
  add_common(history);
  history->add_flag("--json", json, "JSON output");
  std::string former, town;
  history->add_option("--former", former, "Resolve a former unit (name or code: 江干区, 330104) to today's unit");
  history->add_option("--town", town, "With --former: the town the record names (九堡)");

  CLI::App* geocode = app.add_subcommand("geocode", "Addresses on stdin (one per line) to JSON lines on stdout");
  add_common(geocode);
  std::string eval_file;
  geocode->add_option("--eval", eval_file, "Score a labelled set: lines {\"text\", \"expect\": {level: name-or-code}}");
  bool points = false;
  int threads = 1;
  geocode->add_flag("--points", points, "Read `lon,lat` lines: the grid and nearest building of each point")
      ->excludes("--eval");
  geocode->add_option("--threads", threads, "Threads answering (addresses or points); output keeps the input order")->capture_default_str()
      ->check(CLI::Range(1, 256));
  std::string geocode_encoding;
  geocode->add_option("--encoding", geocode_encoding,
                      "The input's encoding when not UTF-8: GB18030 (GBK, GB2312), BIG5, ... (addresses, not points)");
  std::string geocode_coordinates;
  geocode->add_option("--coordinates", geocode_coordinates,
                      "With --points: the points' coordinate system, WGS-84 (the default, CGCS2000 too), GCJ-02 "
                      "(AutoNavi, Tencent) or BD-09 (Baidu)");
  bool geocode_timing = false;
  geocode->add_flag("--timing", geocode_timing,
                    "Print to stderr how long the start-up and the answering took, and the lines answered per second")
      ->excludes("--eval");

  CLI::App* import = app.add_subcommand("import", "Import a real city's data");
  import->require_subcommand(1);
  CLI::App* import_units = import->add_subcommand("units", "Import grids, buildings and management units (GeoJSON or CSV)");
  add_common(import_units);
  import_units->add_option("file", file, "A .geojson/.json or .csv file")->required();
  import_units->add_flag("--dry-run", dry_run, "Validate only; write nothing");

  CLI::App* catalog = app.add_subcommand("catalog", "List the event catalog: sources, types, indicators, key types");
  catalog->add_option("--config", context.config_dir, "Config directory (default: the project's config/)");
  catalog->add_flag("--json", json, "JSON output");

  DemoOptions demo_options;
  CLI::App* demo = app.add_subcommand("demo", "Build the demo city and ingest years of its seven source feeds into --data");
  add_common(demo);
  demo->add_option("--seed", demo_options.seed, "Seed of the city (when DIR is new) and of its feeds")->capture_default_str();
  demo->add_option("--scale", demo_options.scale, "Scale of the demo city when DIR is new (1 = Hangzhou-sized)")
      ->capture_default_str()->check(CLI::Range(0.0001, 10.0));
  demo->add_option("--from", demo_options.from, "First day of the feeds (YYYY-MM-DD)")->capture_default_str();
  demo->add_option("--to", demo_options.to, "Last day of the feeds (YYYY-MM-DD)")->capture_default_str();
  demo->add_option("--threads", demo_options.threads, "Ingest threads")->capture_default_str()->check(CLI::Range(1, 64));

  std::vector<std::string> ingest_files;
  std::string ingest_source;
  int ingest_threads = 2;
  bool unmasked = false;
  CLI::App* ingest = app.add_subcommand("ingest", "Read event records (JSON Lines, CSV, .gz) into --data: validate, place, upsert");
  add_common(ingest);
  ingest->add_option("files", ingest_files, "Files: .jsonl/.ndjson/.json or .csv, optionally .gz, or .xlsx (the first sheet)")->required();
  ingest->add_option("--source", ingest_source, "The source of records that name none (default: from the file name, police-2024.csv)");
  ingest->add_option("--threads", ingest_threads, "Threads parsing, validating and placing")->capture_default_str()
      ->check(CLI::Range(1, 64));
  std::string ingest_encoding;
  ingest->add_option("--encoding", ingest_encoding,
                     "The files' encoding when not UTF-8: GB18030 (GBK, GB2312), BIG5, ... (default: the "
                     "source's in the catalog, else UTF-8)");
  ingest->add_flag("--json", json, "The summary as JSON");
  size_t ingest_batch = 20'000;
  ingest->add_option("--batch", ingest_batch, "Records per transaction (a crash keeps whole batches)")
      ->capture_default_str()->check(CLI::Range(size_t{1}, size_t{1'000'000}));

  CLI::App* quarantine = app.add_subcommand("quarantine", "List records that failed validation (or `retry` them)");
  add_common(quarantine);
  quarantine->add_flag("--json", json, "JSON Lines output");
  quarantine->add_flag("--unmasked", unmasked, "Show raw text with phone and ID numbers (written to the audit log)");
  CLI::App* retry = quarantine->add_subcommand("retry", "Re-read every quarantined record (after a config fix)");
  add_common(retry);
  retry->add_option("--threads", ingest_threads, "Threads")->capture_default_str()->check(CLI::Range(1, 64));
  retry->add_flag("--json", json, "The summary as JSON");

  EventsQuery events_query;
  CLI::App* events = app.add_subcommand("events", "List stored events (an operator's tool: all of them by default)");
  add_common(events);
  events->add_flag("--json", events_query.json, "JSON Lines output");
  events->add_option("--unit", events_query.unit, "Only events counted in this unit's subtree (code or prefix)");
  events->add_option("--type", events_query.type, "Only this event type (criminal.theft) or family (criminal.*)");
  events->add_option("--indicator", events_query.indicator,
                     "Only the events this indicator or key type counts (its types and conditions, not withdrawn)");
  events->add_option("--from", events_query.from, "Occurred at or after (YYYY-MM-DD or ISO 8601, city time)");
  events->add_option("--to", events_query.to, "Occurred before (YYYY-MM-DD or ISO 8601, city time)");
  events->add_option("--limit", events_query.limit, "At most N events")->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  events->add_flag("--unplaced", events_query.unplaced, "Only events not placed below the city (未落地), for review");
  events->add_flag("--unmasked", events_query.unmasked, "Show personal attributes unmasked (written to the audit log)");

  ReportQuery report_query;
  auto add_report = [&](CLI::App* command, bool unit, bool indicator, bool exportable) {
    add_common(command);
    if (unit) command->add_option("--unit", report_query.unit, "Unit code or prefix (default: the home city)");
    command->add_option("--period", report_query.period,
                        "2024 | 2024Q2 | 2024-06 | 2024-W23 | 2024-06-15 | 2024-06-01..2024-06-15 | ytd:2024-06-15 "
                        "(default: the month of the latest record)");
    if (indicator) command->add_option("--indicator", report_query.indicator, "Indicator or key type id")->required();
    command->add_flag("--json", report_query.json, "JSON output");
    command->add_option("--lang", report_query.lang, "Labels: zh or en")->capture_default_str()
        ->check(CLI::IsMember({"zh", "en"}));
    if (exportable) {
      command->add_option("--format", report_query.format, "Export: csv or xlsx")->check(CLI::IsMember({"csv", "xlsx"}));
      command->add_option("--output", report_query.output, "File to export to (csv: stdout without it)");
    }
  };
  CLI::App* report = app.add_subcommand("report", "The real-time report: 33 indicators and 9 key types with YoY and MoM");
  add_report(report, true, false, true);
  CLI::App* series = app.add_subcommand("series", "An indicator over the last N periods");
  add_report(series, true, true, true);
  series->add_option("--count", report_query.count, "Periods")->capture_default_str()->check(CLI::Range(1, 1000));
  CLI::App* breakdown = app.add_subcommand("breakdown", "An indicator by sub-unit, with the unplaced remainder");
  add_report(breakdown, true, true, false);
  CLI::App* league = app.add_subcommand("league", "The league table (平安赛马榜) of the district-level units");
  add_report(league, false, false, true);
  CLI::App* bulletin = app.add_subcommand("bulletin", "The period's summary in sentences");
  add_report(bulletin, true, false, false);
  CLI::App* clusters = app.add_subcommand("clusters", "Cluster analysis of the 7 domains: types, hours, weekdays, sub-units");
  add_report(clusters, true, false, false);
  CLI::App* major = app.add_subcommand("major", "Major incidents (config/catalog/major.toml), newest first");
  add_report(major, true, false, false);
  major->add_option("--limit", report_query.limit, "At most N events")->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  bool cube_rebuild = false;
  CLI::App* cube = app.add_subcommand("cube", "Load the cube (snapshot + changes, or rebuild) and print its figures");
  add_common(cube);
  cube->add_flag("--rebuild", cube_rebuild, "Ignore the snapshot: rebuild from the store and write a new one");
  cube->add_flag("--json", json, "JSON output");

  AssessOptions assess_options;
  CLI::App* assess = app.add_subcommand("assess", "The five-colour risk map of the city's units (--data), or empirical Bayes rates of any table (--input)");
  add_common(assess);
  assess->add_option("--input", assess_options.input, "CSV with columns id, exposure, count[, neighbours (ids separated by ';')]")
      ->excludes("--data");
  assess->add_option("--period", assess_options.period, "The period assessed (default: the month of the latest record)")->excludes("--input");
  assess->add_option("--level", assess_options.level, "district, town (default), community or grid")
      ->excludes("--input");
  assess->add_flag("--json", assess_options.json, "JSON: a list of objects ({id, count, exposure, raw, eb_global, eb_local} with --input)");
  assess->add_flag("--raise", assess_options.raise, "Store the warnings the assessment raises (with --data)")->excludes("--input");

  std::string user_name, user_role, key_source;
  std::vector<std::string> user_scopes;
  std::vector<std::string> role_names;
  for (Role role : {Role::kAdmin, Role::kCityAnalyst, Role::kDistrictAnalyst, Role::kTownOfficial, Role::kGridWorker,
                    Role::kAuditor}) {
    role_names.emplace_back(RoleName(role));
  }
  CLI::App* user = app.add_subcommand("user", "Manage the users who log in (passwords are read from stdin)");
  user->require_subcommand(1);
  CLI::App* user_add = user->add_subcommand("add", "Add a user; the password is the first line of stdin");
  add_common(user_add);
  user_add->add_option("--name", user_name, "Username (letters, digits, '_', '.', '-')")->required();
  user_add->add_option("--role", user_role, "Role")->required()->check(CLI::IsMember(role_names));
  user_add->add_option("--scope", user_scopes, "A unit the user may see, with its subtree (code or prefix: 330106); "
                       "repeatable; required except for admin and auditor");
  CLI::App* user_list = user->add_subcommand("list", "List the users, their roles and scopes");
  add_common(user_list);
  user_list->add_flag("--json", json, "JSON Lines output");
  CLI::App* user_disable = user->add_subcommand("disable", "Disable a user and end its sessions");
  add_common(user_disable);
  user_disable->add_option("--name", user_name, "Username")->required();
  CLI::App* user_passwd = user->add_subcommand("passwd", "Set a user's password (first line of stdin); ends its sessions");
  add_common(user_passwd);
  user_passwd->add_option("--name", user_name, "Username")->required();

  CLI::App* source_key = app.add_subcommand("source-key", "Manage the per-source ingest keys");
  source_key->require_subcommand(1);
  CLI::App* key_add = source_key->add_subcommand("add", "Make a source's key (printed once; replaces its old key)");
  add_common(key_add);
  key_add->add_option("--source", key_source, "A source of the catalog (police, court, ...)")->required();
  CLI::App* key_revoke = source_key->add_subcommand("revoke", "Revoke a source's key");
  add_common(key_revoke);
  key_revoke->add_option("--source", key_source, "Source id")->required();

  AuditQuery audit_query;
  CLI::App* audit = app.add_subcommand("audit", "The audit log: logins, changes and reads of unmasked data");
  add_common(audit);
  audit->add_flag("--json", audit_query.json, "JSON Lines output");
  audit->add_option("--from", audit_query.from, "At or after (YYYY-MM-DD or ISO 8601, city time)");
  audit->add_option("--to", audit_query.to, "Before (YYYY-MM-DD or ISO 8601, city time)");
  audit->add_option("--actor", audit_query.actor, "Only this actor (a username, cli, source:ID)");
  audit->add_option("--action", audit_query.action, "Only this action (login, login_failed, user_add, read_unmasked, ...)");
  audit->add_option("--limit", audit_query.limit, "The latest N entries (0: all)")->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  audit->add_flag("--verify", audit_query.verify, "Check the hash chain of the whole log instead of listing");

  ServeOptions serve_options;
  CLI::App* serve = app.add_subcommand("serve", "Serve the JSON API under /api/ and the web app at / (until Ctrl-C)");
  add_common(serve);
  serve->add_option("--listen", serve_options.listen, "HOST:PORT (loopback unless told otherwise)")->capture_default_str();
  serve->add_option("--web", serve_options.web_dir, "The built web app (default: web/dist of the project)");
  serve->add_option("--threads", serve_options.threads, "Blocking requests (POSTs) handled at once")->capture_default_str()
      ->check(CLI::Range(2, 1024));
  serve->add_flag("--log-requests", serve_options.log_requests, "One line per request on stderr (no query strings)");
  serve->add_option("--task-batch", serve_options.task_batch,
                    "Task transitions committed together at most (1: a commit each, the benchmark's baseline)")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error, out, err) == 0 ? 0 : 2;
  }
  context.data_dir = data_dir;
  if (geocode->parsed() || demo->parsed() || ingest->parsed() || retry->parsed()) KeepHeapForBatch();
  if (init->parsed()) return RunInit(context, seed, scale, rebuild, !no_demo, province);
  if (units->parsed()) return geojson ? RunUnitsGeoJson(context, code) : RunUnits(context, code, json, depth);
  if (code_command->parsed()) return RunCode(context, code, json);
  if (info->parsed()) return RunInfo(context, json);
  if (history->parsed()) return RunHistory(context, json, former, town);
  if (geocode->parsed()) {
    if (points && !geocode_encoding.empty()) return Fail(context, "--encoding: for addresses, not --points (lon,lat lines are ASCII)");
    if (!points && !geocode_coordinates.empty()) return Fail(context, "--coordinates: for --points, not addresses");
    const std::optional<Datum> datum = ParseDatum(geocode_coordinates.empty() ? "WGS-84" : geocode_coordinates);
    if (!datum) {
      return Fail(context, Cat("--coordinates: unknown coordinate system '", geocode_coordinates.substr(0, 40),
                               "' (expected WGS-84, CGCS2000, GCJ-02 or BD-09)"));
    }
    return points ? RunGeocodePoints(context, threads, geocode_timing, *datum)
                  : RunGeocode(context, eval_file, threads, geocode_timing, geocode_encoding);
  }
  if (import_units->parsed()) return RunImportUnits(context, file, dry_run);
  if (demo->parsed()) return RunDemo(context, demo_options);
  if (catalog->parsed()) return RunCatalog(context, json);
  if (ingest->parsed()) return RunIngest(context, ingest_files, ingest_source, ingest_encoding, ingest_threads, ingest_batch, json);
  if (retry->parsed()) return RunQuarantineRetry(context, ingest_threads, json);
  if (quarantine->parsed()) return RunQuarantine(context, json, unmasked);
  if (events->parsed()) return RunEvents(context, events_query);
  if (report->parsed()) return RunReport(context, report_query);
  if (series->parsed()) return RunSeries(context, report_query);
  if (breakdown->parsed()) return RunBreakdown(context, report_query);
  if (league->parsed()) return RunLeague(context, report_query);
  if (bulletin->parsed()) return RunBulletin(context, report_query);
  if (clusters->parsed()) return RunClusters(context, report_query);
  if (major->parsed()) return RunMajor(context, report_query);
  if (cube->parsed()) return RunCube(context, cube_rebuild, json);
  if (assess->parsed()) return RunAssess(context, assess_options);
  if (user_add->parsed()) return RunUserAdd(context, user_name, user_role, user_scopes);
  if (user_list->parsed()) return RunUserList(context, json);
  if (user_disable->parsed()) return RunUserDisable(context, user_name);
  if (user_passwd->parsed()) return RunUserPasswd(context, user_name);
  if (key_add->parsed()) return RunSourceKeyAdd(context, key_source);
  if (key_revoke->parsed()) return RunSourceKeyRevoke(context, key_source);
  if (audit->parsed()) return RunAudit(context, audit_query);
  if (serve->parsed()) return RunServe(context, serve_options);
  err << "pingan: no command (see pingan --help)\n";
  return 2;
}

}  // namespace pingan::cli
