#include "server/http_front.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <future>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "core/strings.h"

namespace pingan::server_internal {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr size_t kReadChunk = 16 << 10;
constexpr size_t kMinGzipBytes = 256;  // smaller answers are not worth a gzip header
constexpr size_t kDrainBytes = 64 << 20;  // read and dropped after an early refusal, at most
constexpr std::chrono::seconds kDrainTime{2};

// Pieces of `text` between `separator`s.
std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> pieces;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    pieces.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return pieces;
    start = end + 1;
  }
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return lower;
}

bool IsParseError(const beast::error_code& ec) { return ec.category() == http::make_error_code(http::error::bad_target).category(); }

// A request target in origin form ("/path?query") into the request's path and params.
bool FillTarget(std::string_view target, httplib::Request& request) {
  if (target.empty() || target.front() != '/') return false;
  request.target = std::string(target);
  const size_t query = target.find('?');
  request.path = httplib::detail::decode_url(std::string(target.substr(0, query)), false);
  if (query != std::string_view::npos) {
    httplib::detail::parse_query_text(std::string(target.substr(query + 1)), request.params);
  }
  return true;
}

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
  for (std::string_view item : Split(accept_encoding, ',')) {
    const std::vector<std::string_view> parts = Split(item, ';');
    const std::string coding = Lower(Trim(parts[0]));
    if (coding != "gzip" && coding != "x-gzip" && coding != "*") continue;
    bool refused = false;
    for (size_t i = 1; i < parts.size(); ++i) {
      std::string_view param = Trim(parts[i]);
      if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        param.remove_prefix(2);
        refused = !param.empty() && std::all_of(param.begin(), param.end(), [](char c) { return c == '0' || c == '.'; });
      }
    }
    if (!refused) return true;
  }
  return false;
}

std::string CharsetOf(std::string_view content_type) {
  const std::vector<std::string_view> parts = Split(content_type, ';');
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view param = Trim(parts[i]);
    const size_t equals = param.find('=');
    if (equals == std::string_view::npos || Lower(Trim(param.substr(0, equals))) != "charset") continue;
    std::string_view value = Trim(param.substr(equals + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    return std::string(value);
  }
  return "";
}

std::string MediaTypeOf(std::string_view content_type) {
  return Lower(Trim(content_type.substr(0, content_type.find(';'))));
}

bool Compressible(std::string_view content_type) {
  const std::string type = Lower(Trim(content_type.substr(0, content_type.find(';'))));
  if (type == "text/event-stream") return false;
  if (type.rfind("text/", 0) == 0) return true;
  if (type.size() > 5 && (type.ends_with("+json") || type.ends_with("+xml"))) return true;
  return type == "application/json" || type == "application/javascript" || type == "application/xml" ||
         type == "image/svg+xml" || type == "image/x-icon";
}

std::string Gzip(std::string_view data) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(rc == Z_STREAM_END ? z.total_out : 0);
  deflateEnd(&z);
  return out;
}

absl::StatusOr<std::string> Gunzip(std::string_view data, size_t max_bytes) {
  if (data.size() > std::numeric_limits<uInt>::max()) return absl::InvalidArgumentError("the gzip body is too large");
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return absl::InternalError("zlib could not start inflating");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  std::array<char, 64 << 10> buffer;
  absl::Status status;
  while (status.ok()) {
    z.next_out = reinterpret_cast<Bytef*>(buffer.data());
    z.avail_out = static_cast<uInt>(buffer.size());
    const int rc = inflate(&z, Z_NO_FLUSH);
    const size_t produced = buffer.size() - z.avail_out;
    if (produced > max_bytes - out.size()) {
      status = absl::ResourceExhaustedError(Cat("the gzip body inflates to over ", max_bytes, " bytes"));
      break;
    }
    out.append(buffer.data(), produced);
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      if (inflateReset(&z) != Z_OK) status = absl::InternalError("zlib could not go on to the next member");
      continue;  // RFC 1952: a gzip file may hold several members one after another
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && z.avail_in == 0) {
      status = absl::InvalidArgumentError("the gzip body is cut short");
    } else {
      status = absl::InvalidArgumentError(Cat("the body is not valid gzip (", z.msg != nullptr ? z.msg : "zlib error", ")"));
    }
  }
  inflateEnd(&z);
  if (!status.ok()) return status;
  return out;
}

// --- the front -------------------------------------------------------------------------------

struct HttpFront::Impl {
  HttpFrontOptions options;
  Handler handler;
  BodyLimit body_limit;
  ErrorBody error_body;

  std::atomic<size_t> connections{0};
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::condition_variable changed;
  int streams = 0;       // guarded by mutex
  bool running = false;  // Run() has not returned; guarded by mutex

  // Declared after the counters the sessions touch when the loop destroys them.
  // One event loop per thread, each connection on one of them (no strands, no shared queue).
  using WorkGuard = net::executor_work_guard<net::io_context::executor_type>;
  int io_threads;
  std::vector<std::unique_ptr<net::io_context>> loops;
  std::vector<WorkGuard> guards;  // a loop without connections keeps running
  size_t next_loop = 0;           // the acceptor's (it runs on loops[0])
  tcp::acceptor acceptor;
  net::steady_timer accept_retry;  // after a failed accept (on loops[0], with the acceptor)
  net::thread_pool pool;  // blocking handlers

  Impl(HttpFrontOptions options, Handler handler, BodyLimit body_limit, ErrorBody error_body)
      : options(std::move(options)),
        handler(std::move(handler)),
        body_limit(std::move(body_limit)),
        error_body(std::move(error_body)),
        io_threads(this->options.io_threads > 0
                       ? this->options.io_threads
                       : std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 2, 8)),
        loops(MakeLoops(io_threads)),
        acceptor(*loops[0]),
        accept_retry(*loops[0]),
        pool(static_cast<size_t>(std::max(1, this->options.threads))) {
    for (auto& loop : loops) guards.push_back(net::make_work_guard(*loop));
  }

  static std::vector<std::unique_ptr<net::io_context>> MakeLoops(int count) {
    std::vector<std::unique_ptr<net::io_context>> loops;
    for (int i = 0; i < count; ++i) loops.push_back(std::make_unique<net::io_context>(1));
    return loops;
  }

  bool Blocking(const httplib::Request& request) const {
    return options.blocking ? options.blocking(request) : request.method == "POST";
  }

  void Accept();
  void StreamEnded() {
    std::lock_guard lock(mutex);
    --streams;
    changed.notify_all();
  }
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpFront::Impl& front, tcp::socket socket) : front_(front), stream_(std::move(socket)) {
    beast::error_code ec;
    const tcp::endpoint peer = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      remote_addr_ = peer.address().to_string();
      remote_port_ = peer.port();
    }
  }
  ~Session() { front_.connections.fetch_sub(1); }

  void Start() { WaitForRequest(); }

 private:
  // An idle connection waits keep_alive_timeout for the next request to begin.
  void WaitForRequest() {
    if (front_.stopping) return Close();
    if (buffer_.size() > 0) return ReadHeader();
    stream_.expires_after(front_.options.keep_alive_timeout);
    stream_.async_read_some(buffer_.prepare(kReadChunk), [self = shared_from_this()](beast::error_code ec, size_t n) {
      if (ec) return self->Close();
      self->buffer_.commit(n);
      self->ReadHeader();
    });
  }

  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(front_.options.max_header_bytes));
    // The route's bound is known after the header. (Beast 1.74 compares a Content-Length with an
    // unset limit as if the limit were below it: the largest number stands for none.)
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    stream_.expires_after(front_.options.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec == http::error::header_limit) return Refuse(431, "the request's headers are too large");
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return Close();
    if (ec && IsParseError(ec)) return Refuse(400, "the request could not be read: " + ec.message());
    if (ec) return Close();
    const auto& head = parser_->get();
    request_ = std::make_unique<httplib::Request>();
    httplib::Request& request = *request_;
    if (!FillTarget(std::string_view(head.target().data(), head.target().size()), request)) return Refuse(400, "the request target must be a path");
    request.method = std::string(head.method_string());
    head_only_ = request.method == "HEAD";
    if (head_only_) request.method = "GET";
    request.version = head.version() == 10 ? "HTTP/1.0" : "HTTP/1.1";
    for (const auto& field : head) request.headers.emplace(std::string(field.name_string()), std::string(field.value()));
    request.remote_addr = remote_addr_;
    request.remote_port = remote_port_;
    version_ = head.version();
    keep_alive_ = head.keep_alive();
    gzip_ = AcceptsGzip(request.get_header_value("Accept-Encoding"));
    const bool has_length = parser_->content_length().has_value() || parser_->chunked();
    if (!has_length && (request.method == "POST" || request.method == "PUT" || request.method == "PATCH")) {
      return Refuse(411, "send a Content-Length (an empty body: 0)");
    }
    const size_t limit = front_.body_limit(request);
    if (parser_->content_length() && *parser_->content_length() > limit) {
      return Refuse(413, Cat("the body is over ", limit, " bytes"));
    }
    if (parser_->is_done()) return Dispatch();
    parser_->body_limit(limit);
    if (Lower(request.get_header_value("Expect")) == "100-continue") {
      continue_.emplace(http::status::continue_, version_);
      stream_.expires_after(front_.options.write_timeout);
      return http::async_write(stream_, *continue_, [self = shared_from_this()](beast::error_code ec, size_t) {
        self->continue_.reset();
        if (ec) return self->Close();
        self->ReadBody();
      });
    }
    ReadBody();
  }

  void ReadBody() {
    stream_.expires_after(front_.options.read_timeout);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec == http::error::body_limit) return self->Refuse(413, "the body is too large");
      if (ec && IsParseError(ec) && ec != http::error::end_of_stream && ec != http::error::partial_message) {
        return self->Refuse(400, "the request could not be read: " + ec.message());
      }
      if (ec) return self->Close();
      self->Dispatch();
    });
  }

  void Dispatch() {
    request_->body = std::move(parser_->get().body());
    parser_.reset();
    if (!front_.Blocking(*request_)) {
      Handle();
      return Answer();
    }
    net::post(front_.pool, [self = shared_from_this()] {
      self->Handle();
      net::post(self->stream_.get_executor(), [self] { self->Answer(); });
    });
  }

  void Handle() {
    response_ = std::make_unique<httplib::Response>();
    try {
      front_.handler(*request_, *response_);
    } catch (...) {
      response_ = std::make_unique<httplib::Response>();
      front_.error_body(500, "internal error", *response_);
    }
    request_.reset();
  }

  void Answer() {
    std::unique_ptr<httplib::Response> response = std::move(response_);
    if (response->content_provider_) return StartStream(std::move(response));
    Send(*response, keep_alive_ && !front_.stopping);
  }

  // The front's own refusal: the answer, then the connection closed (its body is not read).
  void Refuse(int status, std::string_view message) {
    parser_.reset();
    request_.reset();
    httplib::Response response;
    front_.error_body(status, message, response);
    if (version_ == 0) version_ = 11;
    Send(response, false, /*linger=*/true);
  }

  void Send(httplib::Response& response, bool keep_alive, bool linger = false) {
    answer_.emplace();
    auto& answer = *answer_;
    answer.version(version_ == 0 ? 11 : version_);
    answer.result(static_cast<unsigned>(response.status > 0 ? response.status : 200));
    for (const auto& [name, value] : front_.options.default_headers) {
      if (!response.has_header(name)) answer.set(name, value);
    }
    for (const auto& [name, value] : response.headers) answer.insert(name, value);
    std::string body = std::move(response.body);
    if (gzip_ && body.size() >= kMinGzipBytes && !response.has_header("Content-Encoding") &&
        Compressible(response.get_header_value("Content-Type"))) {
      std::string packed = Gzip(body);
      if (!packed.empty() && packed.size() < body.size()) {
        body = std::move(packed);
        answer.set(http::field::content_encoding, "gzip");
        answer.set(http::field::vary, "Accept-Encoding");
      }
    }
    answer.keep_alive(keep_alive);
    const unsigned status = answer.result_int();
    if (status == 204 || status == 304 || (status >= 100 && status < 200)) {
      // No body, and no length.
    } else if (head_only_) {
      answer.content_length(body.size());
    } else {
      answer.body() = std::move(body);
      answer.prepare_payload();
    }
    stream_.expires_after(front_.options.write_timeout);
    http::async_write(stream_, answer, [self = shared_from_this(), keep_alive, linger](beast::error_code ec, size_t) {
      self->answer_.reset();
      self->head_only_ = false;
      if (ec) return self->Close();
      if (linger) return self->Linger();
      if (!keep_alive) return self->Close();
      self->WaitForRequest();
    });
  }

  // After an early refusal the client may still be sending its body: read and drop it for a
  // while, so that closing does not reset the connection before the client reads the answer.
  void Linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kDrainTime);
    Drain();
  }
  void Drain() {
    buffer_.consume(buffer_.size());
    stream_.async_read_some(buffer_.prepare(kReadChunk), [self = shared_from_this()](beast::error_code ec, size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kDrainBytes) return self->Close();
      self->Drain();
    });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  // --- streams (chunked content providers: Server-Sent Events) ---------------------------------

  void StartStream(std::unique_ptr<httplib::Response> response) {
    {
      std::lock_guard lock(front_.mutex);
      ++front_.streams;
    }
    HttpFront::Impl* front = &front_;
    std::thread([self = shared_from_this(), front, response = std::move(response)]() mutable {
      self->RunStream(*response);
      response.reset();  // its resource releaser runs here
      self.reset();
      front->StreamEnded();
    }).detach();
  }

  // Runs `initiate(handler)` on the connection's loop and waits for the handler.
  template <class Initiate>
  bool OnLoop(Initiate initiate) {
    std::promise<bool> promise;
    std::future<bool> done = promise.get_future();
    net::post(stream_.get_executor(), [this, &promise, &initiate] {
      stream_.expires_after(front_.options.write_timeout);
      initiate([&promise](beast::error_code ec, size_t) { promise.set_value(!ec); });
    });
    return done.get();
  }

  void RunStream(httplib::Response& response) {
    http::response<http::empty_body> head{static_cast<http::status>(response.status > 0 ? response.status : 200),
                                          version_};
    for (const auto& [name, value] : front_.options.default_headers) {
      if (!response.has_header(name)) head.set(name, value);
    }
    for (const auto& [name, value] : response.headers) head.insert(name, value);
    head.keep_alive(false);
    head.chunked(true);
    http::response_serializer<http::empty_body> serializer{head};
    bool ok = OnLoop([&](auto handler) { http::async_write_header(stream_, serializer, std::move(handler)); });
    bool more = true;
    size_t offset = 0;
    httplib::DataSink sink;
    sink.write = [&](const char* data, size_t size) {
      if (!ok) return false;
      if (size == 0) return true;  // an empty chunk would end the stream
      const auto chunk = http::make_chunk(net::const_buffer(data, size));
      ok = OnLoop([&](auto handler) { net::async_write(stream_, chunk, std::move(handler)); });
      if (ok) offset += size;
      return ok;
    };
    sink.is_writable = [&] { return ok && !front_.stopping; };
    sink.done = [&] {
      if (!more) return;
      more = false;
      const auto last = http::make_chunk_last();
      ok = ok && OnLoop([&](auto handler) { net::async_write(stream_, last, std::move(handler)); });
    };
    while (ok && more) {
      if (!response.content_provider_(offset, 0, sink)) ok = false;
    }
    response.content_provider_success_ = ok && !more;
    std::promise<void> closed;
    net::post(stream_.get_executor(), [this, &closed] {
      Close();
      closed.set_value();
    });
    closed.get_future().wait();
  }

  HttpFront::Impl& front_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::unique_ptr<httplib::Request> request_;
  std::unique_ptr<httplib::Response> response_;  // between a blocking handler and its answer
  std::optional<http::response<http::string_body>> answer_;
  std::optional<http::response<http::empty_body>> continue_;
  std::string remote_addr_;
  int remote_port_ = -1;
  unsigned version_ = 0;
  bool keep_alive_ = false;
  bool head_only_ = false;
  bool gzip_ = false;
  size_t drained_ = 0;
};

}  // namespace

void HttpFront::Impl::Accept() {
  net::io_context& loop = *loops[next_loop++ % loops.size()];
  acceptor.async_accept(loop, [this](beast::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open() || stopping) return;
    if (ec) {
      // Out of descriptors (EMFILE) or another failure that a retry at once would meet again:
      // wait a little instead of spinning on it.
      accept_retry.expires_after(std::chrono::milliseconds(50));
      accept_retry.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && !stopping) Accept();
      });
      return;
    }
    {
      if (connections.fetch_add(1) >= options.max_connections) {
        connections.fetch_sub(1);
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<Session>(*this, std::move(socket))->Start();
      }
    }
    Accept();
  });
}

HttpFront::HttpFront(HttpFrontOptions options, Handler handler, BodyLimit body_limit, ErrorBody error_body)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), std::move(body_limit), std::move(error_body))) {}

HttpFront::~HttpFront() { Stop(); }

absl::StatusOr<int> HttpFront::Bind() {
  Impl& impl = *impl_;
  const auto refused = [&](std::string_view why) {
    return absl::FailedPreconditionError(
        Cat("cannot listen on ", impl.options.host, ":", impl.options.port, " (", why, ")"));
  };
  beast::error_code ec;
  tcp::resolver resolver(*impl.loops[0]);
  const auto found = resolver.resolve(impl.options.host, std::to_string(impl.options.port),
                                      tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || found.empty()) return refused("not an address here");
  const tcp::endpoint endpoint = found.begin()->endpoint();
  impl.acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl.acceptor.bind(endpoint, ec);
  if (!ec) impl.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    impl.acceptor.close(ignored);
    return refused(ec == net::error::address_in_use ? "in use" : ec.message());
  }
  return static_cast<int>(impl.acceptor.local_endpoint().port());
}

void HttpFront::Run() {
  Impl& impl = *impl_;
  {
    std::lock_guard lock(impl.mutex);
    if (impl.stopping) return;
    impl.running = true;
  }
  impl.Accept();
  std::vector<std::thread> threads;
  for (size_t i = 1; i < impl.loops.size(); ++i) threads.emplace_back([&impl, i] { impl.loops[i]->run(); });
  impl.loops[0]->run();
  for (std::thread& thread : threads) thread.join();
  std::lock_guard lock(impl.mutex);
  impl.running = false;
  impl.changed.notify_all();
}

void HttpFront::Stop() {
  if (!impl_) return;
  Impl& impl = *impl_;
  if (impl.stopping.exchange(true)) {
    std::unique_lock lock(impl.mutex);
    impl.changed.wait(lock, [&] { return !impl.running; });
    return;
  }
  std::promise<void> closed;
  net::post(impl.acceptor.get_executor(), [&impl, &closed] {
    beast::error_code ignored;
    impl.acceptor.close(ignored);
    closed.set_value();
  });
  std::unique_lock lock(impl.mutex);
  if (impl.running) {
    lock.unlock();
    closed.get_future().wait();
    lock.lock();
  } else {
    lock.unlock();
    beast::error_code ignored;
    impl.acceptor.close(ignored);
    lock.lock();
  }
  // Streams end when their providers return (the server closes their feeds first); their last
  // writes need the loop.
  impl.changed.wait(lock, [&] { return impl.streams == 0; });
  lock.unlock();
  impl.pool.join();  // the blocking handlers running
  lock.lock();
  for (auto& guard : impl.guards) guard.reset();
  for (auto& loop : impl.loops) loop->stop();
  impl.changed.wait(lock, [&] { return !impl.running; });
}

// --- static files ----------------------------------------------------------------------------

struct StaticFiles::Cache {
  struct Entry {
    int64_t mtime_ns = 0;
    int64_t size = 0;
    std::string type;
    std::string body;
    std::string gzipped;  // empty: not compressible
  };
  std::mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<const Entry>> entries;
};

namespace {

std::string ContentType(const std::filesystem::path& file) {
  static const std::unordered_map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},          {".map", "application/json"},
      {".svg", "image/svg+xml"},              {".png", "image/png"},
      {".jpg", "image/jpeg"},                 {".jpeg", "image/jpeg"},
      {".ico", "image/x-icon"},               {".webp", "image/webp"},
      {".woff2", "font/woff2"},               {".woff", "font/woff"},
      {".txt", "text/plain; charset=utf-8"},  {".webmanifest", "application/manifest+json"},
      {".geojson", "application/geo+json"},
  };
  const auto it = kTypes.find(Lower(file.extension().string()));
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

}  // namespace

StaticFiles::StaticFiles(std::filesystem::path root) : root_(std::move(root)), cache_(std::make_shared<Cache>()) {}

bool StaticFiles::Serve(std::string_view path, bool gzip, httplib::Response& response) const {
  if (path.empty() || path.front() != '/' || path.size() > 1024) return false;
  std::filesystem::path file = root_;
  for (std::string_view segment : Split(path.substr(1), '/')) {
    if (segment.empty() || segment == ".") continue;
    if (segment == ".." || segment.find('\0') != std::string_view::npos || segment.find('\\') != std::string_view::npos) {
      return false;
    }
    file /= std::string(segment);
  }
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) return false;
  if (S_ISDIR(info.st_mode)) {
    file /= "index.html";
    if (::stat(file.c_str(), &info) != 0) return false;
  }
  if (!S_ISREG(info.st_mode)) return false;
  const int64_t mtime_ns = static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
  std::shared_ptr<const Cache::Entry> entry;
  {
    std::lock_guard lock(cache_->mutex);
    const auto it = cache_->entries.find(file.string());
    if (it != cache_->entries.end() && it->second->mtime_ns == mtime_ns && it->second->size == info.st_size) {
      entry = it->second;
    }
  }
  if (!entry) {
    auto fresh = std::make_shared<Cache::Entry>();
    std::ifstream in(file, std::ios::binary);
    if (!in) return false;
    fresh->body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    fresh->mtime_ns = mtime_ns;
    fresh->size = static_cast<int64_t>(fresh->body.size());
    fresh->type = ContentType(file);
    if (Compressible(fresh->type) && fresh->body.size() >= kMinGzipBytes) {
      std::string packed = Gzip(fresh->body);
      if (packed.size() < fresh->body.size()) fresh->gzipped = std::move(packed);
    }
    entry = fresh;
    std::lock_guard lock(cache_->mutex);
    cache_->entries[file.string()] = entry;
  }
  response.status = 200;
  response.set_header("Content-Type", entry->type);
  const bool immutable = path.rfind("/assets/", 0) == 0;
  response.set_header("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (!entry->gzipped.empty()) response.set_header("Vary", "Accept-Encoding");
  if (gzip && !entry->gzipped.empty()) {
    response.set_header("Content-Encoding", "gzip");
    response.body = entry->gzipped;
  } else {
    response.body = entry->body;
  }
  return true;
}

}  // namespace pingan::server_internal
