#include "partition/partition_book.h"

#include <filesystem>

#include "engine/common/error.h"
#include "engine/store/hdf5_file.h"

namespace kgrec {

PartitionBook PartitionBook::fromOwnedNodes(std::int64_t num_nodes,
                                            const std::vector<std::vector<std::int32_t>>& owned) {
  KGREC_CHECK(!owned.empty(), "a partition book needs at least one part");
  PartitionBook b;
  b.part_of_.assign(num_nodes, -1);
  b.local_of_.assign(num_nodes, -1);
  b.part_begin_.assign(1, 0);
  b.global_ids_.reserve(num_nodes);
  for (std::size_t p = 0; p < owned.size(); ++p) {
    for (std::size_t local = 0; local < owned[p].size(); ++local) {
      const std::int32_t v = owned[p][local];
      KGREC_CHECK(v >= 0 && v < num_nodes && b.part_of_[v] == -1,
                  "node {} of part {} is out of range or owned twice", v, p);
      b.part_of_[v] = static_cast<std::int32_t>(p);
      b.local_of_[v] = static_cast<std::int32_t>(local);
      b.global_ids_.push_back(v);
    }
    b.part_begin_.push_back(static_cast<std::int64_t>(b.global_ids_.size()));
  }
  KGREC_CHECK(static_cast<std::int64_t>(b.global_ids_.size()) == num_nodes,
              "the parts own {} of {} nodes", b.global_ids_.size(), num_nodes);
  return b;
}

void PartitionBook::save(const std::string& path) const {
  Hdf5File f = Hdf5File::create(path);
  f.setAttribute("/", "magic", kPartitionBookMagic);
  f.setAttribute("/", "format_version", std::int64_t{kPartitionBookFormatVersion});
  f.setAttribute("/", "num_parts", std::int64_t{numParts()});
  f.setAttribute("/", "num_nodes", numNodes());
  f.writeVector("/part_of", part_of_);
  f.writeVector("/local_of", local_of_);
  f.writeVector("/part_begin", part_begin_);
  f.writeVector("/global_ids", global_ids_);
  f.close();
}

PartitionBook PartitionBook::load(const std::string& parts_dir) {
  const std::string path = (std::filesystem::path(parts_dir) / kPartitionBookFile).string();
  const Hdf5File f = Hdf5File::openRead(path);
  if (!f.hasAttribute("/", "magic") || f.readStringAttribute("/", "magic") != kPartitionBookMagic) {
    throw FormatError(fmt::format("{}: not a kgrec partition book; create one with kgrec partition", path));
  }
  const std::int64_t version = f.readIntAttribute("/", "format_version");
  if (version != kPartitionBookFormatVersion) {
    throw FormatError(fmt::format("{}: partition book version {}, this kgrec reads {}; re-run kgrec partition",
                                  path, version, kPartitionBookFormatVersion));
  }
  PartitionBook b;
  b.part_of_ = f.readVector<std::int32_t>("/part_of");
  b.local_of_ = f.readVector<std::int32_t>("/local_of");
  b.part_begin_ = f.readVector<std::int64_t>("/part_begin");
  b.global_ids_ = f.readVector<std::int32_t>("/global_ids");
  // Consistency, so that the O(1) lookups never index out of range on a damaged file.
  const std::int64_t n = b.numNodes();
  bool ok = b.local_of_.size() == b.part_of_.size() && b.global_ids_.size() == b.part_of_.size() &&
            b.part_begin_.size() >= 2 && b.part_begin_.front() == 0 && b.part_begin_.back() == n;
  for (std::size_t p = 0; ok && p + 1 < b.part_begin_.size(); ++p) {
    ok = b.part_begin_[p] <= b.part_begin_[p + 1];
    for (std::int64_t k = b.part_begin_[p]; ok && k < b.part_begin_[p + 1]; ++k) {
      const std::int32_t v = b.global_ids_[k];
      ok = v >= 0 && v < n && b.part_of_[v] == static_cast<std::int32_t>(p) &&
           b.local_of_[v] == k - b.part_begin_[p];
    }
  }
  if (!ok) throw FormatError(fmt::format("{}: inconsistent partition book; re-run kgrec partition", path));
  return b;
}

}  // namespace kgrec
