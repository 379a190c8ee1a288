// `pingan serve`: the JSON API under /api/ and the built web app at /, over Boost.Beast
// (server/http_front.h; the handlers take cpp-httplib's Request and Response types).
//
// The engines answer; the server authenticates (AuthStore: Bearer session tokens for people,
// per-source keys for POST /api/ingest), checks the role and cuts every query to the caller's
// area scope before the engine runs (a unit outside the scope is 403, never an empty answer),
// masks personal data, bounds every input, and audits reads of unmasked personal data.
//
// The report endpoints read the cube under LiveCube's shared lock (it follows the store, so
// records ingested by another process show within a second) and keep their JSON answers in a
// cache keyed by the query and the cube's change sequence: a repeated query costs a lookup.
// Major incidents are pushed to Server-Sent Events subscribers as the cube takes them in.
//
// `threads` threads share one event loop and run the handlers (which may block: a login's
// Argon2id, a group commit); an idle keep-alive connection holds none of them. Each SSE stream
// runs on a thread of its own; a stream beyond `max_streams` is refused with 503.
//
// Example:
//   PA_ASSIGN_OR_RETURN(auto server, Server::Create(config_dir, data_dir, {.port = 8080}));
//   PA_ASSIGN_OR_RETURN(int port, server->Bind());
//   server->Run();  // until Stop() from another thread
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace pingan {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                      // 0: any free port (Bind returns it)
  std::filesystem::path web_dir;        // the built web app (index.html); empty: API only
  int threads = 64;                     // requests handled at once (idle connections hold none)
  int max_streams = 16;                 // SSE streams at once
  size_t max_body_bytes = 1 << 20;      // JSON bodies (login, geocode batch)
  size_t max_ingest_bytes = 16 << 20;   // POST /api/ingest bodies
  size_t max_geocode_batch = 1000;      // addresses per POST /api/geocode
  size_t max_export_events = 100'000;  // rows of GET /api/export/events (more is refused)
  bool log_requests = false;            // one line per request on stderr (no query strings)
  size_t task_batch = 512;              // task transitions per group commit at most
};

// One route as the OpenAPI document names it ("GET", "/api/units/{code}").
struct RouteInfo {
  std::string method;
  std::string path;
};

class Server {
 public:
  // Opens the data directory (its registry, catalog, report settings, cube, auth tables,
  // geocoder and event store) with the configuration in `config_dir`.
  static absl::StatusOr<std::unique_ptr<Server>> Create(const std::filesystem::path& config_dir,
                                                       const std::filesystem::path& data_dir,
                                                       ServerOptions options);
  ~Server();

  // Binds the listening socket; returns the port. FailedPrecondition when it cannot bind.
  absl::StatusOr<int> Bind();
  // Serves until Stop() (from another thread or a signal handler's thread).
  absl::Status Run();
  void Stop();

  // Every route the server answers (the OpenAPI document is checked against these).
  static std::vector<RouteInfo> Routes();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pingan
