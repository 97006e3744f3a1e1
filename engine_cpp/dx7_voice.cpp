// dx7_voice.cpp - voice set-up (scaling laws of DX7.md 3.2-3.9) and block rendering.
#include "dx7_voice.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace dx7 {

DX7_COLD_BEGIN
namespace {

// log2(coarse) in Q24, coarse 0 meaning ratio 0.5.
const int32_t kCoarse[32] = {
    -16777216, 0,        16777216, 26591258, 33554432, 38955489, 43368474, 47099600,
    50331648,  53182516, 55732705, 58039632, 60145690, 62083076, 63876816, 65546747,
    67108864,  68576247, 69959732, 71268397, 72509921, 73690858, 74816848, 75892776,
    76922906,  77910978, 78860292, 79773775, 80654032, 81503396, 82323963, 83117622};

const uint8_t kVelocity[64] = {
    0,   70,  86,  97,  106, 114, 121, 126, 132, 138, 142, 148, 152, 156, 160, 163,
    166, 170, 173, 174, 178, 181, 184, 186, 189, 190, 194, 196, 198, 200, 202, 205,
    206, 209, 211, 214, 216, 218, 220, 222, 224, 225, 227, 229, 230, 232, 233, 235,
    237, 238, 240, 241, 242, 243, 244, 246, 246, 248, 249, 250, 251, 252, 253, 254};

const uint8_t kExpScale[33] = {0,  1,  2,  3,  4,  5,  6,  7,   8,   9,   11,
                               14, 16, 19, 23, 27, 33, 39, 47,  56,  66,  80,
                               94, 110, 126, 142, 158, 174, 190, 206, 222, 238, 250};

const uint8_t kPitchModSens[8] = {0, 10, 20, 33, 55, 92, 153, 255};
const uint32_t kAmpModSens[4] = {0, 4342338, 7171437, 16777216};

// Ranges of the 21 operator bytes and the 29 global bytes 126..154 (DX7.md 1.3).
const uint8_t kOpMax[21] = {99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
                            3,  3,  7,  3,  7,  99, 1,  31, 99, 14};
const uint8_t kGlobalMax[19] = {99, 99, 99, 99, 99, 99, 99, 99, 31, 7,
                                1,  99, 99, 99, 99, 1,  5,  7,  48};

int scale_velocity(int velocity, int sens) {   // -> microsteps
  const int v = kVelocity[clampi(velocity, 0, 127) >> 1] - 239;
  return ((sens * v + 7) >> 3) * 16;
}

int scale_rate(int note, int sens) {           // -> qrate delta
  const int x = clampi(note / 3 - 7, 0, 31);
  return (sens * x) >> 3;
}

int scale_curve(int group, int depth, int curve) {   // -> scaled OL units
  int scale;
  if (curve == 0 || curve == 3) {
    scale = (group * depth * 329) >> 12;
  } else {
    scale = (kExpScale[group < 32 ? group : 32] * depth * 329) >> 15;
  }
  return curve < 2 ? -scale : scale;
}

int scale_level(int note, const uint8_t *op) {
  const int offset = note - op[8] - 17;
  if (offset >= 0) return scale_curve((offset + 1) / 3, op[10], op[12]);
  return scale_curve(-(offset - 1) / 3, op[9], op[11]);
}

int32_t osc_logfreq(int note, const uint8_t *op) {
  const int mode = op[17], coarse = op[18], fine = op[19], detune = op[20];
  int32_t lf;
  if (mode == 0) {
    lf = Voice::note_logfreq(note);
    const double ratio = 0.0209 * std::exp(-0.396 * (static_cast<float>(lf) / (1 << 24))) / 7;
    lf = static_cast<int32_t>(lf + ratio * lf * (detune - 7));
    lf += kCoarse[coarse & 31];
    if (fine) lf += static_cast<int32_t>(std::floor(24204406.323123 * std::log(1 + 0.01 * fine) + 0.5));
  } else {
    lf = (4458616 * ((coarse & 3) * 100 + fine)) >> 3;
    lf += detune > 7 ? 13457 * (detune - 7) : 0;
  }
  return lf;
}

}  // namespace

void sanitise_patch(uint8_t *p) {
  for (int op = 0; op < kOps; op++) {
    for (int i = 0; i < 21; i++) {
      uint8_t &b = p[op * 21 + i];
      if (b > kOpMax[i]) b = kOpMax[i];
    }
  }
  for (int i = 0; i < 19; i++) {
    uint8_t &b = p[126 + i];
    if (b > kGlobalMax[i]) b = kGlobalMax[i];
  }
  for (int i = 145; i < 155; i++) p[i] &= 0x7f;
  p[155] &= 0x3f;
}

int32_t Voice::note_logfreq(int note) {
  // log2(440) - 69/12 in Q24 (truncated, as dexed-py does), plus 1/12 octave per key.
  return 50857776 + 1398101 * note;
}

void Voice::compute_op_params(int op) {
  const uint8_t *p = patch_ + op * 21;
  int rates[4], levels[4];
  for (int i = 0; i < 4; i++) {
    rates[i] = p[i];
    levels[i] = p[4 + i];
  }
  int ol = Envelope::scale_output_level(p[16]) + scale_level(note_, p);
  if (ol > 127) ol = 127;
  ol = ol * 32 + scale_velocity(velocity_, p[15]);
  if (ol < 0) ol = 0;
  const int rs = scale_rate(note_, p[13]);
  if (started_) {
    env_[op].update(rates, levels, ol, rs);
  } else {
    env_[op].init(rates, levels, ol, rs, env_sr_mult_);
  }
  fixed_[op] = p[17] != 0;
  base_[op] = osc_logfreq(note_, p);
  ams_[op] = kAmpModSens[p[14] & 3];
}

void Voice::start(const uint8_t *patch, int note, int velocity, const Tables &t, bool reset_phase) {
  std::memcpy(patch_copy_, patch, kVoiceBytes);
  patch_ = patch_copy_;
  note_ = clampi(note, 0, 127);
  velocity_ = clampi(velocity, 0, 127);
  note_logfreq_ = note_logfreq(note_);
  env_sr_mult_ = t.env_sr_mult;
  started_ = false;
  for (int op = 0; op < kOps; op++) compute_op_params(op);
  int rates[4], levels[4];
  for (int i = 0; i < 4; i++) {
    rates[i] = patch_[126 + i];
    levels[i] = patch_[130 + i];
  }
  penv_.init(rates, levels, t.pitchenv_unit);
  algorithm_ = patch_[134] & 31;
  fb_shift_ = patch_[135] != 0 ? 8 - patch_[135] : 16;
  pmd_ = (patch_[139] * 165) >> 6;
  pms_ = kPitchModSens[patch_[143] & 7];
  amd_ = (patch_[140] * 165) >> 6;
  if (reset_phase) {
    for (int op = 0; op < kOps; op++) {
      phase_[op] = 0;
      gain_out_[op] = 0;
    }
  }
  porta_ = 0;
  porta_step_ = 0;
  pos_ = kBlock;
  started_ = true;
  ticked_ = false;
}

void Voice::update(const uint8_t *patch) {
  std::memcpy(patch_copy_, patch, kVoiceBytes);
  for (int op = 0; op < kOps; op++) compute_op_params(op);
  int rates[4], levels[4];
  for (int i = 0; i < 4; i++) {
    rates[i] = patch_[126 + i];
    levels[i] = patch_[130 + i];
  }
  penv_.update(rates, levels);
  algorithm_ = patch_[134] & 31;
  fb_shift_ = patch_[135] != 0 ? 8 - patch_[135] : 16;
  pmd_ = (patch_[139] * 165) >> 6;
  pms_ = kPitchModSens[patch_[143] & 7];
  amd_ = (patch_[140] * 165) >> 6;
}

void Voice::release() {
  cut_block();
  for (int op = 0; op < kOps; op++) env_[op].key(false);
  penv_.key(false);
}

void Voice::cut_block() {
  if (!ticked_ || pos_ >= kBlock) return;
  // End the control block here: phases and gains as reached, next tick at the next frame.
  for (int op = 0; op < kOps; op++) {
    const OpRun &r = runs_[op];
    phase_[op] = r.phase0 + static_cast<uint32_t>(pos_) * static_cast<uint32_t>(r.freq);
    const int32_t g = r.g1 + pos_ * r.dg;
    gain_out_[op] = g == 0 ? 1 : g;
  }
  pos_ = kBlock;
}

void Voice::set_glide(int32_t offset, int32_t per_block, bool glissando) {
  porta_ = offset;
  porta_step_ = per_block < 1 ? 1 : per_block;
  gliss_ = glissando;
}

void Voice::retune(int note) {
  const int32_t old = current_pitch();
  note_ = clampi(note, 0, 127);
  note_logfreq_ = note_logfreq(note_);
  for (int op = 0; op < kOps; op++) base_[op] = osc_logfreq(note_, patch_ + op * 21);
  porta_ = old - note_logfreq_;
}

DX7_COLD_END

bool Voice::quiet() const {
  if (!started_) return true;
  if (!ticked_) return false;
  for (int op = 0; op < kOps; op++) {
    if (!is_carrier(algorithm_, op)) continue;
    const Envelope &e = env_[op];
    if (!e.released()) return false;
    if (!(e.finished() || e.falling())) return false;
    if (gain_out_[op] <= kLevelThresh) return false;
  }
  return true;
}

void Voice::control_tick(const VoiceContext &ctx) {
  const Controls &c = *ctx.controls;
  const Tables &t = *ctx.tables;
  // Pitch: LFO vibrato (max of LFO depth and controller depth), pitch EG, bend, tune.
  const uint32_t pmd = static_cast<uint32_t>(pmd_) * static_cast<uint32_t>(ctx.lfo_delay);
  const int32_t senslfo = pms_ * (ctx.lfo_value - (1 << 23));
  int32_t pm1 = static_cast<int32_t>((static_cast<int64_t>(pmd) * senslfo) >> 39);
  int32_t pm2 = static_cast<int32_t>((static_cast<int64_t>(c.pitch_mod) * senslfo) >> 14);
  pm1 = std::abs(pm1);
  pm2 = std::abs(pm2);
  int32_t pm = pm1 > pm2 ? pm1 : pm2;
  int32_t pitch = penv_.tick() + (senslfo < 0 ? -pm : pm) + c.pitch_base;
  if (porta_ != 0) {
    if (porta_ > 0) porta_ = porta_ > porta_step_ ? porta_ - porta_step_ : 0;
    else porta_ = -porta_ > porta_step_ ? porta_ + porta_step_ : 0;
  }
  int32_t glide = porta_;
  if (gliss_ && glide != 0) glide = (glide / 1398101) * 1398101;
  // Amplitude: LFO AM, controller AM and EG bias (Dexed law, DX7.md 3.9).
  const int32_t lfo_am = (1 << 24) - ctx.lfo_value;
  uint32_t am1 = static_cast<uint32_t>((static_cast<int64_t>(amd_) * ctx.lfo_delay) >> 8);
  am1 = static_cast<uint32_t>((static_cast<int64_t>(am1) * lfo_am) >> 24);
  const uint32_t am2 = static_cast<uint32_t>((static_cast<int64_t>(c.amp_mod) * lfo_am) >> 7);
  uint32_t am = am1 > am2 ? am1 : am2;
  const uint32_t bias = (1u << 24) - (static_cast<uint32_t>(c.eg_mod + 1) << 17);
  if (bias > am) am = bias;
  for (int op = 0; op < kOps; op++) {
    freq_[op] = fixed_[op] ? t.freq(base_[op] + c.pitch_base) : t.freq(base_[op] + glide + pitch);
    int32_t level = env_[op].tick();
    if (!((c.op_mask >> op) & 1)) {
      level_in_[op] = 0;
      continue;
    }
    if (ams_[op] != 0) {
      const uint32_t sensamp = static_cast<uint32_t>((static_cast<uint64_t>(am) * ams_[op]) >> 24);
      const uint32_t pt = static_cast<uint32_t>(
          std::exp(static_cast<float>(sensamp) / 262144 * 0.07 + 12.2));
      const uint32_t diff = static_cast<uint32_t>(
          (static_cast<uint64_t>(level) * (static_cast<uint64_t>(pt) << 4)) >> 28);
      level -= static_cast<int32_t>(diff);
    }
    level_in_[op] = level;
  }
  plan(t);
  ticked_ = true;
}

void Voice::plan(const Tables &) {
  uint8_t flags[kOps];
  for (int op = 0; op < kOps; op++) flags[op] = kAlgorithms[algorithm_][op];
  const bool fb_on = fb_shift_ < 16;
  if (fb_on && (algorithm_ == 3 || algorithm_ == 5)) flags[0] = kFbIn | kFbOut | kOutAdd;
  bool has[3] = {true, false, false};
  nsteps_ = 0;
  for (int op = 0; op < kOps; op++) {
    const int f = flags[op];
    bool add = (f & kOutAdd) != 0;
    const int in = (f >> kInShift) & 3;
    const int out = f & kOutMask;
    const int32_t g1 = gain_out_[op] == 0 ? kEnvMax - 1 : gain_out_[op];
    const int32_t g2 = kEnvMax - (level_in_[op] >> 14);
    gain_out_[op] = g2;
    runs_[op] = OpRun{phase_[op], freq_[op], g1, (g2 - g1 + (kBlock >> 1)) >> kLgBlock};
    int skip = 0;
    if (g1 <= kLevelThresh || g2 <= kLevelThresh) {
      if (!has[out]) add = false;
      Step s{static_cast<uint8_t>(op), 0, 0, static_cast<uint8_t>(out), add, 0, 0};
      if (in == 0 || !has[in]) {
        if ((f & 0xc0) == 0xc0 && fb_on) {
          s.kind = 1;
          s.shift = fb_shift_;
          if (algorithm_ == 3 || algorithm_ == 5) {
            s.kind = 2;
            s.loop = algorithm_ == 3 ? 3 : 2;
            skip = s.loop - 1;
          }
          if (!normal_fb_ && (algorithm_ == 3 || algorithm_ == 5 || algorithm_ == 31)) {
            s.shift = fb_shift_ + 2 < 16 ? fb_shift_ + 2 : 16;
          }
          for (int k = 1; k <= skip; k++) {
            const int m = op + k;
            gain_out_[m] = kEnvMax - (level_in_[m] >> 14);
            const int32_t g = gain_out_[m] == 0 ? kEnvMax - 1 : gain_out_[m];
            runs_[m] = OpRun{phase_[m], freq_[m], g, 0};
          }
        }
      } else {
        s.in = static_cast<uint8_t>(in);
      }
      steps_[nsteps_++] = s;
      has[out] = true;
    } else if (!add) {
      has[out] = false;
    }
    op += skip;
  }
  for (int op = 0; op < kOps; op++) phase_[op] += static_cast<uint32_t>(freq_[op]) << kLgBlock;
}

void Voice::run(const Tables &t, int s, int e, bool capture) {
  for (int k = 0; k < nsteps_; k++) {
    const Step &st = steps_[k];
    int32_t *out = bus_[st.out];
    const OpRun &r = runs_[st.op];
    if (st.kind == 2) {
      int32_t *stage[3] = {nullptr, nullptr, nullptr};
      if (capture) {
        for (int j = 0; j < st.loop; j++) stage[j] = cap_[st.op + j];
      }
      if (!st.add) {
        for (int i = s; i < e; i++) out[i] = 0;
      }
      op_loop(t, &runs_[st.op], st.loop, fb_, st.shift, out, s, e, capture ? stage : nullptr);
      continue;
    }
    int32_t *dst = capture ? cap_[st.op] : out;
    const bool add = capture ? false : st.add;
    if (st.kind == 1) {
      op_feedback(t, r, fb_, st.shift, dst, add, s, e);
    } else {
      op_run(t, r, st.in ? bus_[st.in] : nullptr, dst, add, s, e);
    }
    if (capture) {
      for (int i = s; i < e; i++) out[i] = st.add ? out[i] + dst[i] : dst[i];
    }
  }
}

void Voice::render(int32_t *out, int n, const VoiceContext &ctx, int32_t *const *capture) {
  int done = 0;
  while (done < n) {
    if (pos_ >= kBlock) {
      control_tick(ctx);
      pos_ = 0;
      std::memset(bus_[0], 0, sizeof(bus_[0]));
      if (capture) std::memset(cap_, 0, sizeof(cap_));
    }
    const int m = (n - done) < (kBlock - pos_) ? (n - done) : (kBlock - pos_);
    run(*ctx.tables, pos_, pos_ + m, capture != nullptr);
    std::memcpy(out + done, bus_[0] + pos_, sizeof(int32_t) * m);
    if (capture) {
      for (int op = 0; op < kOps; op++) {
        if (capture[op]) std::memcpy(capture[op] + done, cap_[op] + pos_, sizeof(int32_t) * m);
      }
    }
    pos_ += m;
    done += m;
  }
}

}  // namespace dx7
