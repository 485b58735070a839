#include "engine/common/error.h"

namespace kgrec {

InputError::InputError(const std::string& path, std::int64_t line, const std::string& what)
    : Error(fmt::format("{}:{}: {}", path, line, what)), path_(path), line_(line) {}

InputError::InputError(const std::string& path, const std::string& what)
    : Error(fmt::format("{}: {}", path, what)), path_(path) {}

namespace detail {
void throwCheckFailed(const char* file, int line, const char* condition,
                      const std::string& message) {
  throw Error(fmt::format("[{}:{}] check '{}' failed: {}", file, line, condition, message));
}
}  // namespace detail

}  // namespace kgrec
