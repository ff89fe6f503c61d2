// The same program compiled by nvcc, as a user with CUDA builds it: solve_objectives then has its
// GPU path (taken when a device answers, else the CPU's).
#include "main.cpp"
