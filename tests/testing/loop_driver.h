// Driving the closed loop over HTTP from tests and benchmarks: a `pingan serve` child process
// (started, killed with SIGKILL, restarted), seeded users and tasks, and a client that sends
// task transitions and reads the answers.
#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "assess/warnings.h"
#include "auth/auth.h"
#include "loop/task_store.h"

namespace pingan::testing {

// A free TCP port on the loopback interface (bound, then released).
inline int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

// `pingan serve --data DATA --listen 127.0.0.1:PORT [extra...]` as a child process.
class ServerProcess {
 public:
  ServerProcess(std::string binary, std::filesystem::path data, std::vector<std::string> extra = {})
      : binary_(std::move(binary)), data_(std::move(data)), extra_(std::move(extra)) {}
  ~ServerProcess() { Kill9(); }

  // Starts it on `port` and waits (up to `wait`) until GET /api/health answers.
  bool Start(int port, std::chrono::seconds wait = std::chrono::seconds(120)) {
    port_ = port;
    const std::string listen = "127.0.0.1:" + std::to_string(port);
    std::vector<std::string> args = {binary_, "serve", "--data", data_.string(), "--listen", listen};
    args.insert(args.end(), extra_.begin(), extra_.end());
    pid_ = fork();
    if (pid_ == 0) {
      // Killed with the test, should the test die before its destructor runs (a sanitizer's
      // abort): an orphaned server would keep CTest's output pipe open and hang the run. Its
      // output goes to a log beside the data, never to that pipe.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
      const std::string log = (data_.parent_path() / ("serve-" + std::to_string(port) + ".log")).string();
      if (FILE* out = freopen(log.c_str(), "a", stderr); out == nullptr) _exit(126);
      if (FILE* out = freopen(log.c_str(), "a", stdout); out == nullptr) _exit(126);
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(std::chrono::milliseconds(500));
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto answer = client.Get("/api/health"); answer && answer->status == 200) return true;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }
  void Kill9() { Signal(SIGKILL); }
  // What the server wrote on stderr (its log file beside the data directory).
  std::string Log() const {
    std::ifstream in(data_.parent_path() / ("serve-" + std::to_string(port_) + ".log"));
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  void Stop() { Signal(SIGTERM); }
  int port() const { return port_; }

 private:
  void Signal(int signal) {
    if (pid_ <= 0) return;
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  std::string binary_;
  std::filesystem::path data_;
  std::vector<std::string> extra_;
  pid_t pid_ = -1;
  int port_ = 0;
};

struct LoopSeed {
  std::string password;
  std::string official;              // a town official of the seeded town
  std::vector<std::string> workers;  // grid workers, one grid each
  std::vector<int64_t> tasks;        // task ids
  std::vector<size_t> worker_of;     // tasks[i] is offered to workers[worker_of[i]]
};

// Seeds `workers` grid workers (each with a grid of town 330106001 of its own) and one town
// official, and `tasks` tasks from synthetic red warnings, offered round robin to the workers.
inline LoopSeed SeedLoop(const std::filesystem::path& data, int workers, int tasks) {
  LoopSeed seed;
  seed.password = "loop-driver-password";
  seed.official = "loop-town";
  auto auth = AuthStore::Open(data, AuthOptions{.pwhash_opslimit = 1, .pwhash_memlimit = 8192});
  if (!auth.ok()) return seed;
  std::vector<User> users;
  auto town = (*auth)->AddUser(seed.official, Role::kTownOfficial, {"330106001"}, seed.password, "seed");
  if (!town.ok()) return seed;
  std::vector<std::string> grids;
  for (int i = 0; i < workers; ++i) {
    char grid[48];
    std::snprintf(grid, sizeof grid, "330106001001%03d000000000000", i + 1);
    grids.emplace_back(grid);
    const std::string name = "loop-worker-" + std::to_string(i);
    auto user = (*auth)->AddUser(name, Role::kGridWorker, {std::string(grid).substr(0, 15)}, seed.password, "seed");
    if (!user.ok()) return seed;
    users.push_back(*user);
    seed.workers.push_back(name);
  }
  auto store = TaskStore::Open(data, LoopSettings{});
  if (!store.ok()) return seed;
  for (int t = 0; t < tasks; ++t) {
    const size_t worker = static_cast<size_t>(t % workers);
    Warning warning{.id = 1000000 + t, .unit = grids[worker], .level = "grid", .key_type = "key.theft",
                    .period = "2024-06", .grade = "red", .score = 1.0};
    auto made = (*store)->CreateFromWarning(warning, {grids[worker]}, users, "seed");
    if (!made.ok() || made->size() != 1) return seed;
    seed.tasks.push_back(made->front().id);
    seed.worker_of.push_back(worker);
  }
  return seed;
}

struct ActReply {
  int status = -1;  // HTTP status; -1: no answer (connection refused, reset, timed out)
  int64_t version = 0;
  std::string state;
  bool replayed = false;
};

// One keep-alive connection to the server.
class LoopClient {
 public:
  explicit LoopClient(int port) : client_("127.0.0.1", port) {
    client_.set_keep_alive(true);
    client_.set_tcp_nodelay(true);  // the request line, headers and body go in separate writes
    client_.set_connection_timeout(std::chrono::seconds(2));
    client_.set_read_timeout(std::chrono::seconds(30));
  }
  std::string Login(const std::string& name, const std::string& password) {
    const nlohmann::json body{{"username", name}, {"password", password}};
    auto answer = client_.Post("/api/login", body.dump(), "application/json");
    last_error_ = !answer ? "no answer: " + httplib::to_string(answer.error())
                          : "HTTP " + std::to_string(answer->status) + " " + answer->body.substr(0, 200);
    if (!answer || answer->status != 200) return "";
    const auto parsed = nlohmann::json::parse(answer->body, nullptr, false);
    return parsed.is_object() ? parsed.value("token", "") : "";
  }
  // What the last login answered, when it failed.
  const std::string& last_error() const { return last_error_; }
  ActReply Act(const std::string& token, int64_t task, const std::string& action, const std::string& key,
               std::optional<int64_t> version, nlohmann::json body = nlohmann::json::object()) {
    httplib::Headers headers{{"Authorization", "Bearer " + token}};
    if (!key.empty()) headers.emplace("Idempotency-Key", key);
    if (version) body["version"] = *version;
    auto answer = client_.Post("/api/tasks/" + std::to_string(task) + "/" + action, headers, body.dump(), "application/json");
    ActReply reply;
    if (!answer) return reply;
    reply.status = answer->status;
    // The three fields read straight from the text, as a load generator would (a full parse of
    // each answer costs this 2-core machine's server a share of its CPU): the task object's
    // "version" and "state" (its second and third keys) and the answer's "replayed".
    const std::string& text = answer->body;
    const size_t object = text.find("\"task\":{");
    if (object != std::string::npos) {
      if (const size_t at = text.find("\"version\":", object); at != std::string::npos) {
        reply.version = std::strtoll(text.c_str() + at + 10, nullptr, 10);
      }
      if (const size_t at = text.find("\"state\":\"", object); at != std::string::npos) {
        reply.state = text.substr(at + 9, text.find('"', at + 9) - (at + 9));
      }
    }
    reply.replayed = text.find("\"replayed\":true") != std::string::npos;
    return reply;
  }

 private:
  httplib::Client client_;
  std::string last_error_;
};

}  // namespace pingan::testing
