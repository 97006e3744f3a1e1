// dx7_env.h - DX7 operator envelope (4 rates, 4 levels), after msfa's model (Apache-2.0)
// with Dexed's measured hold times for equal-level segments.
#pragma once

#include "dx7_common.h"

namespace dx7 {

class Envelope {
 public:
  // rates/levels 0..99; outlevel in microsteps (0.0235 dB; 127 << 5 = full scale);
  // rate_scaling in qrate units 0..27; sr_mult = Tables::env_sr_mult.
  void init(const int rates[4], const int levels[4], int outlevel, int rate_scaling,
            uint32_t sr_mult);
  // Change parameters of a sounding envelope; the current segment is re-aimed.
  void update(const int rates[4], const int levels[4], int outlevel, int rate_scaling);
  // Advance one control block; returns the level in Q24 doublings (0 .. ~16 << 24).
  int32_t tick();
  void key(bool down);
  bool finished() const { return ix_ >= 4; }   // release segment reached L4
  bool released() const { return !down_; }
  bool falling() const { return !rising_; }
  int segment() const { return ix_; }
  // OL 0..99 -> scaled output level 0..127 (DX7.md 3.3).
  static int scale_output_level(int ol);

 private:
  void advance(int ix);
  int rates_[4] = {0, 0, 0, 0};
  int levels_[4] = {0, 0, 0, 0};
  int outlevel_ = 0;
  int rate_scaling_ = 0;
  uint32_t sr_mult_ = 1u << 24;
  int32_t level_ = 0;
  int32_t target_ = 0;
  bool rising_ = false;
  int ix_ = 4;
  int32_t inc_ = 0;
  int hold_ = 0;   // frames left on an equal-level segment
  bool down_ = false;
};

}  // namespace dx7
