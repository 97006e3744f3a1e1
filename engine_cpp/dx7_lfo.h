// dx7_lfo.h - the instrument's single LFO (DX7.md 3.8): a 32-bit phase accumulator that
// advances once per control block, a waveform function per wave, and the delay/fade-in.
#pragma once

#include "dx7_common.h"
#include "dx7_tables.h"

namespace dx7 {

class Lfo {
 public:
  // params = VCED bytes 137..142: speed, delay, PMD, AMD, key sync, wave (all clamped).
  void set(const uint8_t params[6], const Tables &t);
  // Advance one control block. value(): 0..1 in Q24; delay(): fade-in 0..1 in Q24.
  void tick();
  int32_t value() const { return value_; }
  int32_t delay() const { return fade_; }
  void key_down();   // restart delay; with key sync, restart the phase
  void reset() { phase_ = 0; delay_count_ = 0; random_ = 0; }

 private:
  uint32_t phase_ = 0;        // 2^32 = one LFO cycle
  uint32_t phase_step_ = 0;   // per block
  uint64_t delay_count_ = 0;  // 0..2^31 waiting, 2^31..2^32 fading in
  uint32_t wait_step_ = 0;    // per block, first half
  uint32_t fade_step_ = 0;    // per block, second half
  uint8_t random_ = 0;        // sample-and-hold state
  uint8_t wave_ = 0;
  bool sync_ = false;
  int32_t value_ = 1 << 23;
  int32_t fade_ = 0;
};

}  // namespace dx7
