// The HTTP front of `pingan serve` (server/http_front.h) at the level of bytes on a socket:
// keep-alive and pipelining, what it refuses before a handler sees it, gzip, streams, blocking
// handlers, timeouts and bounds; and the web app's static files.

#include "server/http_front.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <boost/beast/http.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace pingan::server_internal {
namespace {

namespace http = boost::beast::http;
using ::testing::HasSubstr;
using Response = http::response<http::string_body>;

std::string Gunzip(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 32), Z_OK);
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  char buffer[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof buffer;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - z.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  inflateEnd(&z);
  return out;
}

// Text that compresses, but not to nothing.
std::string Text(size_t bytes) {
  std::string text;
  for (size_t i = 0; text.size() < bytes; ++i) text += "{\"id\":" + std::to_string(i * 7919 % 1000) + ",\"v\":\"西湖\"},";
  text.resize(bytes);
  return text;
}

// A client on a plain socket (with a receive timeout, so a test cannot hang), parsing answers
// with Beast's parser.
class Connection {
 public:
  explicit Connection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{.tv_sec = 10, .tv_usec = 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~Connection() { ::close(fd_); }
  bool connected() const { return connected_; }

  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // The next answer; nullopt when the connection closed (or timed out) first.
  std::optional<Response> Read(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    parser.skip(head);
    boost::beast::error_code ec;
    bool need_more = pending_.empty();
    while (!parser.is_done()) {
      if (need_more) {
        char buffer[65536];
        const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n <= 0) {
          if (n == 0 && parser.is_header_done()) parser.put_eof(ec);
          if (parser.is_done() && !ec) break;
          return std::nullopt;
        }
        pending_.append(buffer, static_cast<size_t>(n));
      }
      const size_t used = parser.put(boost::asio::buffer(pending_), ec);
      pending_.erase(0, used);
      need_more = ec == http::error::need_more || (used == 0 && !parser.is_done());
      if (ec && ec != http::error::need_more) return std::nullopt;
      ec = {};
    }
    return parser.release();
  }

  // What one receive returns ("" when closed or timed out).
  std::string ReadRaw() {
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
  }

  // Whether the server closed the connection (reads end) within the receive timeout.
  bool Closed() {
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;
};

// A front on a free port, serving until the test ends.
class Front {
 public:
  Front(HttpFront::Handler handler, HttpFrontOptions options = {}) {
    options.port = 0;
    front_ = std::make_unique<HttpFront>(
        std::move(options), std::move(handler),
        [](const httplib::Request& request) -> size_t { return request.path == "/big" ? (1 << 20) : 1000; },
        [](int status, std::string_view message, httplib::Response& response) {
          response.status = status;
          response.set_content("{\"error\":{\"code\":" + std::to_string(status) + ",\"message\":\"" +
                                   std::string(message) + "\"}}",
                               "application/json");
        });
    auto port = front_->Bind();
    EXPECT_TRUE(port.ok()) << port.status();
    port_ = port.ok() ? *port : 0;
    thread_ = std::thread([this] { front_->Run(); });
  }
  ~Front() {
    front_->Stop();
    thread_.join();
  }
  int port() const { return port_; }
  HttpFront& front() { return *front_; }

 private:
  std::unique_ptr<HttpFront> front_;
  std::thread thread_;
  int port_ = 0;
};

// Echoes the method, the decoded path, parameter q and the body.
void Echo(httplib::Request& request, httplib::Response& response) {
  response.status = 200;
  response.set_content(request.method + " " + request.path + " q=" + request.get_param_value("q") + " body=" + request.body,
                       "text/plain");
}

TEST(HttpFrontHeadersTest, GunzipInflatesWholeBodiesWithinABound) {
  const std::string text = "一行记录\n" + std::string(100000, 'x') + "\n";
  const std::string gz = Gzip(text);
  ASSERT_FALSE(gz.empty());
  EXPECT_EQ(pingan::server_internal::Gunzip(gz, 1 << 20).value(), text);
  // Two members one after another (what `cat a.gz b.gz` makes) are one body.
  EXPECT_EQ(pingan::server_internal::Gunzip(gz + Gzip("more\n"), 1 << 20).value(), text + "more\n");
  // Over the bound, whatever the body's own size: refused as it inflates.
  const std::string zeros = Gzip(std::string(8 << 20, '\0'));
  ASSERT_LT(zeros.size(), 100000u);
  absl::StatusOr<std::string> bomb = pingan::server_internal::Gunzip(zeros, 1 << 20);
  EXPECT_EQ(bomb.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(bomb.status().message()), HasSubstr("over 1048576 bytes"));
  EXPECT_EQ(pingan::server_internal::Gunzip(text, 1 << 20).status().code(), absl::StatusCode::kInvalidArgument);  // not gzip
  absl::StatusOr<std::string> cut = pingan::server_internal::Gunzip(gz.substr(0, gz.size() / 2), 1 << 20);
  EXPECT_EQ(cut.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(cut.status().message()), HasSubstr("cut short"));
  EXPECT_EQ(pingan::server_internal::Gunzip("", 1 << 20).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(pingan::server_internal::Gunzip(gz + "garbage", 1 << 20).status().code(), absl::StatusCode::kInvalidArgument);
  // A corrupted byte in the middle fails the check, not silently.
  std::string corrupt = gz;
  corrupt[corrupt.size() / 2] ^= 0x55;
  EXPECT_FALSE(pingan::server_internal::Gunzip(corrupt, 1 << 20).ok());
}

TEST(HttpFrontHeadersTest, TheMediaTypeOfAContentType) {
  EXPECT_EQ(MediaTypeOf("Text/CSV; charset=GBK"), "text/csv");
  EXPECT_EQ(MediaTypeOf("  application/x-ndjson "), "application/x-ndjson");
  EXPECT_EQ(MediaTypeOf(""), "");
}

TEST(HttpFrontHeadersTest, TheCharsetOfAContentType) {
  EXPECT_EQ(CharsetOf("application/x-ndjson; charset=GBK"), "GBK");
  EXPECT_EQ(CharsetOf("application/x-ndjson;Charset=\"gb18030\" ; x=1"), "gb18030");
  EXPECT_EQ(CharsetOf("text/csv; header=present; charset=utf-8"), "utf-8");
  EXPECT_EQ(CharsetOf("application/x-ndjson"), "");
  EXPECT_EQ(CharsetOf("application/x-ndjson; charsets=gbk"), "");
  EXPECT_EQ(CharsetOf(""), "");
  EXPECT_EQ(CharsetOf("charset=gbk"), "");  // the media type, not a parameter
}

TEST(HttpFrontHeadersTest, GzipIsChosenByTheClientAndTheType) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("GZIP"));
  EXPECT_TRUE(AcceptsGzip("deflate, gzip;q=1.0, br"));
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_TRUE(AcceptsGzip("gzip; q=0.5"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("br, deflate"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0.000, identity"));
  EXPECT_FALSE(AcceptsGzip("gzipx"));

  EXPECT_TRUE(Compressible("application/json"));
  EXPECT_TRUE(Compressible("text/html; charset=utf-8"));
  EXPECT_TRUE(Compressible("application/geo+json"));
  EXPECT_TRUE(Compressible("Image/SVG+XML"));
  EXPECT_FALSE(Compressible("text/event-stream"));
  EXPECT_FALSE(Compressible("image/png"));
  EXPECT_FALSE(Compressible("application/octet-stream"));

  for (const std::string& text : {std::string(), std::string("x"), Text(200000)}) {
    const std::string packed = Gzip(text);
    ASSERT_GE(packed.size(), 18u);  // a gzip header and trailer at least
    EXPECT_EQ(static_cast<unsigned char>(packed[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>(packed[1]), 0x8b);
    EXPECT_EQ(Gunzip(packed), text);
  }
  EXPECT_LT(Gzip(Text(200000)).size(), 200000u / 4);
}

TEST(HttpFrontTest, KeepAliveAndPipelinedRequestsAreAnsweredInOrder) {
  Front front(Echo);
  Connection client(front.port());
  ASSERT_TRUE(client.connected());
  // Two requests in one write, the second with a body; then a HEAD on the same connection.
  ASSERT_TRUE(client.Send("GET /one?q=%E8%A5%BF%E6%B9%96+x HTTP/1.1\r\nHost: a\r\n\r\n"
                          "POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"));
  auto first = client.Read();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->result_int(), 200);
  EXPECT_EQ(first->body(), "GET /one q=西湖 x body=");
  EXPECT_TRUE(first->keep_alive());
  auto second = client.Read();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->body(), "POST /two q= body=hello");
  ASSERT_TRUE(client.Send("HEAD /three HTTP/1.1\r\nHost: a\r\n\r\n"));
  auto head = client.Read(/*head=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->result_int(), 200);
  EXPECT_EQ((*head)[http::field::content_length], std::to_string(std::string("GET /three q= body=").size()));
  EXPECT_TRUE(head->body().empty());
  // A chunked body is read whole; then the client closes.
  ASSERT_TRUE(client.Send("POST /four HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                          "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  auto fourth = client.Read();
  ASSERT_TRUE(fourth);
  EXPECT_EQ(fourth->body(), "POST /four q= body=abcde");
  EXPECT_FALSE(fourth->keep_alive());
  EXPECT_TRUE(client.Closed());
}

TEST(HttpFrontTest, RefusesMalformedAndOversizedRequestsBeforeTheHandler) {
  std::atomic<int> calls{0};
  Front front([&](httplib::Request& request, httplib::Response& response) {
    ++calls;
    Echo(request, response);
  });
  struct Case {
    std::string bytes;
    int status;
    const char* why;
  };
  const std::vector<Case> cases = {
      {"POST /x HTTP/1.1\r\nHost: a\r\n\r\n", 411, "a POST without a length"},
      // Declared over the bound (1000 bytes): refused before the body, which is never sent.
      {"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n", 413, "a declared body over the bound"},
      {"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" + std::string(0x800, 'x') + "\r\n0\r\n\r\n",
       413, "a chunked body over the bound"},
      {"GET /x HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(20000, 'h') + "\r\n\r\n", 431, "headers over 16 KiB"},
      {"GARBAGE\r\n\r\n", 400, "not a request line"},
      {"GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: nope\r\n\r\n", 400, "a length that is not a number"},
      {"GET http://example.com/x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "a target that is not a path"},
      {"GET /x HTTP/1.1\r\nBad Header\r\n\r\n", 400, "a header without a colon"},
  };
  for (const Case& test : cases) {
    Connection client(front.port());
    ASSERT_TRUE(client.Send(test.bytes)) << test.why;
    auto answer = client.Read();
    ASSERT_TRUE(answer) << test.why;
    EXPECT_EQ(answer->result_int(), test.status) << test.why;
    EXPECT_THAT(answer->body(), HasSubstr("\"error\"")) << test.why;
    EXPECT_FALSE(answer->keep_alive()) << test.why;
    EXPECT_TRUE(client.Closed()) << test.why;
  }
  EXPECT_EQ(calls.load(), 0);
  // A route with a larger bound takes the same body.
  Connection client(front.port());
  ASSERT_TRUE(client.Send("POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'y')));
  auto answer = client.Read();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->result_int(), 200);
  EXPECT_EQ(calls.load(), 1);
}

TEST(HttpFrontTest, ExpectContinueGetsAnInterimAnswerBeforeTheBody) {
  Front front(Echo);
  Connection client(front.port());
  ASSERT_TRUE(client.Send("POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  auto interim = client.Read();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->result_int(), 100);
  ASSERT_TRUE(client.Send("data"));
  auto answer = client.Read();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->result_int(), 200);
  EXPECT_EQ(answer->body(), "POST /x q= body=data");
}

TEST(HttpFrontTest, AnswersAreGzippedWhenTheClientTakesItAndTheTypeCompresses) {
  const std::string json = Text(20000);
  Front front([&](httplib::Request& request, httplib::Response& response) {
    if (request.path == "/png") {
      response.set_content(std::string(5000, 'p'), "image/png");
    } else if (request.path == "/small") {
      response.set_content("{}", "application/json");
    } else {
      response.set_content(json, "application/json");
    }
  });
  Connection client(front.port());
  ASSERT_TRUE(client.Send("GET /json HTTP/1.1\r\nHost: a\r\nAccept-Encoding: br, gzip\r\n\r\n"));
  auto packed = client.Read();
  ASSERT_TRUE(packed);
  EXPECT_EQ((*packed)[http::field::content_encoding], "gzip");
  EXPECT_EQ((*packed)[http::field::vary], "Accept-Encoding");
  EXPECT_LT(packed->body().size(), json.size() / 3);
  EXPECT_EQ(Gunzip(packed->body()), json);
  for (const char* request : {"GET /json HTTP/1.1\r\nHost: a\r\n\r\n",
                              "GET /json HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip;q=0\r\n\r\n",
                              "GET /png HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n",
                              "GET /small HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n"}) {
    ASSERT_TRUE(client.Send(request));
    auto plain = client.Read();
    ASSERT_TRUE(plain) << request;
    EXPECT_EQ(plain->count(http::field::content_encoding), 0u) << request;
    EXPECT_NE(plain->body().find_first_not_of("p{}"), 0u) << request;
  }
}

TEST(HttpFrontTest, AHandlerThatThrowsAnswers500AndTheConnectionLives) {
  Front front([](httplib::Request& request, httplib::Response& response) {
    if (request.path == "/throw") throw std::runtime_error("boom");
    Echo(request, response);
  });
  Connection client(front.port());
  ASSERT_TRUE(client.Send("GET /throw HTTP/1.1\r\nHost: a\r\n\r\n"));
  auto failed = client.Read();
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->result_int(), 500);
  EXPECT_THAT(failed->body(), HasSubstr("internal error"));
  EXPECT_THAT(failed->body(), ::testing::Not(HasSubstr("boom")));
  ASSERT_TRUE(client.Send("GET /fine HTTP/1.1\r\nHost: a\r\n\r\n"));
  auto fine = client.Read();
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->result_int(), 200);
}

TEST(HttpFrontTest, ABlockingHandlerLeavesTheLoopFreeForOthers) {
  std::mutex mutex;
  std::condition_variable changed;
  bool entered = false, released = false;
  HttpFrontOptions options;
  options.io_threads = 1;  // one loop: a GET must not wait for the blocked POST
  options.threads = 2;
  Front front(
      [&](httplib::Request& request, httplib::Response& response) {
        if (request.method == "POST") {
          std::unique_lock lock(mutex);
          entered = true;
          changed.notify_all();
          changed.wait(lock, [&] { return released; });
        }
        Echo(request, response);
      },
      options);
  Connection blocked(front.port());
  ASSERT_TRUE(blocked.Send("POST /wait HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"));
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(10), [&] { return entered; }));
  }
  Connection other(front.port());
  ASSERT_TRUE(other.Send("GET /now HTTP/1.1\r\nHost: a\r\n\r\n"));
  auto now = other.Read();
  ASSERT_TRUE(now);
  EXPECT_EQ(now->body(), "GET /now q= body=");
  {
    std::lock_guard lock(mutex);
    released = true;
  }
  changed.notify_all();
  auto waited = blocked.Read();
  ASSERT_TRUE(waited);
  EXPECT_EQ(waited->body(), "POST /wait q= body=");
}

TEST(HttpFrontTest, AStreamWritesItsChunksAndStopEndsAnOpenOne) {
  std::atomic<int> released{0};
  std::atomic<bool> finished_ok{false};
  Front front([&](httplib::Request& request, httplib::Response& response) {
    response.set_header("Cache-Control", "no-cache");
    if (request.path == "/short") {
      response.set_chunked_content_provider(
          "text/event-stream",
          [](size_t offset, httplib::DataSink& sink) {
            if (offset == 0) return sink.write("a", 1);
            if (offset == 1) return sink.write("", 0) && sink.write("bb", 2);
            sink.done();
            return true;
          },
          [&](bool ok) {
            finished_ok = ok;
            ++released;
          });
      return;
    }
    // Open until the front stops.
    response.set_chunked_content_provider(
        "text/event-stream",
        [](size_t offset, httplib::DataSink& sink) {
          if (offset == 0) return sink.write(": hello\n\n", 9);
          while (sink.is_writable()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
          return false;
        },
        [&](bool) { ++released; });
  });
  {
    Connection client(front.port());
    ASSERT_TRUE(client.Send("GET /short HTTP/1.1\r\nHost: a\r\n\r\n"));
    auto answer = client.Read();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->result_int(), 200);
    EXPECT_TRUE(answer->chunked());
    EXPECT_EQ((*answer)[http::field::content_type], "text/event-stream");
    EXPECT_EQ((*answer)[http::field::cache_control], "no-cache");
    EXPECT_EQ(answer->body(), "abb");
    EXPECT_TRUE(client.Closed());
  }
  Connection open(front.port());
  ASSERT_TRUE(open.Send("GET /open HTTP/1.1\r\nHost: a\r\n\r\n"));
  // The head and the first chunk arrive while the stream stays open.
  std::string seen;
  while (seen.find(": hello") == std::string::npos) {
    const std::string more = open.ReadRaw();
    ASSERT_FALSE(more.empty()) << seen;
    seen += more;
  }
  EXPECT_THAT(seen, HasSubstr("Transfer-Encoding: chunked"));
  const auto started = std::chrono::steady_clock::now();
  // Stop() returns once the open stream has ended.
  front.front().Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(released.load(), 2);
  EXPECT_TRUE(finished_ok.load());
}

TEST(HttpFrontTest, IdleConnectionsCloseAndConnectionsAreBounded) {
  HttpFrontOptions options;
  options.keep_alive_timeout = std::chrono::seconds(1);
  options.max_connections = 2;
  Front front(Echo, options);
  Connection first(front.port()), second(front.port());
  ASSERT_TRUE(first.Send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"));
  ASSERT_TRUE(second.Send("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"));
  ASSERT_TRUE(first.Read());
  ASSERT_TRUE(second.Read());
  // A third connection beyond the bound is closed at once.
  Connection third(front.port());
  EXPECT_TRUE(third.Closed());
  // The idle ones are closed after the keep-alive timeout.
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(first.Closed());
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(500));
  EXPECT_TRUE(second.Closed());
  // Their places are free again.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Connection fourth(front.port());
  ASSERT_TRUE(fourth.Send("GET /4 HTTP/1.1\r\nHost: a\r\n\r\n"));
  auto answer = fourth.Read();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->body(), "GET /4 q= body=");
}

TEST(StaticFilesTest, ServesTheAppGzippedAndNothingOutsideIt) {
  testing::TempDir dir;
  const auto root = dir.path() / "dist";
  const std::string script = Text(50000);
  std::filesystem::create_directories(root / "assets");
  std::ofstream(root / "index.html") << "<!doctype html><title>平安</title>";
  std::ofstream(root / "assets" / "app-1234.js") << script;
  std::ofstream(dir.path() / "secret.txt") << "not for you";
  StaticFiles files(root);

  httplib::Response index;
  ASSERT_TRUE(files.Serve("/", true, index));
  EXPECT_EQ(index.body, "<!doctype html><title>平安</title>");
  EXPECT_EQ(index.get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.get_header_value("Cache-Control"), "no-cache");

  httplib::Response packed;
  ASSERT_TRUE(files.Serve("/assets/app-1234.js", true, packed));
  EXPECT_EQ(packed.get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(packed.get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(Gunzip(packed.body), script);
  httplib::Response plain;
  ASSERT_TRUE(files.Serve("/assets/app-1234.js", false, plain));
  EXPECT_FALSE(plain.has_header("Content-Encoding"));
  EXPECT_EQ(plain.body, script);

  for (const char* path : {"/../secret.txt", "/assets/../../secret.txt", "/assets", "/nope.js", "assets/app-1234.js", "",
                           "/assets/app-1234.js/x", "/..\\secret.txt"}) {
    httplib::Response refused;
    EXPECT_FALSE(files.Serve(path, true, refused)) << path;
    EXPECT_TRUE(refused.body.empty()) << path;
  }

  // A file changed on disk is read again.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::ofstream(root / "index.html", std::ios::trunc) << "<!doctype html><title>new</title>";
  httplib::Response changed;
  ASSERT_TRUE(files.Serve("/index.html", false, changed));
  EXPECT_EQ(changed.body, "<!doctype html><title>new</title>");
}

}  // namespace
}  // namespace pingan::server_internal
