#include "cli/app.h"
#include "core/huge_pages.h"

int main(int argc, char** argv) {
  pingan::UseHugePagesForHeap(argv);
  return pingan::cli::Main(argc, argv);
}
