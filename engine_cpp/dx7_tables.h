// dx7_tables.h - lookup tables that depend on the sample rate, built once per engine.
#pragma once

#include "dx7_common.h"

namespace dx7 {

struct Tables {
  int32_t sin_log[1024];    // -1024*log2(sin) for a quarter wave (1024 units = one doubling)
  uint16_t sin_exp[1024];   // (2^(i/1024) - 1) * 4096
  int32_t exp_rev[1024];    // 4096 + sin_exp[i ^ 1023]: the kernel's exp lookup
  int32_t freq_lut[1025];   // phase increment per sample for logfreq 20.x octaves
  int32_t lfo_sin[2048];    // interleaved (delta, value) Q24 sine, 1024 points per cycle
  uint32_t env_sr_mult;     // Q24 factor making envelopes run at 44.1 kHz speed
  int32_t pitchenv_unit;    // pitch EG Q24 octave step per block per rate unit
  uint32_t lfo_unit;        // LFO delay counter step per block per unit
  uint32_t lfo_ratio;       // LFO phase step per block per Hz (32-bit phase)
  double sample_rate;

  // sample_rate in Hz (8000..192000).
  void init(double sample_rate);
  // logfreq (Q24 log2 Hz) -> phase increment per sample (Q24 cycles).
  int32_t freq(int32_t logfreq) const;
  // phase (Q24 cycle, any int) -> sine value in Q24 (-1..1).
  int32_t lfo_sine(int32_t phase) const;
};

}  // namespace dx7
