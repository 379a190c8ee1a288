// Running the `pingan` binary from tests: its exit code, standard output and standard error.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "testing/temp_dir.h"

namespace pingan::testing {

struct Output {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `pingan ARGS [--data DATA]` through the shell (ARGS may redirect stdin), without
// LeakSanitizer (the binary exits through CLI11 paths that keep static state).
inline Output RunPingan(const std::string& args, const std::string& data) {
  TempDir dir;
  std::string command = std::string("ASAN_OPTIONS=detect_leaks=0 ") + PINGAN_BINARY + " " + args +
                        (data.empty() ? "" : " --data '" + data + "'") + " 2>" + (dir.path() / "err").string();
  Output run;
  FILE* pipe = popen(command.c_str(), "r");
  std::array<char, 65536> buffer{};
  size_t read = 0;
  while ((read = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) run.out.append(buffer.data(), read);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.err = ReadFile(dir.path() / "err");
  return run;
}

// The national registry fixture (`testdata_national`: all of China, demo city at scale 0.01).
inline std::string NationalData() { return std::string(PINGAN_TEST_DATA) + "/national"; }

}  // namespace pingan::testing
