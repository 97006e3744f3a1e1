// dx7_voice.h - one DX7 voice: its set-up (dx7_setup.h), six operator envelopes, the
// pitch envelope, the compiled route (dx7_route.h), and the per-block modulation.
#pragma once

#include "dx7_common.h"
#include "dx7_controls.h"
#include "dx7_env.h"
#include "dx7_kernel.h"
#include "dx7_pitchenv.h"
#include "dx7_route.h"
#include "dx7_setup.h"
#include "dx7_tables.h"

namespace dx7 {

struct VoiceContext {
  const Tables *tables;
  const Controls *controls;
  int32_t lfo_value;  // Q24 0..1
  int32_t lfo_delay;  // Q24 0..1 fade-in
};

class Voice {
 public:
  // patch = 156 sanitised bytes; note = played note (after transpose) 0..127;
  // velocity 1..127. reset_phase zeroes phases and gains (oscillator key sync).
  void start(const uint8_t *patch, int note, int velocity, const Tables &t, bool reset_phase);
  // Voice edit while sounding: new frequencies, levels, rates, algorithm, feedback.
  void update(const uint8_t *patch);
  // Key up; the current control block ends here so the release starts on this frame.
  void release();
  // Render n frames (any n): out[0..n) is overwritten with the voice output (Q24-ish
  // ints, full carrier ~2^25). capture (optional) = 6 arrays of n frames receiving each
  // operator's own output, index 0 = OP6.
  void render(int32_t *out, int n, const VoiceContext &ctx, int32_t *const *capture);
  // Released and every carrier has decayed below audibility (safe to reuse).
  bool quiet() const;
  bool started() const { return started_; }
  int note() const { return note_; }
  // Portamento: start offset (Q24 octaves from the target), speed (Q24 per block), glissando.
  void set_glide(int32_t offset, int32_t per_block, bool glissando);
  int32_t current_pitch() const { return key_pitch(note_) + glide_; }  // Q24 log2 Hz
  void retune(int note);  // legato pitch change (mono), envelopes keep running
  static int32_t note_logfreq(int note) { return key_pitch(note); }
  // true: algorithms 4, 6 and 32 get the feedback scale of the others (DX7.md 3.12);
  // false (default): the reference's 4x weaker feedback there. Set before start().
  void set_normal_feedback(bool on) { normal_fb_ = on; }

 private:
  void begin_block(const VoiceContext &ctx);
  int32_t block_pitch(const VoiceContext &ctx);
  int32_t am_amount(const VoiceContext &ctx) const;
  void run_steps(const Tables &t, int s, int e, bool capture);
  void end_block(int frames);

  uint8_t patch_[kVoiceBytes] = {};
  VoiceSetup setup_{};
  Route route_{};
  Envelope env_[kOps];
  PitchEnvelope penv_;
  uint32_t phase_[kOps] = {};   // Q24 cycles at the start of the control block
  int32_t gain_[kOps] = {};     // Mark I attenuation reached at the start of the block
  int32_t gain_end_[kOps] = {};  // attenuation the current block ramps to
  OpRun runs_[kOps] = {};
  bool silent_[kOps] = {};      // below the audibility threshold for the whole block
  int32_t fb_[2] = {0, 0};      // feedback history (y[n-2], y[n-1])
  int note_ = 60, velocity_ = 100;
  int32_t glide_ = 0, glide_step_ = 0;  // portamento: Q24 octaves from the key, per block
  bool gliss_ = false;
  uint32_t eg_speed_ = 1u << 24;
  int pos_ = kBlock;  // frame inside the current control block; kBlock = block due
  bool started_ = false;
  bool begun_ = false;  // at least one control block ran
  bool cut_ = false;    // the last block ended early at a key-off
  bool normal_fb_ = false;  // see set_normal_feedback
  int32_t bus_[3][kBlock] = {};
  int32_t cap_[kOps][kBlock] = {};
};

}  // namespace dx7
