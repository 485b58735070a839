#include "comm/comm_error.h"

#include <cstring>
#include <utility>

namespace kgrec {

CommError::CommError(int rank, std::string operation, const std::string& detail)
    : Error(fmt::format("rank {}: {}: {}", rank, operation, detail)),
      rank_(rank),
      operation_(std::move(operation)) {}

namespace detail {
std::string calledFunction(const char* call) {
  const char* paren = std::strchr(call, '(');
  return paren ? std::string(call, paren) : std::string(call);
}
}  // namespace detail

}  // namespace kgrec
