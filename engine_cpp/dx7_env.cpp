// dx7_env.cpp - the operator envelope's laws (DX7.md 3.3-3.5, section 4).
#include "dx7_env.h"

namespace dx7 {

namespace {

// Scaled level for OL / EG level 0..19 (DX7.md 3.3); from 20 up the scale is 28 + level.
constexpr uint8_t kLowLevels[20] = {0,  5,  9,  13, 17, 20, 23, 25, 27, 29,
                                    31, 33, 35, 37, 39, 41, 42, 43, 45, 46};

// Frames at 44.1 kHz that a segment whose start and end levels are equal waits before
// the next one, for effective rates 0..76 (from 77 up: 20 * (99 - R)). The values at
// R = 0, 10, ..., 70 and 76 are DX7.md 3.4's (measured on a TX816 for Dexed); the others
// were measured on the reference at 44.1 and 48 kHz, each to within 64 frames and set to
// the middle of what both rates allow (bench/reference_laws.py hold).
constexpr int32_t kHoldFrames[77] = {
    1764000, 1764015, 1411185, 1411185, 1190709, 1014295,  992246,  882009,  705593,  705593,
     584325,  507165,  502760,  440989,  418975,  352798,  308703,  286622,  253600,  220512,
     220500,  176416,  145528,  145528,  125682,  110240,  110240,   88224,   88224,   74982,
      61740,   61740,   55136,   48498,   44128,   37491,   31322,   30886,   27552,   27552,
      22050,   18513,   17645,   15445,   14111,   13210,   11040,    9241,    9241,    7707,
       6615,    6605,    5536,    5536,    4403,    3970,    3970,    3435,    2869,    2703,
       2249,    1968,    1901,    1802,    1436,    1369,    1235,    1134,     933,     835,
        837,     736,     567,     567,     535,     434,     441};

constexpr int32_t kAttackFloor = 1716 << 16;  // a rise starting lower jumps here (3.4)

// EG level L with the operator's output level -> target in Q24 doublings (DX7.md 3.4):
// 64 units per 6-bit EG step, plus the output level, minus the offset that puts
// L 99 / OL 99 at 3840 units (15 doublings); never below 16 units.
int32_t target_level(int level, int outlevel) {
  int units = 64 * (Envelope::scaled_level(level) >> 1) + outlevel - 4256;
  if (units < 16) units = 16;
  return units << 16;
}

// Rate 0..99 plus rate scaling -> Q24 doublings per 64-frame block at 44.1 kHz speed.
// qrate = 41 R / 64; per sample the level moves (4 + q mod 4) * 2^(q div 4 + 2) Q24
// units: one EG unit per 4096 samples at q 0, doubling every 4 (DX7.md 3.4).
int32_t block_step(int rate, int rate_scaling, uint32_t speed) {
  const int q = clampi(rate * 41 / 64 + rate_scaling, 0, 63);
  const int64_t per_sample = static_cast<int64_t>(4 + (q & 3)) << ((q >> 2) + 2);
  return static_cast<int32_t>((per_sample * kBlock * speed) >> 24);
}

// Effective rate (rate scaling counted in R units, clamp 99; measured) -> frames at fs.
int32_t hold_frames(int rate, int rate_scaling, uint32_t speed) {
  const int r = clampi(rate + rate_scaling, 0, 99);
  const int64_t at44k = r <= 76 ? kHoldFrames[r] : 20 * (99 - r);
  // The reference scales the 44.1 kHz count by 44100 / fs (shorter at higher rates).
  return static_cast<int32_t>((at44k * speed) >> 24);
}

}  // namespace

DX7_COLD_BEGIN
int Envelope::scaled_level(int level) {
  level = clampi(level, 0, 99);
  return level < 20 ? kLowLevels[level] : 28 + level;
}

void Envelope::build(const EgParams &p) {
  const int outlevel = p.outlevel;
  outlevel_ = outlevel;
  for (int k = 0; k < 4; k++) {
    Segment &s = seg_[k];
    s.target = target_level(p.level[k], outlevel_);
    s.step = block_step(p.rate[k], p.rate_scaling, speed_);
    // Equal start and end levels still take time (DX7.md 3.4). "Equal" means equal
    // targets: L 98 -> 99 (the same 6-bit EG level) waits, and so do two levels that
    // both sit on the floor (measured: bench/reference_laws.py hold). The first
    // segment starts from silence: L1 = 0 counts as equal and waits 1/20 of the time.
    const bool equal = k == 0 ? p.level[0] == 0 : s.target == seg_[k - 1].target;
    s.hold = equal ? hold_frames(p.rate[k], p.rate_scaling, speed_) : 0;
    if (k == 0) s.hold /= 20;
  }
}

void Envelope::start(const EgParams &p, uint32_t speed) {
  speed_ = speed;
  build(p);
  level_ = 0;
  enter(0);
}

void Envelope::retarget(const EgParams &p) {
  build(p);
  if (stage_ == kDone || stage_ == kSustain) {
    if (stage_ == kSustain) level_ = seg_[2].target;
    return;
  }
  rising_ = level_ < seg_[segment_index()].target;
}

void Envelope::release() {
  if (stage_ < kRelease) enter(kRelease);
}
DX7_COLD_END

void Envelope::enter(int stage) {
  stage_ = stage;
  if (stage_ == kSustain || stage_ == kDone) return;
  const Segment &s = seg_[segment_index()];
  // A hold only applies when the level really is at the segment's level already (a
  // release from mid-attack moves normally); the block that enters it is its first.
  const bool there = level_ == s.target || (stage == 0 && level_ == 0);
  if (there && s.hold > 0 && s.hold <= kBlock) {
    // A hold shorter than a block is over at once: the next segment moves in this
    // same block, one block sooner than with no hold at all (measured, R 96..98).
    enter(stage_ == kRelease ? kDone : stage_ + 1);
    return;
  }
  hold_left_ = there ? s.hold - kBlock : 0;
  rising_ = level_ < s.target;
}

int32_t Envelope::advance() {
  if (stage_ == kSustain || stage_ == kDone) return level_;
  const Segment &s = seg_[segment_index()];
  const int next = stage_ == kRelease ? kDone : stage_ + 1;
  if (hold_left_ > 0) {  // an equal-level segment: wait, then move on
    hold_left_ -= kBlock;
    if (hold_left_ <= 0) enter(next);
    return level_;
  }
  if (rising_) {
    // Attack: from the floor up, each step grows with the distance to full scale,
    // (16 - doublings) times the decay step (measured: docs/engine.md, "attack").
    if (level_ < kAttackFloor) level_ = kAttackFloor;
    const int32_t mult = 16 - (level_ >> 24);
    level_ += s.step * (mult > 1 ? mult : 1);
    if (level_ >= s.target) {
      level_ = s.target;
      enter(next);
    }
  } else {
    level_ -= s.step;  // decay: linear in dB
    if (level_ <= s.target) {
      level_ = s.target;
      enter(next);
    }
  }
  return level_;
}

}  // namespace dx7
