#pragma once
// The exception tree of kgrec. Every error a user can cause is one of these, with a message
// that says what went wrong and what to do; the launcher prints it and exits non-zero.

#include <cstdint>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace kgrec {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad user-supplied input file: the message names the file and, where known, the line.
class InputError : public Error {
 public:
  InputError(const std::string& path, std::int64_t line, const std::string& what);
  InputError(const std::string& path, const std::string& what);
  const std::string& path() const { return path_; }
  std::int64_t line() const { return line_; }

 private:
  std::string path_;
  std::int64_t line_ = 0;
};

// A kgrec file (dataset, checkpoint) that is missing, of another version or inconsistent.
class FormatError : public Error {
 public:
  using Error::Error;
};

// Invalid command-line options or configuration values.
class ConfigError : public Error {
 public:
  using Error::Error;
};

namespace detail {
[[noreturn]] void throwCheckFailed(const char* file, int line, const char* condition,
                                   const std::string& message);
}  // namespace detail

}  // namespace kgrec

// Caller errors: throws kgrec::Error with file:line, the condition and a formatted message.
#define KGREC_CHECK(cond, ...)                                                        \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      ::kgrec::detail::throwCheckFailed(__FILE__, __LINE__, #cond,                   \
                                        ::fmt::format(__VA_ARGS__));                  \
    }                                                                                 \
  } while (0)

// Internal invariants: a failure is a bug in kgrec, not in the input.
#define KGREC_ASSERT(cond)                                                            \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      ::kgrec::detail::throwCheckFailed(__FILE__, __LINE__, #cond,                   \
                                        "internal invariant violated (a kgrec bug)"); \
    }                                                                                 \
  } while (0)
