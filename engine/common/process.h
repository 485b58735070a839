#pragma once
// Process-wide settings that kgrec's executables apply once at start-up.

namespace kgrec {

// Training allocates and frees the same large tensors (tens of MB) every step. glibc returns
// blocks above its mmap threshold to the kernel on free, so each step page-faults them in
// again (measured: a fifth of an epoch's time on gowalla). This keeps freed memory in the
// process for reuse: no mmap for large blocks, no trimming of the heap.
void keepFreedMemoryForReuse();

}  // namespace kgrec
