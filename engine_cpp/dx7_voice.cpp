// dx7_voice.cpp - a voice's life: set-up at note-on, one control block of modulation at
// a time, and the compiled route run over the block's frames.
#include "dx7_voice.h"

#include <cstring>

namespace dx7 {

namespace {

constexpr int32_t kUnity = 1 << 24;       // Q24 1.0
constexpr int32_t kSemitone = kUnity / 12;

// Envelope level (Q24 doublings, 15 << 24 = full scale) -> the kernel's attenuation
// (1024 per doubling, kEnvMax silent): full scale gives 1024, a peak of 2^25 (DX7.md
// 3.4, 3.12, 3.16).
int32_t attenuation(int32_t level) { return clampi(kEnvMax - (level >> 14), 0, kEnvMax); }

// Amplitude modulation (measured on the reference, docs/engine.md "AM"): an operator with
// AMS > 0 loses level * e^(0.07 s / 2^18 + 12.2) / 2^24 of its level (Q24 doublings),
// s = AM amount (Q24 0..1) * sensitivity (Q24). Even s = 0 costs ~1.2 % of the level.
int32_t modulated_level(const Tables &t, int32_t level, int32_t amount, uint32_t ams) {
  if (ams == 0) return level;
  constexpr double kLog2e = 1.4426950408889634;
  const double s = static_cast<double>((static_cast<int64_t>(amount) * ams) >> 24);
  const double e = t.pow2((0.07 * s / 262144.0 + 12.2) * kLog2e);  // e^(...)
  const double loss = static_cast<double>(level) * e / kUnity;
  return loss >= level ? 0 : level - static_cast<int32_t>(loss);
}

}  // namespace

DX7_COLD_BEGIN
void Voice::start(const uint8_t *patch, int note, int velocity, const Tables &t,
                  bool reset_phase) {
  std::memcpy(patch_, patch, kVoiceBytes);
  note_ = note;
  velocity_ = velocity;
  eg_speed_ = t.eg_speed;
  setup_ = setup_voice(patch_, note_, velocity_);
  route_ = compile_route(setup_.algorithm, setup_.feedback, normal_fb_);
  for (int op = 0; op < kOps; op++) env_[op].start(setup_.op[op].eg, eg_speed_);
  penv_.start(setup_.pitch_rate, setup_.pitch_level, t.pitch_eg_unit);
  if (reset_phase) {  // oscillator key sync (DX7.md 3.14)
    for (int op = 0; op < kOps; op++) {
      phase_[op] = 0;
      gain_[op] = kEnvMax;
    }
    fb_[0] = fb_[1] = 0;
  }
  glide_ = glide_step_ = 0;
  gliss_ = false;
  pos_ = kBlock;
  started_ = true;
  begun_ = false;
  cut_ = false;
}

void Voice::update(const uint8_t *patch) {
  std::memcpy(patch_, patch, kVoiceBytes);
  setup_ = setup_voice(patch_, note_, velocity_);
  route_ = compile_route(setup_.algorithm, setup_.feedback, normal_fb_);
  for (int op = 0; op < kOps; op++) env_[op].retarget(setup_.op[op].eg);
  penv_.retarget(setup_.pitch_rate, setup_.pitch_level);
}

void Voice::retune(int note) {
  glide_ = current_pitch() - key_pitch(note);  // same pitch until set_glide says otherwise
  note_ = note;
  const VoiceSetup moved = setup_voice(patch_, note_, velocity_);
  for (int op = 0; op < kOps; op++) setup_.op[op].pitch = moved.op[op].pitch;
}

void Voice::set_glide(int32_t offset, int32_t per_block, bool glissando) {
  glide_ = offset;
  glide_step_ = per_block < 0 ? -per_block : per_block;
  gliss_ = glissando;
}

void Voice::release() {
  if (pos_ > 0 && pos_ < kBlock) {  // the release starts on this frame
    end_block(pos_);
    cut_ = true;
  }
  pos_ = kBlock;
  for (int op = 0; op < kOps; op++) env_[op].release();
  penv_.release();
}

bool Voice::quiet() const {
  if (!started_) return true;
  if (!begun_) return false;
  for (int op = 0; op < kOps; op++) {
    if (!is_carrier(setup_.algorithm, op)) continue;
    if (!env_[op].fading() || gain_[op] < kLevelThresh) return false;
  }
  return true;
}
DX7_COLD_END

// Pitch modulation shared by the ratio operators this block (Q24 octaves): pitch EG and
// LFO vibrato. LFO: (lfo - 1/2) * PMD * PMS / 2^15 octaves, times the delay fade
// (DX7.md 3.9); a controller assigned to pitch gives the same with its depth (0..125
// doubled); the larger of the two wins, with the LFO's sign (the reference's rule).
int32_t Voice::block_pitch(const VoiceContext &ctx) {
  const int64_t centred = ctx.lfo_value - kUnity / 2;
  const int64_t lfo = ((centred * setup_.pmd * setup_.pms) >> 15) * ctx.lfo_delay >> 24;
  const int64_t cc = (centred * 2 * ctx.controls->pitch_mod * setup_.pms) >> 15;
  const int64_t lfo_size = lfo < 0 ? -lfo : lfo, cc_size = cc < 0 ? -cc : cc;
  const int64_t size = lfo_size > cc_size ? lfo_size : cc_size;
  return penv_.advance() + static_cast<int32_t>(centred < 0 ? -size : size);
}

// Amplitude modulation amount this block, Q24 0..1: the LFO's (AMD * (1 - lfo) * fade)
// or a controller's, whichever is larger, or the EG bias if larger still (DX7.md 3.9).
int32_t Voice::am_amount(const VoiceContext &ctx) const {
  const int64_t down = kUnity - ctx.lfo_value;  // LFO AM is unipolar: none at the maximum
  const int64_t lfo = ((setup_.amd * down) >> 8) * ctx.lfo_delay >> 24;
  const int64_t cc = (2 * ctx.controls->amp_mod * down) >> 8;
  const int64_t bias = kUnity - (static_cast<int64_t>(ctx.controls->eg_mod + 1) << 17);
  int64_t a = lfo > cc ? lfo : cc;
  if (bias > a) a = bias;
  return static_cast<int32_t>(a);
}

void Voice::begin_block(const VoiceContext &ctx) {
  const Tables &t = *ctx.tables;
  const Controls &c = *ctx.controls;
  const int32_t shared = block_pitch(ctx);
  // Portamento: the offset from the key shrinks by one step a block, down to 0.
  if (glide_ > 0) glide_ = glide_ > glide_step_ ? glide_ - glide_step_ : 0;
  if (glide_ < 0) glide_ = -glide_ > glide_step_ ? glide_ + glide_step_ : 0;
  const int32_t glide = gliss_ ? glide_ / kSemitone * kSemitone : glide_;
  const int32_t key = key_pitch(note_) + glide + shared + c.pitch_base;
  const int32_t amount = am_amount(ctx);
  for (int op = 0; op < kOps; op++) {
    const OperatorSetup &o = setup_.op[op];
    OpRun &r = runs_[op];
    r.phase0 = phase_[op];
    r.freq = t.phase_increment(o.fixed ? o.pitch + c.pitch_base : key + o.pitch);
    const int32_t level = modulated_level(t, env_[op].advance(), amount, o.ams);
    const int32_t target = (c.op_mask >> op) & 1 ? attenuation(level) : kEnvMax;
    r.g1 = gain_[op];
    // Ramp towards the target, whole units a frame rounded towards zero so that it
    // never overshoots; a full block ends on the target itself, so the rounding never
    // accumulates (measured: rounding down overshoots rising gains by up to 0.37 dB
    // against the reference). The block after a mid-block key-off rounds away from
    // zero so that a slow release starts moving on its frame.
    const int32_t diff = target - r.g1;
    r.dg = diff / kBlock;
    if (cut_ && r.dg == 0 && diff != 0) r.dg = diff > 0 ? 1 : -1;
    gain_end_[op] = target;
    silent_[op] = r.g1 >= kLevelThresh && target >= kLevelThresh;
  }
  // In the multi-operator loops of algorithms 4 and 6 only the first operator ramps;
  // the ones after it hold the block's target gain for the whole block (measured:
  // dexed-py's OP5 and OP4 of algorithm 4 sound at full gain from the first frame).
  for (int k = 0; k < route_.count; k++) {
    const KernelStep &st = route_.step[k];
    if (st.kind != StepKind::kLoop) continue;
    for (int j = st.op + 1; j < st.op + st.count; j++) {
      runs_[j].g1 = gain_end_[j];
      runs_[j].dg = 0;
    }
  }
  begun_ = true;
  cut_ = false;
}

// Frames [s, e) of the block, every step of the route; capture keeps each operator's
// own output in cap_.
void Voice::run_steps(const Tables &t, int s, int e, bool capture) {
  int32_t *const out = bus_[0];
  for (int i = s; i < e; i++) out[i] = 0;
  int32_t *stage[3] = {};
  for (int k = 0; k < route_.count; k++) {
    const KernelStep &st = route_.step[k];
    const int32_t *in = st.in ? bus_[st.in] : nullptr;
    int32_t *dst = bus_[st.out];
    if (st.kind == StepKind::kLoop) {
      for (int j = 0; j < st.count; j++) stage[j] = capture ? cap_[st.op + j] : nullptr;
      op_loop(t, runs_ + st.op, st.count, fb_, st.shift, dst, s, e, stage);
      continue;
    }
    int32_t *y = capture ? cap_[st.op] : dst;
    const bool add = capture ? false : st.add;
    if (silent_[st.op]) {  // inaudible for the whole block: contributes nothing
      if (st.kind == StepKind::kFeedback) fb_[0] = fb_[1] = 0;
      for (int i = s; i < e && !add; i++) y[i] = 0;
    } else if (st.kind == StepKind::kFeedback) {
      op_feedback(t, runs_[st.op], fb_, st.shift, y, add, s, e);
    } else {
      op_run(t, runs_[st.op], in, y, add, s, e);
    }
    if (capture) {
      for (int i = s; i < e; i++) dst[i] = st.add ? dst[i] + y[i] : y[i];
    }
  }
}

void Voice::end_block(int frames) {
  for (int op = 0; op < kOps; op++) {
    phase_[op] = runs_[op].phase0 + static_cast<uint32_t>(frames) * static_cast<uint32_t>(runs_[op].freq);
    gain_[op] = frames == kBlock ? gain_end_[op] : runs_[op].g1 + frames * runs_[op].dg;
  }
}

void Voice::render(int32_t *out, int n, const VoiceContext &ctx, int32_t *const *capture) {
  int done = 0;
  while (done < n) {
    if (pos_ == kBlock) {
      begin_block(ctx);
      pos_ = 0;
    }
    const int m = n - done < kBlock - pos_ ? n - done : kBlock - pos_;
    run_steps(*ctx.tables, pos_, pos_ + m, capture != nullptr);
    std::memcpy(out + done, bus_[0] + pos_, sizeof(int32_t) * m);
    if (capture) {
      for (int op = 0; op < kOps; op++) {
        if (capture[op]) std::memcpy(capture[op] + done, cap_[op] + pos_, sizeof(int32_t) * m);
      }
    }
    pos_ += m;
    done += m;
    if (pos_ == kBlock) end_block(kBlock);
  }
}

}  // namespace dx7
