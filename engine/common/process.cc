#include "engine/common/process.h"

#include <malloc.h>

namespace kgrec {

void keepFreedMemoryForReuse() {
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, -1);  // -1: never trim (the value is taken as unsigned)
}

}  // namespace kgrec
