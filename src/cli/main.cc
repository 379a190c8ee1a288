#include "cli/app.h"
#include "core/huge_pages.h"
#include "store/sqlite_store.h"

int main(int argc, char** argv) {
  pingan::UseHugePagesForHeap(argv);
  pingan::ConfigureSqlite();
  return pingan::cli::Main(argc, argv);
}
