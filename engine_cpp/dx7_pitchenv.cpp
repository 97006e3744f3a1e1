// dx7_pitchenv.cpp - pitch envelope; tables from DX7.md 3.10 (firmware = msfa).
#include "dx7_pitchenv.h"

namespace dx7 {

DX7_COLD_BEGIN
namespace {

const uint8_t kRate[100] = {
    1,   2,   3,   3,   4,   4,   5,   5,   6,   6,   7,   7,   8,   8,   9,   9,   10,
    10,  11,  11,  12,  12,  13,  13,  14,  14,  15,  16,  16,  17,  18,  18,  19,  20,
    21,  22,  23,  24,  25,  26,  27,  28,  30,  31,  33,  34,  36,  37,  38,  39,  41,
    42,  44,  46,  47,  49,  51,  53,  54,  56,  58,  60,  62,  64,  66,  68,  70,  72,
    74,  76,  79,  82,  85,  88,  91,  94,  98,  102, 106, 110, 115, 120, 125, 130, 135,
    141, 147, 153, 159, 165, 171, 178, 185, 193, 202, 211, 232, 243, 254, 255};

const uint8_t kLevel[100] = {
    0,   12,  24,  33,  43,  52,  60,  67,  72,  76,  79,  82,  85,  87,  89,  91,  93,
    95,  96,  97,  98,  99,  100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111,
    112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128,
    129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145,
    146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162,
    163, 166, 168, 171, 174, 177, 181, 186, 193, 201, 210, 220, 231, 243, 255};

}  // namespace

int PitchEnvelope::level_offset(int level) { return kLevel[clampi(level, 0, 99)] - 128; }

void PitchEnvelope::init(const int rates[4], const int levels[4], int32_t unit) {
  unit_ = unit;
  for (int i = 0; i < 4; i++) {
    rates_[i] = clampi(rates[i], 0, 99);
    levels_[i] = clampi(levels[i], 0, 99);
  }
  level_ = level_offset(levels_[3]) * (1 << 19);
  down_ = true;
  advance(0);
}

void PitchEnvelope::update(const int rates[4], const int levels[4]) {
  for (int i = 0; i < 4; i++) {
    rates_[i] = clampi(rates[i], 0, 99);
    levels_[i] = clampi(levels[i], 0, 99);
  }
  if (ix_ < 4) advance(ix_);
}

void PitchEnvelope::advance(int ix) {
  ix_ = ix;
  if (ix_ >= 4) return;
  target_ = level_offset(levels_[ix_]) * (1 << 19);
  rising_ = target_ > level_;
  inc_ = kRate[rates_[ix_]] * unit_;
}

DX7_COLD_END

int32_t PitchEnvelope::tick() {
  if (ix_ < 3 || (ix_ < 4 && !down_)) {
    if (rising_) {
      level_ += inc_;
      if (level_ >= target_) {
        level_ = target_;
        advance(ix_ + 1);
      }
    } else {
      level_ -= inc_;
      if (level_ <= target_) {
        level_ = target_;
        advance(ix_ + 1);
      }
    }
  }
  return level_;
}

DX7_COLD_BEGIN
void PitchEnvelope::key(bool down) {
  if (down_ != down) {
    down_ = down;
    advance(down ? 0 : 3);
  }
}

DX7_COLD_END

}  // namespace dx7
