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
inline int32_t mk1_sin(const Tables &t, uint32_t phase, int32_t atten) {
  const uint32_t ix = (phase >> 12) & 0xfff;
  const uint32_t low = ix & 0x3ff;
  uint32_t lg;
  switch (ix & 0xc00) {
    case 0x000: lg = t.sin_log[low]; break;
    case 0x400: lg = t.sin_log[low ^ 0x3ff]; break;
    case 0x800: lg = t.sin_log[low] | 0x8000u; break;
    default: lg = t.sin_log[low ^ 0x3ff] | 0x8000u; break;
  }
  uint32_t e = (lg + static_cast<uint32_t>(atten)) & 0xffffu;
  const bool negative = (e & 0x8000u) != 0;
  e &= 0x7fffu;
  const int32_t r = static_cast<int32_t>((4096u + t.sin_exp[(e & 0x3ffu) ^ 0x3ffu]) >> (e >> 10));
  return negative ? (-r - 1) * 8192 : r * 8192;
}

struct OpRun {         // one operator's parameters for one control block
  uint32_t phase0;     // phase at block frame 0
  int32_t freq;        // phase increment per frame
  int32_t g1;          // attenuation before frame 0
  int32_t dg;          // attenuation change per frame
};

// out[i] (+)= sin(phase + in[i]); in may be nullptr (no modulation input).
inline void op_run(const Tables &t, const OpRun &r, const int32_t *in, int32_t *out, bool add,
                   int s, int e) {
  for (int i = s; i < e; i++) {
    const uint32_t ph = r.phase0 + static_cast<uint32_t>(i) * static_cast<uint32_t>(r.freq) +
                        (in ? static_cast<uint32_t>(in[i]) : 0u);
    const int32_t y = mk1_sin(t, ph, r.g1 + (i + 1) * r.dg);
    out[i] = add ? out[i] + y : y;
  }
}

// Self-feedback operator: input = (y[n-1] + y[n-2]) >> (shift + 1); fb holds the history.
inline void op_feedback(const Tables &t, const OpRun &r, int32_t fb[2], int shift, int32_t *out,
                        bool add, int s, int e) {
  int32_t y0 = fb[0];
  int32_t y = fb[1];
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
