#pragma once
/// Umbrella header: everything a user of libgradflow needs.
#include "gradflow/collocation.hpp"
#include "gradflow/error.hpp"
#include "gradflow/hyperparameter.hpp"
#include "gradflow/least_squares.hpp"
#include "gradflow/methods.hpp"
#include "gradflow/npy.hpp"
#include "gradflow/options.hpp"
#include "gradflow/result.hpp"
#include "gradflow/solve.hpp"
#include "gradflow/status.hpp"
#include "gradflow/sweep.hpp"
#include "gradflow/version.hpp"
