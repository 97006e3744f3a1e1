// dx7_pitchenv.h - the voice's pitch envelope (DX7.md 3.10): four segments moving
// linearly in pitch, starting from L4 at note-on, holding at L3 while the key is down.
#pragma once

#include "dx7_common.h"

namespace dx7 {

class PitchEnvelope {
 public:
  // rates/levels 0..99 (level 50 = no shift); unit = Tables::pitch_eg_unit.
  void start(const int rates[4], const int levels[4], int32_t unit);
  // Voice edit: new rates and levels; the level and the segment it is on are kept.
  void retarget(const int rates[4], const int levels[4]);
  void release();  // key off: towards L4
  // Advance one control block; returns the pitch offset in Q24 octaves (-4..+4).
  int32_t advance();
  // Level 0..99 -> offset in 1/32 octave (-128..127).
  static int level_offset(int level);

 private:
  enum Stage { kSustain = 3, kRelease = 4, kDone = 5 };  // 0..2: segments 1..3
  int32_t target_[4] = {};  // Q24 octaves
  int32_t step_[4] = {};    // Q24 octaves per block
  int32_t unit_ = 0;
  int32_t level_ = 0;
  int stage_ = kDone;
};

}  // namespace dx7
