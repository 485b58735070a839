#pragma once
// A small, fixed-algorithm PRNG so that every seeded result (synthetic graphs, splits,
// samples) is the same on every machine and standard library. std:: distributions are not:
// their algorithms are implementation-defined.

#include <cstdint>

namespace kgrec {

// A uniform 64-bit value mapped to [0, bound) by Lemire's multiply-shift (bias < 2^-32 for
// the bounds kgrec uses, which are below 2^32).
inline std::uint64_t scaleToRange(std::uint64_t x, std::uint64_t bound) {
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(x) * bound) >> 64);
}

// SplitMix64 (Steele, Lea, Flood 2014): 64-bit state, passes BigCrush, trivially seekable.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, bound) for bound > 0.
  std::uint64_t below(std::uint64_t bound) { return scaleToRange(next(), bound); }
  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

// Derives an independent stream seed from a base seed and stream ids (epoch, rank, ...).
inline std::uint64_t mixSeed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0) {
  SplitMix64 mix(seed ^ (a * 0xD1B54A32D192ED03ULL) ^ (b * 0x8CB92BA72F3D8DD7ULL));
  return mix.next();
}

}  // namespace kgrec
