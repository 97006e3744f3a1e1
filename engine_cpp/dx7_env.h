// dx7_env.h - a DX7 operator envelope as four segments (DX7.md 3.3-3.5).
//
// Each segment is a target level and a step per control block, both worked out when
// the note starts (or is edited); advance() moves the level one block along the current
// segment. Levels are Q24 doublings: 1 << 24 = 6.02 dB, 256 DX7 EG units per doubling.
#pragma once

#include "dx7_common.h"

namespace dx7 {

// One operator's envelope, resolved for one note.
struct EgParams {
  int rate[4];       // R1..R4, 0..99
  int level[4];      // L1..L4, 0..99
  int outlevel;      // microsteps (1/32 of an OL unit): 32 * (scaled OL + KLS) + velocity
  int rate_scaling;  // qrate units 0..27 added to every segment (DX7.md 3.5)
};

class Envelope {
 public:
  // Key on: segment 1 from silence. speed = Tables::eg_speed (Q24, 44100 / fs).
  void start(const EgParams &p, uint32_t speed);
  // Voice edit while sounding: new targets and steps; the current segment is re-aimed.
  void retarget(const EgParams &p);
  // Key off: the release segment (towards L4) starts from the current level.
  void release();
  // Advance one control block; returns the level in Q24 doublings (0 .. ~16 << 24).
  int32_t advance();
  bool released() const { return stage_ >= kRelease; }
  bool done() const { return stage_ == kDone; }   // the release reached L4
  // Released and no longer rising: the level can only fall or stay.
  bool fading() const { return stage_ == kDone || (stage_ == kRelease && !rising_); }

  // OL or EG level 0..99 -> the DX7's scaled level 0..127 (DX7.md 3.3).
  static int scaled_level(int level);

 private:
  enum Stage { kSustain = 3, kRelease = 4, kDone = 5 };  // 0..2: segments 1..3
  struct Segment {
    int32_t target;  // Q24 doublings
    int32_t step;    // Q24 doublings per block (before the attack multiplier)
    int32_t hold;    // frames an equal-level segment waits (0 = moves normally)
  };
  void build(const EgParams &p);
  void enter(int stage);
  int segment_index() const { return stage_ == kRelease ? 3 : stage_; }

  Segment seg_[4] = {};
  uint32_t speed_ = 1u << 24;
  int outlevel_ = 0;  // output level of the last build(), microsteps
  int stage_ = kDone;
  int32_t level_ = 0;
  int32_t hold_left_ = 0;
  bool rising_ = false;
};

}  // namespace dx7
