// dx7_voice.h - one DX7 voice: six operators, their envelopes, the pitch envelope and
// the routing of one algorithm (after msfa's Dx7Note, Apache-2.0).
#pragma once

#include "dx7_algorithms.h"
#include "dx7_common.h"
#include "dx7_controls.h"
#include "dx7_env.h"
#include "dx7_kernel.h"
#include "dx7_pitchenv.h"
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
  // Render n frames (any n), adding nothing: out[0..n) is overwritten with the voice output
  // (Q24-ish ints, full carrier ~2^25). capture (optional) = 6 arrays of n frames receiving
  // each operator's own output, index 0 = OP6.
  void render(int32_t *out, int n, const VoiceContext &ctx, int32_t *const *capture);
  // Released and every carrier has decayed below audibility (safe to reuse).
  bool quiet() const;
  bool started() const { return started_; }
  int note() const { return note_; }
  // Portamento: start offset (Q24 octaves from the target), speed (Q24 per block), glissando.
  void set_glide(int32_t offset, int32_t per_block, bool glissando);
  int32_t current_pitch() const { return note_logfreq_ + porta_; }  // Q24 log2 Hz of the key
  void retune(int note);  // legato pitch change (mono), envelopes keep running
  static int32_t note_logfreq(int note);
  // true: algorithms 4, 6 and 32 get the feedback scale of the others (no extra >> 2,
  // DX7.md 3.12); false (default): Dexed's Mark I reduced feedback. Set before start().
  void set_normal_feedback(bool on) { normal_fb_ = on; }

 private:
  void control_tick(const VoiceContext &ctx);
  void plan(const Tables &t);
  void run(const Tables &t, int s, int e, bool capture);
  void compute_op_params(int op);
  void cut_block();

  struct Step {
    uint8_t op;     // operator index (0 = OP6)
    uint8_t kind;   // 0 plain, 1 self feedback, 2 loop of `loop` ops
    uint8_t in;     // input bus 0..2 (0 = none)
    uint8_t out;    // output bus 0..2 (0 = voice output)
    bool add;
    uint8_t loop;
    int shift;
  };

  const uint8_t *patch_ = nullptr;
  uint8_t patch_copy_[kVoiceBytes] = {};
  Envelope env_[kOps];
  PitchEnvelope penv_;
  int32_t base_[kOps] = {};
  bool fixed_[kOps] = {};
  uint32_t ams_[kOps] = {};
  uint32_t phase_[kOps] = {};
  int32_t freq_[kOps] = {};
  int32_t gain_out_[kOps] = {};
  int32_t level_in_[kOps] = {};
  OpRun runs_[kOps] = {};
  Step steps_[kOps] = {};
  int nsteps_ = 0;
  int32_t fb_[2] = {0, 0};
  int algorithm_ = 0;
  int fb_shift_ = 16;
  int pmd_ = 0, pms_ = 0, amd_ = 0;
  int note_ = 60, velocity_ = 100;
  int32_t note_logfreq_ = 0;
  int32_t porta_ = 0, porta_step_ = 0;
  bool gliss_ = false;
  uint32_t env_sr_mult_ = 1u << 24;
  int pos_ = kBlock;  // frame inside the current control block; kBlock = tick due
  bool started_ = false;
  bool ticked_ = false;
  bool normal_fb_ = false;
  int32_t bus_[3][kBlock] = {};
  int32_t cap_[kOps][kBlock] = {};
};

// Clamp every byte of a 156-byte voice to its DX7 range (DX7.md 1.3) in place.
void sanitise_patch(uint8_t *patch);

}  // namespace dx7
