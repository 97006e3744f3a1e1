// dx7_pitchenv.cpp - pitch EG levels, rates and movement (DX7.md 3.10).
#include "dx7_pitchenv.h"

namespace dx7 {

namespace {

// Level 0..99 -> ROM byte 0..255 with 128 = no shift (DX7.md 3.10, TABLE_PITCH_EG_LEVEL).
constexpr uint8_t kLevelByte[100] = {
    0,   12,  24,  33,  43,  52,  60,  67,  72,  76,  79,  82,  85,  87,  89,  91,  93,
    95,  96,  97,  98,  99,  100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111,
    112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128,
    129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145,
    146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162,
    163, 166, 168, 171, 174, 177, 181, 186, 193, 201, 210, 220, 231, 243, 255};

// Rate 0..99 -> speed in table units, v / 21.3 octaves per second (DX7.md 3.10,
// TABLE_PITCH_EG_RATE; the same table in the ROM and the reference).
constexpr uint8_t kRateSpeed[100] = {
    1,   2,   3,   3,   4,   4,   5,   5,   6,   6,   7,   7,   8,   8,   9,   9,   10,
    10,  11,  11,  12,  12,  13,  13,  14,  14,  15,  16,  16,  17,  18,  18,  19,  20,
    21,  22,  23,  24,  25,  26,  27,  28,  30,  31,  33,  34,  36,  37,  38,  39,  41,
    42,  44,  46,  47,  49,  51,  53,  54,  56,  58,  60,  62,  64,  66,  68,  70,  72,
    74,  76,  79,  82,  85,  88,  91,  94,  98,  102, 106, 110, 115, 120, 125, 130, 135,
    141, 147, 153, 159, 165, 171, 178, 185, 193, 202, 211, 232, 243, 254, 255};

}  // namespace

int PitchEnvelope::level_offset(int level) { return kLevelByte[clampi(level, 0, 99)] - 128; }

DX7_COLD_BEGIN
void PitchEnvelope::retarget(const int rates[4], const int levels[4]) {
  for (int k = 0; k < 4; k++) {
    target_[k] = level_offset(levels[k]) * (1 << 19);  // 1/32 octave = 2^19 in Q24
    step_[k] = kRateSpeed[clampi(rates[k], 0, 99)] * unit_;
  }
}

void PitchEnvelope::start(const int rates[4], const int levels[4], int32_t unit) {
  unit_ = unit;
  retarget(rates, levels);
  level_ = target_[3];  // a note starts from L4 (firmware and reference)
  stage_ = 0;
}

void PitchEnvelope::release() {
  if (stage_ < kRelease) stage_ = kRelease;
}
DX7_COLD_END

int32_t PitchEnvelope::advance() {
  if (stage_ == kSustain || stage_ == kDone) return level_;
  const int k = stage_ == kRelease ? 3 : stage_;
  const int32_t target = target_[k], step = step_[k];
  // Linear in pitch: one step a block towards the target, then the next segment.
  if (level_ < target) {
    level_ = target - level_ > step ? level_ + step : target;
  } else {
    level_ = level_ - target > step ? level_ - step : target;
  }
  if (level_ == target) stage_ = stage_ == kRelease ? kDone : stage_ + 1;
  return level_;
}

}  // namespace dx7
