// dx7_tables.h - what the engine works out once per sample rate: the Mark I kernel's
// log-sine and exp tables, and the factors that turn DX7 rates (per second, or per
// 44.1 kHz sample) into steps per 64-frame control block.
#pragma once

#include "dx7_common.h"

namespace dx7 {

struct Tables {
  // Kernel tables (DX7.md 3.16, Mark I): quarter-wave log-sine and exp.
  int32_t sin_log[1024];    // -1024*log2(sin) for a quarter wave (1024 units = one doubling)
  uint16_t sin_exp[1024];   // (2^(i/1024) - 1) * 4096
  int32_t exp_rev[1024];    // 4096 + sin_exp[i ^ 1023]: the kernel's exp lookup

  double sample_rate;       // Hz
  double cycles_per_hz;     // Q24 phase per frame for 1 Hz = 2^24 / fs
  uint32_t eg_speed;        // Q24 factor 44100 / fs: Dexed's envelopes keep 44.1 kHz speed
  int32_t pitch_eg_unit;    // Q24 octaves per block for one pitch-EG rate-table unit
  double lfo_phase_per_hz;  // LFO phase (2^32 = one cycle) per block for 1 Hz
  double lfo_delay_unit;    // LFO delay counter per block for one delay-law unit
  double pow2_64ths[64];    // 2^(k/64), k = 0..63: the table part of pow2()

  // fs in Hz (8000..192000).
  void init(double fs);
  // Pitch (Q24 log2 Hz) -> phase increment per frame (Q24 cycles).
  int32_t phase_increment(int32_t logfreq) const;
  // 2^x for -1000 < x < 1000, relative error < 1e-11, without libm (a 64th-of-an-octave
  // table times a short series): the per-block pitch and AM laws call it 6+ times a block.
  double pow2(double x) const;
};

}  // namespace dx7
