// The HTTP/1.1 front of `pingan serve`: Boost.Beast over Asio.
//
// It reads requests (keep-alive, pipelining, chunked bodies, `Expect: 100-continue`), refuses
// what it must before a handler sees it (a malformed request: 400; a POST without a length: 411;
// a body over its route's bound: 413, before the body is read; headers over the bound: 431),
// hands each request to one handler as a cpp-httplib `Request`/`Response` pair (the types the
// API's handlers were written against), and writes the answer gzipped when the client takes it
// and the type compresses. The event loop runs on a thread per core, and most handlers run on
// it; a handler that may block (a login's Argon2id, a group commit) runs on a pool of threads
// instead, and an idle keep-alive connection holds no thread. A chunked content provider
// (Server-Sent Events) runs on a thread of its own while its writes go through the event loop.
//
// cpp-httplib's own server had cost a poll() before every read and write, a stat() per request
// for the mount point, two sends per answer and a thread per open connection (FACTS.md).

#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <httplib.h>

#include "absl/status/statusor.h"

namespace pingan::server_internal {

struct HttpFrontOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                          // 0: any free port (Bind returns it)
  int io_threads = 0;                       // the event loop's threads (0: one per core, 2..8)
  int threads = 64;                         // handlers of blocking requests running at once
  // Requests whose handlers may block (a login's Argon2id, a group commit, an ingest): they run
  // on the pool of `threads`, the rest on the event loop's threads. Unset: every POST.
  std::function<bool(const httplib::Request&)> blocking;
  size_t max_connections = 10000;           // open connections; more are closed on accept
  size_t max_header_bytes = 16 << 10;       // request line and headers
  std::chrono::seconds keep_alive_timeout{5};  // idle between requests
  std::chrono::seconds read_timeout{30};    // a request's header and body, once begun
  std::chrono::seconds write_timeout{30};   // an answer, or one write of a stream
  std::vector<std::pair<std::string, std::string>> default_headers;  // on every answer
};

class HttpFront {
 public:
  // Fills the response for a request. The request's method, target, path (decoded), params,
  // headers, body and remote_addr are set; `matches` is left to the handler.
  using Handler = std::function<void(httplib::Request&, httplib::Response&)>;
  // The largest body a request may carry, from its method, path and headers (before its body).
  using BodyLimit = std::function<size_t(const httplib::Request&)>;
  // The body of an answer the front gives itself (400, 411, 413, 431, 500).
  using ErrorBody = std::function<void(int status, std::string_view message, httplib::Response&)>;

  HttpFront(HttpFrontOptions options, Handler handler, BodyLimit body_limit, ErrorBody error_body);
  ~HttpFront();
  HttpFront(const HttpFront&) = delete;
  HttpFront& operator=(const HttpFront&) = delete;

  // Listens; returns the port.
  absl::StatusOr<int> Bind();
  // Serves until Stop() (the event loop on the calling thread and io_threads - 1 more).
  void Run();
  // Stops accepting, lets open streams end (their providers must return), and returns once the
  // handlers running have finished. Idempotent.
  void Stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Whether an Accept-Encoding header value takes gzip (a `gzip` or `*` coding without q=0).
bool AcceptsGzip(std::string_view accept_encoding);
// The charset parameter of a Content-Type value ("application/x-ndjson; charset=GBK" -> "GBK"),
// without quotes; "" when there is none.
std::string CharsetOf(std::string_view content_type);
// The media type of a Content-Type value, lower case, without parameters ("Text/CSV; charset=GBK"
// -> "text/csv").
std::string MediaTypeOf(std::string_view content_type);
// The bytes a gzip (RFC 1952) body stands for, members one after another included; an
// InvalidArgument error when it is not gzip or is cut short, ResourceExhausted when it would
// inflate to more than `max_bytes` (checked as it inflates: a small body of zeros is refused
// without the memory it names).
absl::StatusOr<std::string> Gunzip(std::string_view data, size_t max_bytes);
// Whether answers of this Content-Type are worth compressing.
bool Compressible(std::string_view content_type);
// The gzip (RFC 1952) form of `data`, at zlib's default level.
std::string Gzip(std::string_view data);

// The built web app's files, read once and kept with their gzip form.
class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path root);
  // Answers a GET of `path` ("/", "/assets/x.js") from the root, gzipped when `gzip` and the
  // type compresses: a directory answers its index.html; a path that is not a file, or that
  // leaves the root, answers false. Hashed assets (/assets/) may be cached for a year; the rest
  // must be revalidated. A file changed on disk is read again.
  bool Serve(std::string_view path, bool gzip, httplib::Response& response) const;

 private:
  struct Cache;
  std::filesystem::path root_;
  std::shared_ptr<Cache> cache_;
};

}  // namespace pingan::server_internal
