// checkpoint_diff A B TOLERANCE: compares two kgrec checkpoints tensor by tensor (the
// ID-embedding table and every module parameter) and prints the largest absolute difference and the tensor it is in.
// Exit 0 when it is at most TOLERANCE, 1 when larger or when the checkpoints do not have the
// same tensors, 2 on bad usage. Used by dist_train_test.sh.

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "tests/train/checkpoint_tensors.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: checkpoint_diff CHECKPOINT_A CHECKPOINT_B TOLERANCE\n");
    return 2;
  }
  try {
    std::string why, where;
    const double worst = kgrec::testing::largestDifference(
        kgrec::testing::checkpointTensors(argv[1]), kgrec::testing::checkpointTensors(argv[2]),
        &why, &where);
    if (!why.empty()) std::printf("%s\n", why.c_str());
    const double tolerance = std::strtod(argv[3], nullptr);
    std::printf("largest difference %.3g in %s (tolerance %.3g)\n", worst, where.c_str(),
                tolerance);
    return worst <= tolerance ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "checkpoint_diff: %s\n", e.what());
    return 1;
  }
}
