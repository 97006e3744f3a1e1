// dx7_setup.h - a voice's set-up as one pure function: the 155 voice bytes, the played
// note and the velocity in; every operator's pitch, envelope and sensitivities out.
#pragma once

#include "dx7_common.h"
#include "dx7_env.h"

namespace dx7 {

struct OperatorSetup {
  EgParams eg;       // rates, levels, output level (velocity and key scaling included)
  bool fixed;        // fixed-frequency operator: ignores key, pitch EG and LFO pitch
  int32_t pitch;     // Q24 log2: ratio + detune offset from the key, or the fixed Hz
  uint32_t ams;      // amplitude modulation sensitivity as a Q24 fraction
};

struct VoiceSetup {
  OperatorSetup op[kOps];  // index 0 = OP6
  int pitch_rate[4];       // pitch EG R1..R4, 0..99
  int pitch_level[4];      // pitch EG L1..L4, 0..99
  int algorithm;           // 0..31
  int feedback;            // 0..7
  int pmd;                 // LFO pitch depth 0..255
  int amd;                 // LFO amplitude depth 0..255
  int pms;                 // pitch modulation sensitivity as 0..255
};

// patch = 156 sanitised bytes; note = played note 0..127 (after transpose); velocity
// 1..127. Pure: the same inputs always give the same set-up.
VoiceSetup setup_voice(const uint8_t *patch, int note, int velocity);

// The key's pitch in Q24 log2 Hz, standard tuning (A = 440 Hz at note 69).
int32_t key_pitch(int note);

// Clamp every byte of a 156-byte voice to its DX7 range (DX7.md 1.3) in place.
void sanitise_patch(uint8_t *patch);

}  // namespace dx7
