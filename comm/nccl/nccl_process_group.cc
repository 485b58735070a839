#include "comm/nccl/nccl_process_group.h"

#include <cuda_runtime.h>

#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <spdlog/spdlog.h>

#include "comm/mpi/mpi_check.h"

// Every NCCL and CUDA call goes through these: CommError with the rank, the function, file:line
// and the library's text for the code.
#define KGREC_NCCL_CHECK(call)                                                               \
  do {                                                                                       \
    const ncclResult_t kgrec_nccl_rc_ = (call);                                              \
    if (kgrec_nccl_rc_ != ncclSuccess) {                                                     \
      throw ::kgrec::CommError(                                                              \
          ::kgrec::worldRank(), ::kgrec::detail::calledFunction(#call),                      \
          fmt::format("[{}:{}] {} returned {} ({})", __FILE__, __LINE__, #call,              \
                      static_cast<int>(kgrec_nccl_rc_), ncclGetErrorString(kgrec_nccl_rc_))); \
    }                                                                                        \
  } while (0)

#define KGREC_CUDA_CHECK(call)                                                              \
  do {                                                                                      \
    const cudaError_t kgrec_cuda_rc_ = (call);                                              \
    if (kgrec_cuda_rc_ != cudaSuccess) {                                                    \
      throw ::kgrec::CommError(                                                             \
          ::kgrec::worldRank(), ::kgrec::detail::calledFunction(#call),                     \
          fmt::format("[{}:{}] {} returned {} ({})", __FILE__, __LINE__, #call,             \
                      static_cast<int>(kgrec_cuda_rc_), cudaGetErrorString(kgrec_cuda_rc_))); \
    }                                                                                       \
  } while (0)

namespace kgrec {

namespace {

// Destructors cannot throw: a failed CUDA or NCCL call there is logged, not lost.
void warnIfFailed(cudaError_t rc, const char* call) {
  if (rc != cudaSuccess) {
    spdlog::warn("rank {}: {} returned {} ({})", worldRank(), call, static_cast<int>(rc),
                 cudaGetErrorString(rc));
  }
}

void warnIfFailed(ncclResult_t rc, const char* call) {
  if (rc != ncclSuccess) {
    spdlog::warn("rank {}: {} returned {} ({})", worldRank(), call, static_cast<int>(rc),
                 ncclGetErrorString(rc));
  }
}

ncclDataType_t reduceType(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat: return ncclFloat32;
    case torch::kDouble: return ncclFloat64;
    case torch::kHalf: return ncclFloat16;
    case torch::kBFloat16: return ncclBfloat16;
    case torch::kInt: return ncclInt32;
    case torch::kLong: return ncclInt64;
    default: KGREC_ASSERT(false);  // ProcessGroup::allReduce admits only the types above
  }
  return ncclFloat32;
}

// Non-reducing operations move bytes: no dtype restriction, and NCCL counts are size_t.
std::size_t byteCount(const torch::Tensor& tensor) { return tensor.numel() * tensor.element_size(); }

std::byte* bytes(const torch::Tensor& tensor) { return static_cast<std::byte*>(tensor.data_ptr()); }

}  // namespace

class NcclProcessGroup::NcclWork final : public Work {
 public:
  NcclWork(int device, bool blocking, RankRows result) : device_(device), blocking_(blocking) {
    setResult(std::move(result));
    KGREC_CUDA_CHECK(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming));
  }
  ~NcclWork() override { warnIfFailed(cudaEventDestroy(done_), "cudaEventDestroy"); }

  cudaEvent_t event() const { return done_; }

  void wait() override {
    c10::cuda::CUDAGuard guard(device_);
    if (blocking_) {
      KGREC_CUDA_CHECK(cudaEventSynchronize(done_));
    } else {
      KGREC_CUDA_CHECK(cudaStreamWaitEvent(c10::cuda::getCurrentCUDAStream(device_).stream(), done_, 0));
    }
  }

  bool isCompleted() override {
    const cudaError_t status = cudaEventQuery(done_);
    if (status == cudaErrorNotReady) return false;
    KGREC_CUDA_CHECK(status);
    return true;
  }

 private:
  int device_;
  bool blocking_;
  cudaEvent_t done_ = nullptr;
};

bool NcclProcessGroup::available() {
  int count = 0;
  // Without a driver or device this fails (cudaErrorNoDevice, cudaErrorInsufficientDriver):
  // that is the answer "no", not an error. It leaves no sticky error behind.
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

NcclProcessGroup::NcclProcessGroup(MPI_Comm comm, int device)
    : ProcessGroup(commRank(comm), commSize(comm)),
      parent_(comm),
      device_(device),
      stream_(c10::cuda::getStreamFromPool(/*isHighPriority=*/true, device)) {
  ncclUniqueId id;
  if (rank() == 0) KGREC_NCCL_CHECK(ncclGetUniqueId(&id));
  KGREC_MPI_CHECK(MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, comm));
  c10::cuda::CUDAGuard guard(device_);
  KGREC_NCCL_CHECK(ncclCommInitRank(&comm_, size(), id, rank()));
}

std::shared_ptr<ProcessGroup> NcclProcessGroup::duplicate() const {
  return std::make_shared<NcclProcessGroup>(parent_, device_);
}

NcclProcessGroup::~NcclProcessGroup() {
  warnIfFailed(cudaStreamSynchronize(stream_.stream()), "cudaStreamSynchronize");
  warnIfFailed(ncclCommDestroy(comm_), "ncclCommDestroy");
}

void NcclProcessGroup::checkDevice(const torch::Tensor& tensor, const char* operation) const {
  if (!tensor.is_cuda() || tensor.get_device() != device_) {
    throw CommError(rank(), operation,
                    fmt::format("the NCCL group works on cuda:{} tensors, got one on {}", device_,
                                tensor.device().str()));
  }
}

WorkPtr NcclProcessGroup::launch(const std::vector<torch::Tensor>& tensors,
                                 const std::function<void()>& body, RankRows result,
                                 bool blocking) {
  c10::cuda::CUDAGuard guard(device_);
  cudaEvent_t ready = nullptr;
  KGREC_CUDA_CHECK(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming));
  KGREC_CUDA_CHECK(cudaEventRecord(ready, c10::cuda::getCurrentCUDAStream(device_).stream()));
  KGREC_CUDA_CHECK(cudaStreamWaitEvent(stream_.stream(), ready, 0));
  KGREC_CUDA_CHECK(cudaEventDestroy(ready));  // the queued wait keeps what it needs
  for (const torch::Tensor& t : tensors) {
    if (t.defined() && t.numel() > 0) {
      c10::cuda::CUDACachingAllocator::recordStream(t.storage().data_ptr(), stream_);
    }
  }
  body();
  auto work = std::make_shared<NcclWork>(device_, blocking, std::move(result));
  KGREC_CUDA_CHECK(cudaEventRecord(work->event(), stream_.stream()));
  return work;
}

WorkPtr NcclProcessGroup::runAllReduce(torch::Tensor tensor, ReduceOp op) {
  checkDevice(tensor, "allReduce");
  torch::Tensor buffer = tensor.contiguous();
  return launch({tensor, buffer}, [&] {
    KGREC_NCCL_CHECK(ncclAllReduce(buffer.data_ptr(), buffer.data_ptr(), buffer.numel(),
                                   reduceType(buffer.scalar_type()),
                                   op == ReduceOp::kAvg ? ncclAvg : ncclSum, comm_, stream_.stream()));
    if (!buffer.is_same(tensor)) {
      c10::cuda::CUDAStreamGuard on_stream(stream_);
      tensor.copy_(buffer);
    }
  });
}

WorkPtr NcclProcessGroup::runBroadcast(torch::Tensor tensor, int root) {
  checkDevice(tensor, "broadcast");
  torch::Tensor buffer = tensor.contiguous();
  return launch({tensor, buffer}, [&] {
    KGREC_NCCL_CHECK(ncclBroadcast(buffer.data_ptr(), buffer.data_ptr(), byteCount(buffer), ncclUint8,
                                   root, comm_, stream_.stream()));
    if (!buffer.is_same(tensor)) {
      c10::cuda::CUDAStreamGuard on_stream(stream_);
      tensor.copy_(buffer);
    }
  });
}

WorkPtr NcclProcessGroup::runBarrier() {
  // NCCL has no barrier: a one-element all-reduce, waited for on the host.
  c10::cuda::CUDAGuard guard(device_);
  torch::Tensor token = torch::zeros({1}, torch::TensorOptions().dtype(torch::kFloat).device(torch::kCUDA, device_));
  return launch({token}, [&] {
    KGREC_NCCL_CHECK(ncclAllReduce(token.data_ptr(), token.data_ptr(), 1, ncclFloat32, ncclSum, comm_,
                                   stream_.stream()));
  }, RankRows{}, /*blocking=*/true);
}

WorkPtr NcclProcessGroup::runAllGather(torch::Tensor tensor) {
  checkDevice(tensor, "allGather");
  torch::Tensor buffer = tensor.contiguous();
  std::vector<std::int64_t> shape = buffer.sizes().vec();
  shape.insert(shape.begin(), size());
  torch::Tensor out = torch::empty(shape, buffer.options());
  return launch({buffer, out}, [&] {
    KGREC_NCCL_CHECK(ncclAllGather(buffer.data_ptr(), out.data_ptr(), byteCount(buffer), ncclUint8,
                                   comm_, stream_.stream()));
  }, RankRows{out, std::vector<std::int64_t>(size(), 1)});
}

std::vector<std::int64_t> NcclProcessGroup::exchangeCounts(
    const torch::Tensor& tensor, const std::vector<std::int64_t>* send_counts,
    const char* operation) {
  const std::int64_t width = rowElements(tensor);
  const auto dtype = static_cast<std::int64_t>(tensor.scalar_type());
  const auto on_device = torch::TensorOptions().dtype(torch::kLong).device(torch::kCUDA, device_);
  torch::Tensor sent = torch::empty({size(), 3}, torch::kLong);
  for (int r = 0; r < size(); ++r) {
    sent[r][0] = send_counts ? (*send_counts)[r] : tensor.size(0);
    sent[r][1] = width;
    sent[r][2] = dtype;
  }
  sent = sent.to(on_device);
  torch::Tensor received = torch::empty({size(), 3}, on_device);
  launch({sent, received}, [&] {
    if (send_counts) {  // all-to-all: row r goes to rank r
      KGREC_NCCL_CHECK(ncclGroupStart());
      for (int r = 0; r < size(); ++r) {
        KGREC_NCCL_CHECK(ncclSend(sent[r].data_ptr(), 3, ncclInt64, r, comm_, stream_.stream()));
        KGREC_NCCL_CHECK(ncclRecv(received[r].data_ptr(), 3, ncclInt64, r, comm_, stream_.stream()));
      }
      KGREC_NCCL_CHECK(ncclGroupEnd());
    } else {  // all-gather: every rank gets row 0 of every rank
      KGREC_NCCL_CHECK(ncclAllGather(sent[0].data_ptr(), received.data_ptr(), 3, ncclInt64, comm_,
                                     stream_.stream()));
    }
  });
  KGREC_CUDA_CHECK(cudaStreamSynchronize(stream_.stream()));
  torch::Tensor metas = received.cpu();
  std::vector<std::int64_t> rows(size());
  for (int r = 0; r < size(); ++r) {
    const std::int64_t other_width = metas[r][1].item<std::int64_t>();
    const std::int64_t other_dtype = metas[r][2].item<std::int64_t>();
    if (other_width != width || other_dtype != dtype) {
      throw CommError(rank(), operation,
                      fmt::format("rank {} sends rows of {} {} elements, this rank rows of {} {} elements",
                                  r, other_width, c10::toString(static_cast<torch::ScalarType>(other_dtype)),
                                  width, c10::toString(tensor.scalar_type())));
    }
    rows[r] = metas[r][0].item<std::int64_t>();
  }
  return rows;
}

WorkPtr NcclProcessGroup::runAllGatherV(torch::Tensor tensor) {
  checkDevice(tensor, "allGatherV");
  torch::Tensor buffer = tensor.contiguous();
  std::vector<std::int64_t> rows = exchangeCounts(buffer, nullptr, "allGatherV");
  std::int64_t total = 0;
  for (std::int64_t r : rows) total += r;
  std::vector<std::int64_t> shape = buffer.sizes().vec();
  shape[0] = total;
  torch::Tensor out = torch::empty(shape, buffer.options());
  const std::size_t row_bytes = rowElements(buffer) * buffer.element_size();
  return launch({buffer, out}, [&] {
    // NCCL has no all-gather-v: one broadcast per rank, fused into one launch by the group.
    KGREC_NCCL_CHECK(ncclGroupStart());
    std::size_t offset = 0;
    for (int r = 0; r < size(); ++r) {
      const std::size_t n = rows[r] * row_bytes;
      if (n > 0) {
        KGREC_NCCL_CHECK(ncclBroadcast(buffer.data_ptr(), bytes(out) + offset, n, ncclUint8, r, comm_,
                                       stream_.stream()));
      }
      offset += n;
    }
    KGREC_NCCL_CHECK(ncclGroupEnd());
  }, RankRows{out, rows});
}

WorkPtr NcclProcessGroup::runAllToAllV(torch::Tensor tensor, std::vector<std::int64_t> send_counts) {
  checkDevice(tensor, "allToAllV");
  torch::Tensor buffer = tensor.contiguous();
  std::vector<std::int64_t> recv_rows = exchangeCounts(buffer, &send_counts, "allToAllV");
  std::int64_t total = 0;
  for (std::int64_t r : recv_rows) total += r;
  std::vector<std::int64_t> shape = buffer.sizes().vec();
  shape[0] = total;
  torch::Tensor out = torch::empty(shape, buffer.options());
  const std::size_t row_bytes = rowElements(buffer) * buffer.element_size();
  return launch({buffer, out}, [&] {
    KGREC_NCCL_CHECK(ncclGroupStart());
    std::size_t send_offset = 0;
    std::size_t recv_offset = 0;
    for (int r = 0; r < size(); ++r) {
      const std::size_t send_bytes = send_counts[r] * row_bytes;
      const std::size_t recv_bytes = recv_rows[r] * row_bytes;
      // Both sides know every count, so zero-byte pairs are skipped on both.
      if (send_bytes > 0) {
        KGREC_NCCL_CHECK(ncclSend(bytes(buffer) + send_offset, send_bytes, ncclUint8, r, comm_,
                                  stream_.stream()));
      }
      if (recv_bytes > 0) {
        KGREC_NCCL_CHECK(ncclRecv(bytes(out) + recv_offset, recv_bytes, ncclUint8, r, comm_,
                                  stream_.stream()));
      }
      send_offset += send_bytes;
      recv_offset += recv_bytes;
    }
    KGREC_NCCL_CHECK(ncclGroupEnd());
  }, RankRows{out, recv_rows});
}

}  // namespace kgrec
