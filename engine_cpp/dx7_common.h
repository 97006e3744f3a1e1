// dx7_common.h - constants shared by every part of the dx7d FM engine.
//
// Fixed-point conventions follow msfa/Dexed (see docs/engine.md and DX7.md section 0):
//   logfreq  Q24 log2(Hz): 1 << 24 is one octave.
//   level    envelope level in Q24 doublings (256 DX7 units per doubling, << 16).
//   phase    uint32, 1 << 24 is one sine cycle (upper bits wrap freely).
#pragma once

#include <cstdint>

// Start-up time: Cling compiles everything at -O2, which is most of the JIT cost. Code
// that runs per note or per event (not per sample or per block) is compiled without
// optimisation under Cling; g++ and ahead-of-time builds ignore these markers.
#if defined(__clang__)
#define DX7_COLD_BEGIN _Pragma("clang optimize off")
#define DX7_COLD_END _Pragma("clang optimize on")
#define DX7_SCALAR_LOOP _Pragma("clang loop vectorize(disable) unroll(disable)")
#else
#define DX7_COLD_BEGIN
#define DX7_COLD_END
#define DX7_SCALAR_LOOP
#endif

namespace dx7 {

constexpr int kLgBlock = 6;              // control block = 64 frames (Dexed's N)
constexpr int kBlock = 1 << kLgBlock;    // envelopes, LFO, pitch advance once per block
constexpr int kVoiceBytes = 156;         // 155 VCED bytes + operator on/off mask (byte 155)
constexpr int kOps = 6;                  // index 0 = OP6 ... index 5 = OP1 (VCED order)
constexpr int kEnvMax = 1 << 14;         // Mark I attenuation: 0 = loudest, kEnvMax = silent
constexpr int kLevelThresh = kEnvMax - 100;  // ops quieter than this for a block are skipped
constexpr int kMaxPolyphony = 32;

inline int clampi(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

}  // namespace dx7
