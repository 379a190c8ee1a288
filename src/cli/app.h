// Command-line parsing for the `pingan` binary (CLI11).
#pragma once

#include <iosfwd>

namespace pingan::cli {

// Parses argv and runs the command; returns the exit code (0 ok, 1 failed, 2 usage).
int Main(int argc, char** argv);
int Main(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace pingan::cli
