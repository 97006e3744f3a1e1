// dx7_simd.h - eight frames of the Mark I operator at once (AVX2), written with compiler
// vector extensions: <immintrin.h> would cost ~0.9 s to parse in Cling at start-up.
// Same integer arithmetic as mk1_sin() in dx7_kernel.h, with table gathers.
#pragma once

#include "dx7_tables.h"

namespace dx7 {

#if defined(__AVX2__)
typedef int32_t v8i __attribute__((vector_size(32)));
typedef uint32_t v8u __attribute__((vector_size(32)));
typedef int32_t v8i_unaligned __attribute__((vector_size(32), aligned(4)));

inline v8i gather8(const int32_t *base, v8i index) {
#if defined(__clang__)
  return __builtin_ia32_gatherd_d256(v8i{}, base, index, v8i{} - 1, 4);
#else
  return __builtin_ia32_gathersiv8si(v8i{}, base, index, v8i{} - 1, 4);
#endif
}

// Eight frames of mk1_sin at once: the same integer arithmetic with table gathers.
inline v8i mk1_sin8(const Tables &t, v8u phase, v8i atten) {
  const v8u ix = phase >> 12;
  const v8u mirror = v8u{} - ((ix >> 10) & 1u);
  const v8i li = (v8i)((ix ^ mirror) & 0x3ffu);
  const v8u lg = (v8u)(gather8(t.sin_log, li)) | ((ix & 0x800u) << 4);
  const v8u e = (lg + (v8u)(atten)) & 0xffffu;
  const v8i sign = (v8i)(v8u{} - (e >> 15));
  const v8u r = (v8u)(gather8(t.exp_rev, (v8i)(e & 0x3ffu))) >>
                ((e >> 10) & 31u);
  return ((v8i)(r) ^ sign) << 13;
}
#endif

}  // namespace dx7
