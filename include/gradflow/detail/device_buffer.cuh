#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <vector>

#include "gradflow/detail/cuda_check.cuh"

namespace gradflow {

/// Owning device array. An allocation failure throws device_error stating the bytes and the
/// purpose. A smaller size keeps the allocation (solves in one solver_context reuse buffers).
template <class T>
class device_buffer {
public:
  device_buffer() = default;
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  ~device_buffer() { cudaFree(data_); }

  void allocate(std::size_t count, const char* purpose) {
    size_ = count;
    if (count <= capacity_) return;
    cudaFree(data_);
    data_ = nullptr;
    capacity_ = 0;
    const cudaError_t status = cudaMalloc(&data_, count * sizeof(T));
    if (status != cudaSuccess) {
      cudaGetLastError();
      data_ = nullptr;
      const std::string message = "cannot allocate " + std::to_string(count * sizeof(T)) +
                                  " bytes on the device for " + purpose + ": " +
                                  cudaGetErrorString(status);
      size_ = 0;
      if (status == cudaErrorMemoryAllocation) throw out_of_memory(message);
      throw device_error(message);
    }
    capacity_ = count;
  }

  void upload(const std::vector<T>& host, cudaStream_t stream, const char* purpose) {
    allocate(host.size(), purpose);
    if (!host.empty())
      GRADFLOW_CUDA_CHECK(cudaMemcpyAsync(data_, host.data(), host.size() * sizeof(T),
                                          cudaMemcpyHostToDevice, stream));
  }

  void download(std::vector<T>& host, cudaStream_t stream) const {
    host.resize(size_);
    if (size_ != 0)
      GRADFLOW_CUDA_CHECK(
          cudaMemcpyAsync(host.data(), data_, size_ * sizeof(T), cudaMemcpyDeviceToHost, stream));
  }

  T* data() const { return data_; }
  std::size_t size() const { return size_; }

private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

/// lockstep_arrays' resize for device memory: allocate and zero. cudaMemset runs on the legacy
/// stream, so the caller synchronises the device once after sizing everything.
template <class T>
void resize_array(device_buffer<T>& array, std::size_t count, const char* purpose) {
  array.allocate(count, purpose);
  if (count != 0) GRADFLOW_CUDA_CHECK(cudaMemset(array.data(), 0, count * sizeof(T)));
}

}  // namespace gradflow
