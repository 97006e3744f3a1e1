// dx7_kernel.cpp - the multi-operator feedback loop of algorithms 4 and 6.
#include "dx7_kernel.h"

namespace dx7 {

void op_loop(const Tables &t, const OpRun *runs, int n, int32_t fb[2], int shift, int32_t *out,
             int s, int e, int32_t *const *stage) {
  int32_t y0 = fb[0];
  int32_t y = fb[1];
  for (int i = s; i < e; i++) {
    const int32_t in = (y0 + y) >> (shift + 1);
    y0 = y;
    int32_t x = in;
    for (int k = 0; k < n; k++) {
      const OpRun &r = runs[k];
      const uint32_t ph = r.phase0 + static_cast<uint32_t>(i) * static_cast<uint32_t>(r.freq) +
                          static_cast<uint32_t>(x);
      x = mk1_sin(t, ph, r.g1 + (i + 1) * r.dg);
      if (stage && stage[k]) stage[k][i] = x;
    }
    out[i] += x;
    y = x;  // the loop's history is the last operator's output
  }
  fb[0] = y0;
  fb[1] = y;
}

}  // namespace dx7
