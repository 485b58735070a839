#include "comm/mpi/mpi_process_group.h"

#include <algorithm>
#include <cstddef>
#include <limits>

#include "comm/mpi/mpi_check.h"

namespace kgrec {

namespace {

constexpr std::int64_t kMaxCount = std::numeric_limits<int>::max();

// MPI_User_function summing float16 or bfloat16 elements: each sum in float32, rounded once.
template <typename T>
void sumInto(void* in, void* inout, int* length, MPI_Datatype*) {
  const T* a = static_cast<const T*>(in);
  T* b = static_cast<T*>(inout);
  for (int i = 0; i < *length; ++i) {
    b[i] = static_cast<T>(static_cast<float>(a[i]) + static_cast<float>(b[i]));
  }
}

// Contiguous host memory holding `tensor`: the tensor itself when it already is that.
torch::Tensor hostBuffer(const torch::Tensor& tensor) {
  return tensor.contiguous().to(torch::kCPU);
}

// Writes the result back where the buffer is a copy (GPU or non-contiguous input).
void copyBack(const torch::Tensor& tensor, const torch::Tensor& buffer) {
  if (!tensor.is_same(buffer)) tensor.copy_(buffer);
}

std::byte* bytes(const torch::Tensor& tensor) {
  return static_cast<std::byte*>(tensor.data_ptr());
}

// The row shape [*] of a [n, *] tensor, prefixed with `rows`.
std::vector<std::int64_t> withRows(const torch::Tensor& tensor, std::int64_t rows) {
  std::vector<std::int64_t> shape = tensor.sizes().vec();
  shape[0] = rows;
  return shape;
}

}  // namespace

class MpiProcessGroup::MpiWork final : public Work {
 public:
  void wait() override {
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, [this] { return done_; });
    if (error_) std::rethrow_exception(error_);
  }

  bool isCompleted() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return done_;
  }

  void finish(RankRows result, std::exception_ptr error) {
    setResult(std::move(result));
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = error;
    done_ = true;
    done_cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::exception_ptr error_;
};

MpiProcessGroup::MpiProcessGroup(MPI_Comm comm)
    : ProcessGroup(commRank(comm), commSize(comm)), parent_(comm) {
  KGREC_MPI_CHECK(MPI_Comm_dup(comm, &comm_));
  KGREC_MPI_CHECK(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
  KGREC_MPI_CHECK(MPI_Type_contiguous(2, MPI_BYTE, &two_bytes_));
  KGREC_MPI_CHECK(MPI_Type_commit(&two_bytes_));
  KGREC_MPI_CHECK(MPI_Op_create(&sumInto<c10::Half>, /*commute=*/1, &half_sum_));
  KGREC_MPI_CHECK(MPI_Op_create(&sumInto<c10::BFloat16>, /*commute=*/1, &bfloat16_sum_));
  worker_ = std::thread([this] { workerLoop(); });
}

std::shared_ptr<ProcessGroup> MpiProcessGroup::duplicate() const {
  return std::make_shared<MpiProcessGroup>(parent_);
}

MpiProcessGroup::~MpiProcessGroup() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;  // too late to free anything; MPI has released it all
  // Codes are ignored: a destructor cannot report them and the handles are gone either way.
  MPI_Op_free(&bfloat16_sum_);
  MPI_Op_free(&half_sum_);
  MPI_Type_free(&two_bytes_);
  MPI_Comm_free(&comm_);
}

WorkPtr MpiProcessGroup::enqueue(Task task) {
  auto work = std::make_shared<MpiWork>();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back({work, std::move(task)});
  }
  wake_.notify_one();
  return work;
}

void MpiProcessGroup::workerLoop() {
  for (;;) {
    Queued next;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to run
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    RankRows result;
    std::exception_ptr error;
    try {
      result = next.task();
    } catch (...) {
      error = std::current_exception();
    }
    next.work->finish(std::move(result), error);
  }
}

MPI_Datatype MpiProcessGroup::transferType(torch::ScalarType type, const char* operation) const {
  switch (c10::elementSize(type)) {
    case 1: return MPI_UINT8_T;
    case 2: return two_bytes_;
    case 4: return MPI_UINT32_T;
    case 8: return MPI_UINT64_T;
    default:
      throw CommError(rank(), operation,
                      fmt::format("dtype {} is not supported", c10::toString(type)));
  }
}

WorkPtr MpiProcessGroup::runAllReduce(torch::Tensor tensor, ReduceOp op) {
  MPI_Datatype type = MPI_DATATYPE_NULL;
  MPI_Op sum = MPI_SUM;
  switch (tensor.scalar_type()) {
    case torch::kFloat: type = MPI_FLOAT; break;
    case torch::kDouble: type = MPI_DOUBLE; break;
    case torch::kInt: type = MPI_INT32_T; break;
    case torch::kLong: type = MPI_INT64_T; break;
    case torch::kHalf: type = two_bytes_; sum = half_sum_; break;
    case torch::kBFloat16: type = two_bytes_; sum = bfloat16_sum_; break;
    default: KGREC_ASSERT(false);  // ProcessGroup::allReduce admits only the types above
  }
  torch::Tensor buffer = hostBuffer(tensor);
  return enqueue([this, tensor, buffer, type, sum, op]() {
    const std::int64_t n = buffer.numel();
    const std::int64_t element = buffer.element_size();
    // MPI counts are int: larger tensors go in pieces.
    for (std::int64_t offset = 0; offset < n; offset += kMaxCount) {
      const int count = static_cast<int>(std::min(kMaxCount, n - offset));
      KGREC_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, bytes(buffer) + offset * element, count, type,
                                    sum, comm_));
    }
    if (op == ReduceOp::kAvg) buffer.div_(size());
    copyBack(tensor, buffer);
    return RankRows{};
  });
}

WorkPtr MpiProcessGroup::runBroadcast(torch::Tensor tensor, int root) {
  MPI_Datatype type = transferType(tensor.scalar_type(), "broadcast");
  torch::Tensor buffer = hostBuffer(tensor);
  return enqueue([this, tensor, buffer, type, root]() {
    const std::int64_t n = buffer.numel();
    const std::int64_t element = buffer.element_size();
    for (std::int64_t offset = 0; offset < n; offset += kMaxCount) {
      const int count = static_cast<int>(std::min(kMaxCount, n - offset));
      KGREC_MPI_CHECK(MPI_Bcast(bytes(buffer) + offset * element, count, type, root, comm_));
    }
    copyBack(tensor, buffer);
    return RankRows{};
  });
}

WorkPtr MpiProcessGroup::runBarrier() {
  return enqueue([this]() {
    KGREC_MPI_CHECK(MPI_Barrier(comm_));
    return RankRows{};
  });
}

WorkPtr MpiProcessGroup::runAllGather(torch::Tensor tensor) {
  MPI_Datatype type = transferType(tensor.scalar_type(), "allGather");
  torch::Tensor buffer = hostBuffer(tensor);
  return enqueue([this, tensor, buffer, type]() {
    const std::int64_t n = buffer.numel();
    if (n * size() > kMaxCount) {
      throw CommError(rank(), "allGather",
                      fmt::format("{} elements per rank exceed MPI's int counts", n));
    }
    std::vector<std::int64_t> shape = buffer.sizes().vec();
    shape.insert(shape.begin(), size());
    torch::Tensor out = torch::empty(shape, buffer.options());
    KGREC_MPI_CHECK(MPI_Allgather(buffer.data_ptr(), static_cast<int>(n), type, out.data_ptr(),
                                  static_cast<int>(n), type, comm_));
    return RankRows{out.to(tensor.device()), std::vector<std::int64_t>(size(), 1)};
  });
}

namespace {

// Metadata every rank sends with a variable-size operation, so that a rank whose rows differ
// in width or dtype is reported on every rank (instead of a garbled exchange).
struct RowsMeta {
  std::int64_t rows, row_elements, dtype;
};

void checkAgreement(const std::vector<RowsMeta>& metas, int rank, const char* operation) {
  const RowsMeta& mine = metas[rank];
  for (std::size_t r = 0; r < metas.size(); ++r) {
    if (metas[r].row_elements != mine.row_elements || metas[r].dtype != mine.dtype) {
      throw CommError(
          rank, operation,
          fmt::format("rank {} sends rows of {} {} elements, this rank rows of {} {} elements", r,
                      metas[r].row_elements,
                      c10::toString(static_cast<torch::ScalarType>(metas[r].dtype)),
                      mine.row_elements, c10::toString(static_cast<torch::ScalarType>(mine.dtype))));
    }
  }
}

// Element counts and displacements of a variable-size MPI call, checked against int's range.
void toMpiCounts(const std::vector<std::int64_t>& rows, std::int64_t row_elements, int rank,
                 const char* operation, std::vector<int>& counts, std::vector<int>& displs) {
  counts.resize(rows.size());
  displs.resize(rows.size());
  std::int64_t offset = 0;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const std::int64_t count = rows[r] * row_elements;
    if (offset + count > kMaxCount) {
      throw CommError(rank, operation,
                      fmt::format("{} elements exceed MPI's int counts", offset + count));
    }
    counts[r] = static_cast<int>(count);
    displs[r] = static_cast<int>(offset);
    offset += count;
  }
}

}  // namespace

WorkPtr MpiProcessGroup::runAllGatherV(torch::Tensor tensor) {
  MPI_Datatype type = transferType(tensor.scalar_type(), "allGatherV");
  torch::Tensor buffer = hostBuffer(tensor);
  return enqueue([this, tensor, buffer, type]() {
    const std::int64_t width = rowElements(buffer);
    const RowsMeta mine{buffer.size(0), width, static_cast<std::int64_t>(buffer.scalar_type())};
    std::vector<RowsMeta> metas(size());
    KGREC_MPI_CHECK(MPI_Allgather(&mine, 3, MPI_INT64_T, metas.data(), 3, MPI_INT64_T, comm_));
    checkAgreement(metas, rank(), "allGatherV");

    std::vector<std::int64_t> rows(size());
    std::transform(metas.begin(), metas.end(), rows.begin(), [](const RowsMeta& m) { return m.rows; });
    std::vector<int> counts, displs;
    toMpiCounts(rows, width, rank(), "allGatherV", counts, displs);
    std::int64_t total = 0;
    for (std::int64_t r : rows) total += r;
    torch::Tensor out = torch::empty(withRows(buffer, total), buffer.options());
    KGREC_MPI_CHECK(MPI_Allgatherv(buffer.data_ptr(), counts[rank()], type, out.data_ptr(),
                                   counts.data(), displs.data(), type, comm_));
    return RankRows{out.to(tensor.device()), std::move(rows)};
  });
}

WorkPtr MpiProcessGroup::runAllToAllV(torch::Tensor tensor, std::vector<std::int64_t> send_counts) {
  MPI_Datatype type = transferType(tensor.scalar_type(), "allToAllV");
  torch::Tensor buffer = hostBuffer(tensor);
  return enqueue([this, tensor, buffer, type, send_counts]() {
    const std::int64_t width = rowElements(buffer);
    const auto dtype = static_cast<std::int64_t>(buffer.scalar_type());
    std::vector<RowsMeta> sent(size()), received(size());
    for (int r = 0; r < size(); ++r) sent[r] = {send_counts[r], width, dtype};
    KGREC_MPI_CHECK(MPI_Alltoall(sent.data(), 3, MPI_INT64_T, received.data(), 3, MPI_INT64_T, comm_));
    // checkAgreement compares with received[rank()], which is this rank's own metadata.
    checkAgreement(received, rank(), "allToAllV");

    std::vector<std::int64_t> recv_rows(size());
    std::transform(received.begin(), received.end(), recv_rows.begin(),
                   [](const RowsMeta& m) { return m.rows; });
    std::vector<int> send_elements, send_displs, recv_elements, recv_displs;
    toMpiCounts(send_counts, width, rank(), "allToAllV", send_elements, send_displs);
    toMpiCounts(recv_rows, width, rank(), "allToAllV", recv_elements, recv_displs);
    std::int64_t total = 0;
    for (std::int64_t r : recv_rows) total += r;
    torch::Tensor out = torch::empty(withRows(buffer, total), buffer.options());
    KGREC_MPI_CHECK(MPI_Alltoallv(buffer.data_ptr(), send_elements.data(), send_displs.data(), type,
                                  out.data_ptr(), recv_elements.data(), recv_displs.data(), type,
                                  comm_));
    return RankRows{out.to(tensor.device()), std::move(recv_rows)};
  });
}

}  // namespace kgrec
