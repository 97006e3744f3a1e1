// dx7_kernel.h - per-sample operator kernels in the style of Dexed's "Mark I" engine:
// a log-sine table plus an exp table, attenuation added in the log domain.
//
// Every kernel renders block frames [s, e) of one 64-frame control block. Gains are
// Mark I attenuations (0 loud .. kEnvMax silent) ramping linearly across the block:
// frame i uses g1 + (i + 1) * dg. Phases are Q24 cycles: frame i uses phase0 + i * freq.
// Outputs are Q24-ish integers: a full-level operator peaks at about 2^25.
#pragma once

#include "dx7_common.h"
#include "dx7_tables.h"

namespace dx7 {

// phase in Q24 cycles, atten 0..kEnvMax-1 (1024 per doubling) -> sample (about +-2^26).
// Branch-free: quarter-wave mirror by XOR, sign carried in bit 15 of the log value,
// negative half = ~r (i.e. -r - 1), as the Mark I engine produces it.
inline int32_t mk1_sin(const Tables &t, uint32_t phase, int32_t atten) {
  const uint32_t ix = phase >> 12;
  const uint32_t mirror = 0u - ((ix >> 10) & 1u);                // 0 or ~0
  const uint32_t lg = static_cast<uint32_t>(t.sin_log[(ix ^ mirror) & 0x3ffu]) |
                      ((ix & 0x800u) << 4);
  const uint32_t e = (lg + static_cast<uint32_t>(atten)) & 0xffffu;
  const int32_t sign = -static_cast<int32_t>(e >> 15);              // 0 or -1
  const int32_t r = t.exp_rev[e & 0x3ffu] >> ((e >> 10) & 31u);
  return (r ^ sign) * 8192;
}

struct OpRun {         // one operator's parameters for one control block
  uint32_t phase0;     // phase at block frame 0
  int32_t freq;        // phase increment per frame
  int32_t g1;          // attenuation before frame 0
  int32_t dg;          // attenuation change per frame
};

}  // namespace dx7

#include "dx7_simd.h"

namespace dx7 {

// out[i] (+)= sin(phase + in[i]); kIn: has a modulation input, kAdd: add to out.
template <bool kIn, bool kAdd>
inline void op_run_t(const Tables &t, const OpRun &r, const int32_t *__restrict in,
                     int32_t *__restrict out, int s, int e) {
  const uint32_t phase0 = r.phase0, freq = static_cast<uint32_t>(r.freq);
  const int32_t g1 = r.g1, dg = r.dg;
  int i = s;
#if defined(__AVX2__)
  const v8u lane = {0, 1, 2, 3, 4, 5, 6, 7};
  for (; i + 8 <= e; i += 8) {
    const v8u idx = lane + static_cast<uint32_t>(i);
    v8u p = phase0 + idx * freq;
    if (kIn) p += (v8u)(*reinterpret_cast<const v8i_unaligned *>(in + i));
    const v8i g = g1 + (v8i)(idx + 1u) * dg;
    v8i y = mk1_sin8(t, p, g);
    v8i_unaligned *dst = reinterpret_cast<v8i_unaligned *>(out + i);
    if (kAdd) y += *dst;
    *dst = y;
  }
#endif
  DX7_SCALAR_LOOP
  for (; i < e; i++) {
    uint32_t p = phase0 + static_cast<uint32_t>(i) * freq;
    if (kIn) p += static_cast<uint32_t>(in[i]);
    const int32_t y = mk1_sin(t, p, g1 + (i + 1) * dg);
    out[i] = kAdd ? out[i] + y : y;
  }
}

inline void op_run(const Tables &t, const OpRun &r, const int32_t *in, int32_t *out, bool add,
                   int s, int e) {
  if (in) {
    if (add) op_run_t<true, true>(t, r, in, out, s, e);
    else op_run_t<true, false>(t, r, in, out, s, e);
  } else {
    if (add) op_run_t<false, true>(t, r, in, out, s, e);
    else op_run_t<false, false>(t, r, in, out, s, e);
  }
}

// Self-feedback operator: input = (y[n-1] + y[n-2]) >> (shift + 1); fb holds the history.
inline void op_feedback(const Tables &t, const OpRun &r, int32_t fb[2], int shift, int32_t *out,
                        bool add, int s, int e) {
  int32_t y0 = fb[0];
  int32_t y = fb[1];
  DX7_SCALAR_LOOP
  for (int i = s; i < e; i++) {
    const int32_t in = (y0 + y) >> (shift + 1);
    y0 = y;
    const uint32_t ph = r.phase0 + static_cast<uint32_t>(i) * static_cast<uint32_t>(r.freq) +
                        static_cast<uint32_t>(in);
    y = mk1_sin(t, ph, r.g1 + (i + 1) * r.dg);
    out[i] = add ? out[i] + y : y;
  }
  fb[0] = y0;
  fb[1] = y;
}

// Feedback loop through n = 2 or 3 operators (algorithms 6 and 4): the first gets the
// filtered output of the last; stage[k] (optional) receives operator k's output.
void op_loop(const Tables &t, const OpRun *runs, int n, int32_t fb[2], int shift, int32_t *out,
             int s, int e, int32_t *const *stage);

}  // namespace dx7
