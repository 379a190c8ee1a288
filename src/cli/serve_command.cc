// `pingan serve`: the HTTP API and the web app until SIGINT or SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <thread>

#include "absl/strings/numbers.h"
#include "cli/commands.h"
#include "core/paths.h"
#include "core/strings.h"
#include "server/server.h"

namespace pingan::cli {

int RunServe(const Context& context, const ServeOptions& serve) {
  ServerOptions options;
  const size_t colon = serve.listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 || !absl::SimpleAtoi(serve.listen.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return Fail(context, Cat("--listen: expected HOST:PORT (127.0.0.1:8080), got '", serve.listen, "'"));
  }
  options.host = serve.listen.substr(0, colon);
  options.port = port;
  options.threads = serve.threads;
  options.log_requests = serve.log_requests;
  options.task_batch = static_cast<size_t>(serve.task_batch);
  if (!serve.web_dir.empty()) {
    options.web_dir = serve.web_dir;
  } else if (auto root = ResourceRoot(); root.ok() && std::filesystem::exists(*root / "web/dist/index.html")) {
    options.web_dir = *root / "web/dist";
  }
  if (!options.web_dir.empty() && !std::filesystem::exists(options.web_dir / "index.html")) {
    return Fail(context, Cat("--web: no index.html in ", options.web_dir.string(), " (build the app: make build)"));
  }
  auto config_dir = ResolveConfigDir(context);
  if (!config_dir.ok()) return Fail(context, Message(config_dir.status()));
  // SIGINT and SIGTERM go to one waiting thread (blocked here, before any thread starts).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto server = Server::Create(*config_dir, context.data_dir, options);
  if (!server.ok()) return Fail(context, Message(server.status()));
  auto bound = (*server)->Bind();
  if (!bound.ok()) return Fail(context, Message(bound.status()));
  *context.err << "pingan: serving http://" << options.host << ":" << *bound << "/"
               << (options.web_dir.empty() ? " (API only: the web app is not built)" : "") << "\n";
  std::thread waiter([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    *context.err << "pingan: stopping\n";
    (*server)->Stop();
  });
  absl::Status served = (*server)->Run();
  pthread_kill(waiter.native_handle(), SIGTERM);  // wake the waiter when Run ended on its own
  waiter.join();
  server->reset();  // writes the cube snapshot
  if (!served.ok()) return Fail(context, Message(served));
  return 0;
}

}  // namespace pingan::cli
