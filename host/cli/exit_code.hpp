#pragma once
// The command's exit codes (README, "Command line"): 0 success, 2 usage or input error, 1 runtime
// failure (device, memory, I/O during the run), 130 interrupted.
#include <exception>
#include <new>

#include "gradflow/error.hpp"

namespace gradflow::cli {

/// 2 for errors the user can fix by changing the command or its files, 1 for the rest.
inline int exit_code_of(const std::exception& e) {
  const bool input = dynamic_cast<const gradflow::invalid_argument*>(&e) ||
                     dynamic_cast<const gradflow::io_error*>(&e) ||
                     dynamic_cast<const gradflow::not_compiled*>(&e) ||
                     dynamic_cast<const gradflow::no_device*>(&e);
  return input ? 2 : 1;
}

}  // namespace gradflow::cli
