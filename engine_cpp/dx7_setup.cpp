// dx7_setup.cpp - the per-note laws: frequency (DX7.md 3.2), output level (3.3), rate
// scaling (3.5), level scaling (3.6), velocity (3.7), modulation depths (3.8, 3.9).
#include "dx7_setup.h"

#include <cmath>

namespace dx7 {

DX7_COLD_BEGIN
namespace {

// VCED offsets inside one operator's 21 bytes (DX7.md 1.3).
enum OpByte { kRate = 0, kLevel = 4, kBreak = 8, kLeftDepth, kRightDepth, kLeftCurve,
              kRightCurve, kRateScale, kAmsByte, kKvs, kOutput, kMode, kCoarse, kFine, kDetune };

// Velocity >> 1 -> sensitivity curve value; 239 is neutral (DX7.md 3.7, reference table).
constexpr uint8_t kVelocityCurve[64] = {
    0,   70,  86,  97,  106, 114, 121, 126, 132, 138, 142, 148, 152, 156, 160, 163,
    166, 170, 173, 174, 178, 181, 184, 186, 189, 190, 194, 196, 198, 200, 202, 205,
    206, 209, 211, 214, 216, 218, 220, 222, 224, 225, 227, 229, 230, 232, 233, 235,
    237, 238, 240, 241, 242, 243, 244, 246, 246, 248, 249, 250, 251, 252, 253, 254};

// Exponential level-scaling curve by key group (DX7.md 3.6, the reference's table).
constexpr uint8_t kExpCurve[33] = {0,  1,  2,  3,  4,  5,  6,   7,   8,   9,   11,
                                   14, 16, 19, 23, 27, 33, 39,  47,  56,  66,  80,
                                   94, 110, 126, 142, 158, 174, 190, 206, 222, 238, 250};

// Pitch modulation sensitivity 0..7 -> 0..255 (DX7.md 3.9, ROM and reference).
constexpr uint8_t kPms[8] = {0, 10, 20, 33, 55, 92, 153, 255};

// Amplitude modulation sensitivity 0..3 -> Q24 fraction (DX7.md 3.9, the reference's
// 0, 0.2588, 0.4274, 1.0).
constexpr uint32_t kAmsFraction[4] = {0, 4342338, 7171437, 16777216};

constexpr double kQ24 = 16777216.0;

// Velocity -> output level change in microsteps: 16 per (sensitivity * curve) / 8 step.
int velocity_offset(int velocity, int kvs) {
  const int v = kVelocityCurve[clampi(velocity, 0, 127) >> 1] - 239;
  return 16 * ((kvs * v + 7) >> 3);
}

// Keyboard level scaling in OL units, signed: + louder, - quieter (DX7.md 3.6, the
// reference's sliding three-key groups around the break point).
int level_scaling(int note, const uint8_t *op) {
  const int offset = note - op[kBreak] - 17;
  const bool right = offset >= 0;
  const int group = right ? (offset + 1) / 3 : (1 - offset) / 3;
  const int depth = op[right ? kRightDepth : kLeftDepth];
  const int curve = op[right ? kRightCurve : kLeftCurve];
  const bool exponential = curve == 1 || curve == 2;
  const int amount = exponential ? kExpCurve[group < 32 ? group : 32] * depth * 329 / 32768
                                 : group * depth * 329 / 4096;
  return curve < 2 ? -amount : amount;  // -LIN and -EXP lower the level
}

// Keyboard rate scaling: qrate units added to every EG segment (DX7.md 3.5).
int rate_scaling(int note, int rs) { return rs * clampi(note / 3 - 7, 0, 31) / 8; }

int32_t q24(double octaves) { return static_cast<int32_t>(std::lround(octaves * kQ24)); }

// Operator pitch in Q24 log2 (DX7.md 3.2). Ratio: log2(coarse (0 = 0.5) * (1 + fine / 100))
// plus detune, whose size per step falls with the key's pitch (the reference's law,
// measured on a DX7). Fixed: log2 of 10^(coarse mod 4 + fine / 100) Hz, detune up only.
int32_t operator_pitch(const uint8_t *op, int note) {
  const int coarse = op[kCoarse], fine = op[kFine], detune = op[kDetune] - 7;
  if (op[kMode]) {
    const double decades = (coarse & 3) + fine / 100.0;
    return q24(decades * std::log2(10.0)) + (detune > 0 ? detune * 13457 : 0);
  }
  const double ratio = (coarse == 0 ? 0.5 : coarse) * (1.0 + fine / 100.0);
  const double key = key_pitch(note) / kQ24;  // log2 Hz
  const double per_step = 0.0209 * std::exp(-0.396 * key) * key / 7.0;
  return q24(std::log2(ratio)) + q24(detune * per_step);
}

OperatorSetup setup_operator(const uint8_t *op, int note, int velocity) {
  OperatorSetup s;
  for (int k = 0; k < 4; k++) {
    s.eg.rate[k] = op[kRate + k];
    s.eg.level[k] = op[kLevel + k];
  }
  const int scaled = Envelope::scaled_level(op[kOutput]) + level_scaling(note, op);
  const int outlevel = clampi(scaled, 0, 127) * 32 + velocity_offset(velocity, op[kKvs]);
  s.eg.outlevel = outlevel < 0 ? 0 : outlevel;
  s.eg.rate_scaling = rate_scaling(note, op[kRateScale]);
  s.fixed = op[kMode] != 0;
  s.pitch = operator_pitch(op, note);
  s.ams = kAmsFraction[op[kAmsByte] & 3];
  return s;
}

// Depth 0..99 -> 0..255 (DX7.md 3.9: 165 x / 64, the firmware's 660 x / 256).
int depth255(int x) { return 165 * x / 64; }

}  // namespace

int32_t key_pitch(int note) {
  // log2(440) - 69/12 octaves in Q24, truncated as the reference does (docs/engine.md).
  constexpr int32_t kBase = 50857776;
  return kBase + static_cast<int32_t>((static_cast<int64_t>(note) << 24) / 12);
}

VoiceSetup setup_voice(const uint8_t *patch, int note, int velocity) {
  VoiceSetup v;
  for (int i = 0; i < kOps; i++) v.op[i] = setup_operator(patch + 21 * i, note, velocity);
  for (int k = 0; k < 4; k++) {
    v.pitch_rate[k] = patch[126 + k];
    v.pitch_level[k] = patch[130 + k];
  }
  v.algorithm = patch[134];
  v.feedback = patch[135];
  v.pmd = depth255(patch[139]);
  v.amd = depth255(patch[140]);
  v.pms = kPms[patch[143] & 7];
  return v;
}

void sanitise_patch(uint8_t *patch) {
  // Highest value of each operator byte, then of the global bytes 126..144 (DX7.md 1.3).
  static constexpr uint8_t kOpMax[21] = {99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
                                         3,  3,  7,  3,  7,  99, 1,  31, 99, 14};
  static constexpr uint8_t kGlobalMax[19] = {99, 99, 99, 99, 99, 99, 99, 99, 31, 7,
                                             1,  99, 99, 99, 99, 1,  5,  7,  48};
  for (int i = 0; i < 126; i++) patch[i] = static_cast<uint8_t>(clampi(patch[i], 0, kOpMax[i % 21]));
  for (int i = 0; i < 19; i++) patch[126 + i] = static_cast<uint8_t>(clampi(patch[126 + i], 0, kGlobalMax[i]));
  for (int i = 145; i < 155; i++) patch[i] = static_cast<uint8_t>(clampi(patch[i], 32, 127));
  patch[155] &= 0x3f;
}
DX7_COLD_END

}  // namespace dx7
