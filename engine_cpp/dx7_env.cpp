// dx7_env.cpp - operator envelope; numbers in DX7.md 3.4.
#include "dx7_env.h"

namespace dx7 {

DX7_COLD_BEGIN
namespace {

const int kLowLevels[20] = {0, 5, 9, 13, 17, 20, 23, 25, 27, 29,
                            31, 33, 35, 37, 39, 41, 42, 43, 45, 46};

// Frames at 44.1 kHz an equal-level segment lasts, rates 0..76 (Dexed/TX816 measurement).
const int kHoldFrames[77] = {
    1764000, 1764000, 1411200, 1411200, 1190700, 1014300, 992250, 882000, 705600, 705600,
    584325,  507150,  502740,  441000,  418950,  352800,  308700, 286650, 253575, 220500,
    220500,  176400,  145530,  145530,  125685,  110250,  110250, 88200,  88200,  74970,
    61740,   61740,   55125,   48510,   44100,   37485,   31311,  30870,  27562,  27562,
    22050,   18522,   17640,   15435,   14112,   13230,   11025,  9261,   9261,   7717,
    6615,    6615,    5512,    5512,    4410,    3969,    3969,   3439,   2866,   2690,
    2249,    1984,    1896,    1808,    1411,    1367,    1234,   1146,   926,    837,
    837,     705,     573,     573,     529,     441,     441};

constexpr int kAttackJump = 1716;  // attack starts here (DX7 units, 256 per doubling)

}  // namespace

int Envelope::scale_output_level(int ol) {
  ol = clampi(ol, 0, 99);
  return ol >= 20 ? 28 + ol : kLowLevels[ol];
}

void Envelope::init(const int rates[4], const int levels[4], int outlevel, int rate_scaling,
                    uint32_t sr_mult) {
  sr_mult_ = sr_mult;
  for (int i = 0; i < 4; i++) {
    rates_[i] = rates[i];
    levels_[i] = levels[i];
  }
  outlevel_ = outlevel;
  rate_scaling_ = rate_scaling;
  level_ = 0;
  down_ = true;
  advance(0);
}

void Envelope::update(const int rates[4], const int levels[4], int outlevel, int rate_scaling) {
  for (int i = 0; i < 4; i++) {
    rates_[i] = rates[i];
    levels_[i] = levels[i];
  }
  outlevel_ = outlevel;
  rate_scaling_ = rate_scaling;
  if (ix_ < 4 || down_) {
    const int keep_hold = hold_;
    advance(down_ && ix_ >= 3 ? 2 : ix_);  // a held note re-aims at the new sustain level
    if (hold_ > 0 && keep_hold > 0 && keep_hold < hold_) hold_ = keep_hold;
  }
}

void Envelope::advance(int ix) {
  ix_ = ix;
  if (ix_ >= 4) return;
  const int lv = levels_[ix_];
  int actual = (scale_output_level(lv) >> 1) * 64 + outlevel_ - 4256;
  if (actual < 16) actual = 16;
  target_ = actual << 16;
  rising_ = target_ > level_;
  int qrate = (rates_[ix_] * 41) >> 6;
  qrate = qrate + rate_scaling_;
  if (qrate > 63) qrate = 63;
  if (target_ == level_ || (ix_ == 0 && lv == 0)) {
    int r = rates_[ix_] + rate_scaling_;
    if (r > 99) r = 99;
    int frames = r < 77 ? kHoldFrames[r] : 20 * (99 - r);
    if (r < 77 && ix_ == 0 && lv == 0) frames /= 20;
    hold_ = static_cast<int>((static_cast<int64_t>(frames) * sr_mult_) >> 24);
  } else {
    hold_ = 0;
  }
  const int32_t inc = (4 + (qrate & 3)) << (2 + kLgBlock + (qrate >> 2));
  inc_ = static_cast<int32_t>((static_cast<int64_t>(inc) * sr_mult_) >> 24);
}

DX7_COLD_END

int32_t Envelope::tick() {
  if (hold_ > 0) {
    hold_ -= kBlock;
    if (hold_ <= 0) {
      hold_ = 0;
      advance(ix_ + 1);
    }
  }
  if (ix_ < 3 || (ix_ < 4 && !down_)) {
    if (hold_ > 0) {
      // waiting on an equal-level segment
    } else if (rising_) {
      if (level_ < (kAttackJump << 16)) level_ = kAttackJump << 16;
      level_ += (((17 << 24) - level_) >> 24) * inc_;
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
void Envelope::key(bool down) {
  if (down_ != down) {
    down_ = down;
    advance(down ? 0 : 3);
  }
}

DX7_COLD_END

}  // namespace dx7
