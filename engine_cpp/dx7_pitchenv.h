// dx7_pitchenv.h - the voice's pitch envelope (DX7.md 3.10), msfa model.
#pragma once

#include "dx7_common.h"

namespace dx7 {

class PitchEnvelope {
 public:
  // rates/levels 0..99 (level 50 = no shift); unit = Tables::pitchenv_unit.
  void init(const int rates[4], const int levels[4], int32_t unit);
  // Change rates/levels without restarting (voice edit).
  void update(const int rates[4], const int levels[4]);
  // Advance one control block; returns the pitch offset in Q24 octaves (-4..+4).
  int32_t tick();
  void key(bool down);
  // Level 0..99 -> offset in 1/32 octave (-128..127).
  static int level_offset(int level);

 private:
  void advance(int ix);
  int rates_[4] = {0, 0, 0, 0};
  int levels_[4] = {50, 50, 50, 50};
  int32_t unit_ = 0;
  int32_t level_ = 0;
  int32_t target_ = 0;
  int32_t inc_ = 0;
  int ix_ = 4;
  bool rising_ = false;
  bool down_ = false;
};

}  // namespace dx7
