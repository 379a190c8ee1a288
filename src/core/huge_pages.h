// Transparent huge pages for the whole heap.
//
// Why: on the virtual machines pingan is measured on, a fault on a fresh 4 KiB page costs
// 5-14 µs (a 2 GiB buffer touched page by page: 7.4 s; the same advised MADV_HUGEPAGE: 0.13 s).
// A start at 10 million events allocates ~2 GB, so the faults alone took longer than the work.
// With the kernel's THP mode at "madvise" (Debian's default) only advised memory gets huge
// pages. glibc (2.35 and later) advises its own heap when the tunable glibc.malloc.hugetlb=1 is
// set, and reads tunables only when a process starts: so the process re-executes itself once,
// first thing in main, with the tunable added to GLIBC_TUNABLES. Nothing else changes (same
// argv, same environment plus the tunable).
//
// It is skipped when: PINGAN_HUGE_PAGES=0; the tunable is already set; the process is the
// re-executed one; THP is "always" (nothing to gain) or "never"/absent (nothing to get); glibc
// predates the tunable; the build uses a sanitizer (its allocator ignores glibc's tunables); or
// the binary cannot be executed again (then the process just goes on).
#pragma once

#include <string>
#include <string_view>

namespace pingan {

// GLIBC_TUNABLES's value with glibc.malloc.hugetlb=1 added to `existing` (which may be empty);
// `existing` unchanged when it already sets glibc.malloc.hugetlb.
std::string TunablesWithHugePages(std::string_view existing);

// Whether advising is needed and useful under the THP mode file's text
// (/sys/kernel/mm/transparent_hugepage/enabled, e.g. "always [madvise] never").
bool HugePagesNeedAdvice(std::string_view thp_enabled);

// Re-executes the process with the tunable when that helps (see above); returns when it does
// not (or cannot). Call first thing in main, before any thread or output.
void UseHugePagesForHeap(char** argv);

// For commands that stream millions of records through short-lived buffers (ingest, demo,
// geocode): glibc keeps 256 MiB of free memory at the top of each heap rather than handing it
// back to the kernel as soon as a batch is freed. Each next batch otherwise faulted in (and the
// kernel zeroed) its pages afresh. `pingan ingest` of bench/ingest.sh's million coded records,
// in 9 interleaved pairs of runs: 1.1-1.4 s in the kernel before, 0.75-1.25 s with this; the
// wall time up to 15 % shorter in 7 of the 9 (the machine's noise is of that size). The worker
// threads' heaps are kept too, once wholly free (trim threshold 1 GiB): on the million text
// records, minor faults 6,385-6,592 against 8,498-8,750 and system time 0.68-0.79 s against
// 0.70-1.32 s in interleaved runs (2026-11-30). Not for the server, whose memory should go back
// after a large request. A no-op under a sanitizer (its allocator is not glibc's).
void KeepHeapForBatch();

}  // namespace pingan
