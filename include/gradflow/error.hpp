#pragma once
#include <stdexcept>
#include <string>

namespace gradflow {

/// Base of every exception gradflow throws. Non-convergence is never an exception: it is a
/// per-problem status in the result.
class error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A value is out of range or malformed; the message names the field and the value.
class invalid_argument : public error {
public:
  using error::error;
};

/// Array shapes disagree (A vs B, U0 vs n×k, batch sizes).
class dimension_mismatch : public invalid_argument {
public:
  using invalid_argument::invalid_argument;
};

/// A file cannot be opened, read, parsed or written.
class io_error : public error {
public:
  using error::error;
};

/// The requested backend was not compiled into this build of libgradflow.
class not_compiled : public error {
public:
  using error::error;
};

/// The CUDA backend was requested but no CUDA device answers.
class no_device : public error {
public:
  using error::error;
};

/// A CUDA runtime, cuBLAS or allocation call failed on the device.
class device_error : public error {
public:
  using error::error;
};

/// A device allocation failed; the message states the bytes asked for and their purpose.
class out_of_memory : public device_error {
public:
  using device_error::device_error;
};

/// solve_options::should_stop asked the solve to stop (Ctrl-C); nothing of it is returned.
class interrupted : public error {
public:
  using error::error;
};

}  // namespace gradflow
