// dx7_lfo.h - the instrument's single LFO (DX7.md 3.8), msfa/Dexed model.
#pragma once

#include "dx7_common.h"
#include "dx7_tables.h"

namespace dx7 {

class Lfo {
 public:
  // params = VCED bytes 137..142: speed, delay, PMD, AMD, key sync, wave (all clamped).
  void set(const uint8_t params[6], const Tables &t);
  // Advance one control block. value(): 0..1 in Q24; delay(): fade-in 0..1 in Q24.
  void tick(const Tables &t);
  int32_t value() const { return value_; }
  int32_t delay() const { return delay_value_; }
  void key_down();   // restart delay; with key sync, restart the phase
  void reset() { phase_ = 0; delay_state_ = 0; rand_ = 0; }

 private:
  uint32_t phase_ = 0;
  uint32_t delta_ = 0;
  uint32_t delay_state_ = 0;
  uint32_t delay_inc_ = 0;
  uint32_t delay_inc2_ = 0;
  uint8_t rand_ = 0;
  int wave_ = 0;
  bool sync_ = false;
  int32_t value_ = 1 << 23;
  int32_t delay_value_ = 0;
};

}  // namespace dx7
