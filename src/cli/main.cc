#include "cli/app.h"

int main(int argc, char** argv) { return pingan::cli::Main(argc, argv); }
