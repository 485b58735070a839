#include "models/encoder/packed_attention.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

// The vector helpers below are always inlined, so the ABI GCC warns about never applies.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace kgrec {
namespace {

// Eight floats (GCC/Clang vector extension): one AVX register where the CPU has AVX, two SSE
// ones otherwise; the compiler picks the instructions for each clone of attendSequence.
typedef float V8 __attribute__((vector_size(32)));
typedef std::int32_t V8i __attribute__((vector_size(32)));

#define KGREC_ALWAYS_INLINE inline __attribute__((always_inline))

KGREC_ALWAYS_INLINE V8 load(const float* p) {
  V8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

KGREC_ALWAYS_INLINE void store(float* p, V8 v) { std::memcpy(p, &v, sizeof v); }

KGREC_ALWAYS_INLINE V8 splat(float s) { return V8{} + s; }

// exp(x) for x in (-inf, 0] (larger x are taken as 0): Cephes' single-precision expf,
// exp(x) = 2^n exp(r) with |r| <= ln(2)/2 and a degree-7 polynomial for exp(r), within about
// 1 ulp like the SLEEF exp behind LibTorch's softmax. Below -87 it returns exp(-87) ~ 1.6e-38
// instead of a smaller number or 0: against a row sum >= 1 (the maximum's term is 1) that is
// invisible in float32.
KGREC_ALWAYS_INLINE V8 expNonPositive(V8 x) {
  x = x < -87.0f ? splat(-87.0f) : x;
  x = x > 0.0f ? splat(0.0f) : x;
  // n = round(x / ln 2): adding 1.5 * 2^23 rounds to an integer in the low mantissa bits.
  constexpr float kRound = 12582912.0f;
  const V8 t = x * 1.44269504088896341f + kRound;
  const V8 n = t - kRound;
  V8i ni;
  std::memcpy(&ni, &t, sizeof ni);
  std::int32_t round_bits;
  std::memcpy(&round_bits, &kRound, sizeof round_bits);
  ni -= round_bits;
  // r = x - n ln 2, ln 2 in two parts for precision.
  x = x - n * 0.693359375f;
  x = x - n * -2.12194440e-4f;
  const V8 z = x * x;
  V8 y = splat(1.9875691500e-4f);
  y = y * x + 1.3981999507e-3f;
  y = y * x + 8.3334519073e-3f;
  y = y * x + 4.1665795894e-2f;
  y = y * x + 1.6666665459e-1f;
  y = y * x + 5.0000001201e-1f;
  y = y * z + x + 1.0f;
  const V8i bits = (ni + 127) << 23;  // 2^n (n >= -126 here)
  V8 scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return y * scale;
}

// out[r][0..16) = scale * sum_t a[r][t] * b[t * ldb + 0..16) for the first `rows` of four rows:
// four rows by sixteen columns of a matrix product, in eight vector accumulators.
KGREC_ALWAYS_INLINE void tile4x16(const float* const a[4], const float* b, std::int64_t ldb,
                                  std::int64_t steps, float scale, float* out, std::int64_t ldo,
                                  std::int64_t rows) {
  V8 a00{}, a01{}, a10{}, a11{}, a20{}, a21{}, a30{}, a31{};
  for (std::int64_t t = 0; t < steps; ++t) {
    const V8 b0 = load(b + t * ldb);
    const V8 b1 = load(b + t * ldb + 8);
    const V8 s0 = splat(a[0][t]);
    const V8 s1 = splat(a[1][t]);
    const V8 s2 = splat(a[2][t]);
    const V8 s3 = splat(a[3][t]);
    a00 += s0 * b0;
    a01 += s0 * b1;
    a10 += s1 * b0;
    a11 += s1 * b1;
    a20 += s2 * b0;
    a21 += s2 * b1;
    a30 += s3 * b0;
    a31 += s3 * b1;
  }
  const V8 acc[4][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}};
  for (std::int64_t r = 0; r < rows; ++r) {
    store(out + r * ldo, acc[r][0] * scale);
    store(out + r * ldo + 8, acc[r][1] * scale);
  }
}

KGREC_ALWAYS_INLINE V8 vmax(V8 a, V8 b) { return a > b ? a : b; }

KGREC_ALWAYS_INLINE float horizontalMax(V8 v) {
  float m = v[0];
  for (int i = 1; i < 8; ++i) m = std::max(m, v[i]);
  return m;
}

KGREC_ALWAYS_INLINE float horizontalSum(V8 v) {
  return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

// Attention of one sequence of n tokens whose qkv rows start at `qkv` (row stride 3 * hidden),
// its context rows written from `ctx` (row stride hidden). Scratch: kt >= hidden * padded(n),
// scores >= n * padded(n) floats, padded(n) = n rounded up to 16.
KGREC_ALWAYS_INLINE void attendSequenceBody(const float* qkv, float* ctx, std::int64_t n,
                                            std::int64_t hidden, std::int64_t heads, float scale,
                                            float* kt, float* scores) {
  const std::int64_t D = hidden / heads;
  const std::int64_t row = 3 * hidden;
  const std::int64_t lp = (n + 15) / 16 * 16;
  // The keys of every head transposed once, kt[c][j] for feature c = head * D + d: each key row
  // is read front to back (the rows lie 3 * hidden apart), eight keys at a time so that the
  // writes are eight floats long. Columns past n repeat the last key; their scores are masked.
  for (std::int64_t j0 = 0; j0 < lp; j0 += 8) {
    const float* keys[8];
    for (int r = 0; r < 8; ++r) keys[r] = qkv + hidden + std::min(j0 + r, n - 1) * row;
    for (std::int64_t c = 0; c < hidden; ++c) {
      float* to = kt + c * lp + j0;
      for (int r = 0; r < 8; ++r) to[r] = keys[r][c];
    }
  }
  for (std::int64_t h = 0; h < heads; ++h) {
    const float* q = qkv + h * D;
    const float* kth = kt + h * D * lp;
    const float* v = qkv + 2 * hidden + h * D;
    // scores[i][j] = scale * q_i . k_j, four query rows by sixteen keys at a time.
    for (std::int64_t i0 = 0; i0 < n; i0 += 4) {
      const float* qr[4];
      for (int r = 0; r < 4; ++r) qr[r] = q + std::min(i0 + r, n - 1) * row;
      for (std::int64_t j0 = 0; j0 < lp; j0 += 16) {
        tile4x16(qr, kth + j0, lp, D, scale, scores + i0 * lp + j0, lp, std::min<std::int64_t>(4, n - i0));
      }
    }
    // Softmax of each row over its n keys; the padding columns become 0.
    for (std::int64_t i = 0; i < n; ++i) {
      float* s = scores + i * lp;
      for (std::int64_t j = n; j < lp; ++j) s[j] = -std::numeric_limits<float>::infinity();
      V8 mv = load(s);
      for (std::int64_t j0 = 8; j0 < lp; j0 += 8) mv = vmax(mv, load(s + j0));
      const float m = horizontalMax(mv);
      for (std::int64_t j0 = 0; j0 < lp; j0 += 8) store(s + j0, expNonPositive(load(s + j0) - m));
      for (std::int64_t j = n; j < lp; ++j) s[j] = 0.0f;
      V8 sv{};
      for (std::int64_t j0 = 0; j0 < lp; j0 += 8) sv += load(s + j0);
      const float inv = 1.0f / horizontalSum(sv);
      for (std::int64_t j0 = 0; j0 < lp; j0 += 8) store(s + j0, load(s + j0) * inv);
    }
    // context_i = sum_j p_ij v_j, four rows by sixteen of the head's columns at a time.
    for (std::int64_t i0 = 0; i0 < n; i0 += 4) {
      const float* pr[4];
      for (int r = 0; r < 4; ++r) pr[r] = scores + std::min(i0 + r, n - 1) * lp;
      for (std::int64_t d0 = 0; d0 < D; d0 += 16) {
        tile4x16(pr, v + d0, row, n, 1.0f, ctx + i0 * hidden + h * D + d0, hidden,
                 std::min<std::int64_t>(4, n - i0));
      }
    }
  }
}

using AttendFn = void (*)(const float*, float*, std::int64_t, std::int64_t, std::int64_t, float,
                         float*, float*);

void attendSequenceGeneric(const float* qkv, float* ctx, std::int64_t n, std::int64_t hidden,
                           std::int64_t heads, float scale, float* kt, float* scores) {
  attendSequenceBody(qkv, ctx, n, hidden, heads, scale, kt, scores);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// The same body compiled for AVX2 + FMA (8 floats a register, fused multiply-adds), used when
// the CPU has both; the build itself targets plain x86-64.
__attribute__((target("avx2,fma"))) void attendSequenceAvx2(
    const float* qkv, float* ctx, std::int64_t n, std::int64_t hidden, std::int64_t heads,
    float scale, float* kt, float* scores) {
  attendSequenceBody(qkv, ctx, n, hidden, heads, scale, kt, scores);
}

AttendFn pickAttend() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? attendSequenceAvx2
                                                                          : attendSequenceGeneric;
}
#else
AttendFn pickAttend() { return attendSequenceGeneric; }
#endif

}  // namespace

bool packedSelfAttentionSupports(const torch::TensorOptions& rows, std::int64_t head_dim) {
  return rows.device().is_cpu() && rows.dtype() == torch::kFloat32 && head_dim % 16 == 0;
}

bool packedSelfAttentionSupports(const torch::Tensor& qkv, std::int64_t heads) {
  return qkv.dim() == 2 && qkv.is_contiguous() && qkv.size(1) % (3 * heads) == 0 &&
         packedSelfAttentionSupports(qkv.options(), qkv.size(1) / (3 * heads));
}

torch::Tensor packedSelfAttention(const torch::Tensor& qkv, const std::vector<std::int64_t>& lengths,
                                  std::int64_t heads) {
  const std::int64_t hidden = qkv.size(1) / 3;
  const std::int64_t head_dim = hidden / heads;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim)));
  torch::Tensor context = torch::empty({qkv.size(0), hidden}, qkv.options());
  std::vector<std::int64_t> first(lengths.size() + 1, 0);
  for (std::size_t s = 0; s < lengths.size(); ++s) first[s + 1] = first[s] + lengths[s];
  TORCH_CHECK(first.back() == qkv.size(0), "packedSelfAttention: lengths sum to ", first.back(),
              " but qkv has ", qkv.size(0), " rows");
  static const AttendFn attendSequence = pickAttend();
  const float* in = qkv.data_ptr<float>();
  float* out = context.data_ptr<float>();
  const auto sequences = static_cast<std::int64_t>(lengths.size());
  at::parallel_for(0, sequences, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> kt;
    std::vector<float> scores;
    for (std::int64_t s = begin; s < end; ++s) {
      const std::int64_t n = lengths[s];
      if (n == 0) continue;
      const std::int64_t lp = (n + 15) / 16 * 16;
      if (static_cast<std::int64_t>(kt.size()) < hidden * lp) kt.resize(hidden * lp);
      if (static_cast<std::int64_t>(scores.size()) < n * lp) scores.resize(n * lp);
      attendSequence(in + first[s] * 3 * hidden, out + first[s] * hidden, n, hidden, heads, scale,
                     kt.data(), scores.data());
    }
  });
  return context;
}

}  // namespace kgrec
