// dx7_engine.cpp - event application, voice allocation and the render loop.
#include "dx7_engine.h"

#include <cmath>
#include <cstring>

namespace dx7 {

DX7_COLD_BEGIN
namespace {

// DX7 "INIT VOICE" (DX7.md 1.8): OP1 at OL 99, the others at 0, algorithm 1.
void init_voice(uint8_t *p) {
  std::memset(p, 0, kVoiceBytes);
  for (int op = 0; op < kOps; op++) {
    uint8_t *o = p + op * 21;
    for (int i = 0; i < 4; i++) o[i] = 99;
    o[4] = o[5] = o[6] = 99;
    o[7] = 0;
    o[8] = 39;
    o[16] = op == 5 ? 99 : 0;
    o[18] = 1;
    o[20] = 7;
  }
  for (int i = 0; i < 4; i++) {
    p[126 + i] = 99;
    p[130 + i] = 50;
  }
  p[136] = 1;
  p[137] = 35;
  p[141] = 1;
  p[143] = 3;
  p[144] = 24;
  std::memcpy(p + 145, "INIT VOICE", 10);
  p[155] = 0x3f;
}

}  // namespace

Engine::Engine(double sample_rate, int polyphony, int queue_capacity)
    : queue_(queue_capacity), polyphony_(clampi(polyphony, 1, kMaxPolyphony)) {
  tables_.init(sample_rate);
  init_voice(edit_);
  lfo_.set(edit_ + 137, tables_);
  controls_.refresh();
  volume_coef_ = static_cast<float>(1.0 - std::exp(-1.0 / (0.005 * sample_rate)));
  fade_frames_ = static_cast<int>(0.004 * sample_rate);
  if (fade_frames_ < 1) fade_frames_ = 1;
  std::memset(scratch_, 0, sizeof(scratch_));
}

bool Engine::post(int64_t frame, int type, int a, int b) {
  Event e;
  e.frame = frame;
  e.type = type;
  e.a = a;
  e.b = b;
  if (queue_.push(e)) return true;
  dropped_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

bool Engine::post_patch(int64_t frame, const uint8_t *data156) {
  Event e;
  e.frame = frame;
  e.type = kPatch;
  e.a = 0;
  e.b = 0;
  std::memcpy(e.data, data156, kVoiceBytes);
  if (queue_.push(e)) return true;
  dropped_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void Engine::flush_events() {
  while (const Event *e = queue_.peek()) {
    apply(*e);
    queue_.pop();
  }
}

int32_t Engine::glide_per_block() const {
  // Dexed: semitones per second = 2100 * 2^(-0.062 t) (glissando 1300 * ...), t 0..127.
  const double base = controls_.glissando ? 1300.0 : 2100.0;
  const double semis = base * std::pow(2.0, -0.062 * controls_.porta_time);
  return static_cast<int32_t>(semis / 12.0 * (1 << 24) * kBlock / tables_.sample_rate);
}

void Engine::start_voice(Slot &s, int key, int velocity) {
  const int played = clampi(key + edit_[144] - 24, 0, 127);
  s.voice.start(edit_, played, velocity, tables_, edit_[136] != 0);
  const bool glide = controls_.porta_switch && controls_.porta_time > 0 && have_last_pitch_;
  if (glide) {
    s.voice.set_glide(last_pitch_ - Voice::note_logfreq(played), glide_per_block(),
                      controls_.glissando);
  }
  last_pitch_ = Voice::note_logfreq(played);
  have_last_pitch_ = true;
  s.state = kHeld;
  s.key = key;
  s.age = ++age_;
  lfo_.key_down();
}

void Engine::note_on(int key, int velocity) {
  if (velocity <= 0) {
    note_off(key);
    return;
  }
  if (controls_.mono) {
    mono_note_on(key, velocity);
    return;
  }
  Slot *pick = nullptr;
  for (int i = 0; i < polyphony_ && !pick; i++) {
    Slot &s = slots_[i];
    if (s.state != kFree && s.key == key && s.fade == 0) pick = &s;
  }
  if (controls_.porta_switch && controls_.porta_mode == 1 && controls_.porta_time > 0) {
    // Poly "follow": voices held only by the sustain pedal glide to the new note.
    const int played = clampi(key + edit_[144] - 24, 0, 127);
    for (int i = 0; i < polyphony_; i++) {
      Slot &s = slots_[i];
      if (s.state != kSustained || s.pending_key >= 0) continue;
      s.voice.retune(played);
      s.voice.set_glide(s.voice.current_pitch() - Voice::note_logfreq(played),
                        glide_per_block(), controls_.glissando);
    }
  }
  if (pick) {  // the same key re-struck reuses its voice
    start_voice(*pick, key, velocity);
    return;
  }
  // Free first, then the oldest released, then the oldest sustained, then the oldest held.
  const State order[4] = {kFree, kReleased, kSustained, kHeld};
  for (int k = 0; k < 4 && !pick; k++) {
    for (int i = 0; i < polyphony_; i++) {
      Slot &s = slots_[i];
      if (s.state != order[k] || s.pending_key >= 0) continue;
      if (!pick || s.age < pick->age) pick = &s;
    }
  }
  if (!pick) {  // every voice is already fading towards a pending note: take the oldest
    for (int i = 0; i < polyphony_; i++) {
      if (!pick || slots_[i].age < pick->age) pick = &slots_[i];
    }
  }
  if (pick->state == kFree || pick->voice.quiet()) {
    pick->fade = 0;
    start_voice(*pick, key, velocity);
    return;
  }
  // Steal: fade the old note out over a few milliseconds, then start the new one.
  if (pick->fade == 0) pick->fade = fade_frames_;
  pick->pending_key = key;
  pick->pending_vel = velocity;
  pick->key = key;
  pick->state = kHeld;
  pick->age = ++age_;
}

void Engine::release_slot(Slot &s) {
  if (s.pending_key >= 0) {
    s.pending_key = -1;  // released before it started: just let the fade finish
    s.state = kReleased;
    return;
  }
  s.voice.release();
  s.state = kReleased;
}

void Engine::note_off(int key) {
  if (controls_.mono) {
    mono_note_off(key);
    return;
  }
  for (int i = 0; i < polyphony_; i++) {
    Slot &s = slots_[i];
    if (s.state != kHeld || s.key != key) continue;
    if (controls_.sustain) {
      s.state = kSustained;
    } else {
      release_slot(s);
    }
  }
}

// Legato move of the mono voice to `key` (transposed): retune, gliding from where it is
// when portamento is on. Returns the new note's Q24 logfreq.
int32_t Engine::mono_retune(Slot &s, int key) {
  const int played = clampi(key + edit_[144] - 24, 0, 127);
  s.voice.retune(played);
  s.key = key;
  const bool porta = controls_.porta_switch && controls_.porta_time > 0;
  s.voice.set_glide(porta ? s.voice.current_pitch() - Voice::note_logfreq(played) : 0,
                    glide_per_block(), controls_.glissando);
  return Voice::note_logfreq(played);
}

void Engine::mono_note_on(int key, int velocity) {
  for (int i = 0; i < mono_count_; i++) {
    if (mono_keys_[i] == key) {
      for (int j = i; j + 1 < mono_count_; j++) mono_keys_[j] = mono_keys_[j + 1];
      mono_count_--;
      break;
    }
  }
  if (mono_count_ == 16) {
    for (int j = 0; j + 1 < mono_count_; j++) mono_keys_[j] = mono_keys_[j + 1];
    mono_count_--;
  }
  if (mono_count_ > 0) mono_up_ = key > mono_keys_[mono_count_ - 1];
  mono_keys_[mono_count_++] = key;
  Slot &s = slots_[0];
  const bool legato = s.state == kHeld && s.pending_key < 0 && mono_count_ > 1;
  if (legato) {
    last_pitch_ = mono_retune(s, key);
    return;
  }
  const bool full_time = controls_.porta_mode == 1;
  if (!full_time) have_last_pitch_ = false;  // fingered: glide only when legato
  if (s.fade > 0) {  // still fading out (all sound off): start when the fade ends
    s.pending_key = key;
    s.pending_vel = velocity;
    s.key = key;
    s.state = kHeld;
    return;
  }
  start_voice(s, key, velocity);
}

void Engine::mono_note_off(int key) {
  int found = -1;
  for (int i = 0; i < mono_count_; i++) {
    if (mono_keys_[i] == key) found = i;
  }
  if (found < 0) return;
  const bool was_current = found == mono_count_ - 1;
  for (int j = found; j + 1 < mono_count_; j++) mono_keys_[j] = mono_keys_[j + 1];
  mono_count_--;
  Slot &s = slots_[0];
  if (!was_current || s.state != kHeld) return;
  if (mono_count_ > 0) {
    // DX7: back to the highest remaining key after an upward move, else the lowest.
    int back = mono_keys_[0];
    for (int i = 1; i < mono_count_; i++) {
      const int k = mono_keys_[i];
      if (mono_up_ ? k > back : k < back) back = k;
    }
    mono_retune(s, back);
    return;
  }
  if (controls_.sustain) {
    s.state = kSustained;
  } else {
    release_slot(s);
  }
}

void Engine::release_all() {
  mono_count_ = 0;
  for (int i = 0; i < polyphony_; i++) {
    Slot &s = slots_[i];
    if (s.state == kHeld || s.state == kSustained) release_slot(s);
  }
}

void Engine::sound_off() {
  mono_count_ = 0;
  for (int i = 0; i < polyphony_; i++) {
    Slot &s = slots_[i];
    if (s.state == kFree) continue;
    s.pending_key = -1;
    if (s.fade == 0) s.fade = fade_frames_;
    s.voice.release();
    s.state = kReleased;
  }
}

void Engine::control(int cc, int value) {
  value = clampi(value, 0, 127);
  switch (cc) {
    case 1: controls_.wheel = value; break;
    case 2: controls_.breath = value; break;
    case 4: controls_.foot = value; break;
    case 5: controls_.porta_time = value; break;
    case 7: {
      const float v = value / 127.0f;
      volume_target_ = v * v;
      break;
    }
    case 64: {
      const bool on = value >= 64;
      if (controls_.sustain && !on) {
        for (int i = 0; i < polyphony_; i++) {
          if (slots_[i].state == kSustained) release_slot(slots_[i]);
        }
      }
      controls_.sustain = on;
      break;
    }
    case 65: controls_.porta_switch = value >= 64; break;
    case 120: sound_off(); break;
    case 121:
      controls_.wheel = controls_.breath = controls_.foot = controls_.aftertouch = 0;
      controls_.bend = 0;
      control(64, 0);
      break;
    case 123: release_all(); break;
    default: break;
  }
  controls_.refresh();
}

void Engine::function(int param, int value) {
  switch (param) {
    case 64: {
      const bool mono = value != 0;
      if (mono != controls_.mono) {
        release_all();
        controls_.mono = mono;
      }
      break;
    }
    case 65: controls_.bend_range = clampi(value, 0, 12); break;
    case 66: controls_.bend_step = clampi(value, 0, 12); break;
    case 67: controls_.porta_mode = clampi(value, 0, 1); break;
    case 68: controls_.glissando = value != 0; break;
    case 69: controls_.porta_time = clampi(value, 0, 99) * 127 / 99; break;
    case 70: controls_.wheel_route.range = clampi(value, 0, 99); break;
    case 71: controls_.wheel_route.assign = value & 7; break;
    case 72: controls_.foot_route.range = clampi(value, 0, 99); break;
    case 73: controls_.foot_route.assign = value & 7; break;
    case 74: controls_.breath_route.range = clampi(value, 0, 99); break;
    case 75: controls_.breath_route.assign = value & 7; break;
    case 76: controls_.at_route.range = clampi(value, 0, 99); break;
    case 77: controls_.at_route.assign = value & 7; break;
    default: break;
  }
  controls_.refresh();
}

void Engine::voice_param(int param, int value) {
  if (param < 0 || param > 155) return;
  edit_[param] = static_cast<uint8_t>(clampi(value, 0, 127));
  sanitise_patch(edit_);
  if (param == 155) {
    controls_.op_mask = edit_[155];
    return;
  }
  if (param >= 137 && param <= 142) lfo_.set(edit_ + 137, tables_);
  if (param >= 145) return;  // name and transpose do not change sounding notes
  for (int i = 0; i < polyphony_; i++) {
    Slot &s = slots_[i];
    if (s.state != kFree && s.pending_key < 0 && s.voice.started()) s.voice.update(edit_);
  }
}

void Engine::apply(const Event &e) {
  switch (e.type) {
    case kNoteOn: note_on(clampi(e.a, 0, 127), clampi(e.b, 0, 127)); break;
    case kNoteOff: note_off(clampi(e.a, 0, 127)); break;
    case kControl: control(e.a, e.b); break;
    case kBend:
      controls_.bend = clampi(e.a, -8192, 8191);
      controls_.refresh();
      break;
    case kPressure:
      controls_.aftertouch = clampi(e.a, 0, 127);
      controls_.refresh();
      break;
    case kFunction: function(e.a, e.b); break;
    case kVoiceParam: voice_param(e.a, e.b); break;
    case kPatch:
      std::memcpy(edit_, e.data, kVoiceBytes);
      sanitise_patch(edit_);
      controls_.op_mask = edit_[155];
      lfo_.set(edit_ + 137, tables_);
      break;
    case kAllNotesOff: release_all(); break;
    case kAllSoundOff: sound_off(); break;
    case kResetControls: control(121, 0); break;
    case kMasterTune:
      controls_.master_tune =
          static_cast<int32_t>(static_cast<double>(e.a) / 120000.0 * (1 << 24));
      controls_.refresh();
      break;
    default: break;
  }
}

DX7_COLD_END

void Engine::render_span(float *out, int n) {
  VoiceContext ctx{&tables_, &controls_, lfo_.value(), lfo_.delay()};
  for (int i = 0; i < n; i++) out[i] = 0.0f;
  for (int v = 0; v < polyphony_; v++) {
    Slot &s = slots_[v];
    if (s.state == kFree) continue;
    int done = 0;
    while (done < n) {
      int m = n - done;
      if (s.fade > 0 && m > s.fade) m = s.fade;
      s.voice.render(scratch_, m, ctx, nullptr);
      if (s.fade > 0) {
        const float step = 1.0f / static_cast<float>(fade_frames_);
        for (int i = 0; i < m; i++) {
          const float g = static_cast<float>(s.fade - i) * step;
          out[done + i] += static_cast<float>(scratch_[i]) * scale_ * g;
        }
        s.fade -= m;
        if (s.fade == 0) {
          if (s.pending_key >= 0) {
            const int key = s.pending_key;
            s.pending_key = -1;
            start_voice(s, key, s.pending_vel);
          } else {
            s.state = kFree;
            s.key = -1;
            break;
          }
        }
      } else {
        for (int i = 0; i < m; i++) out[done + i] += static_cast<float>(scratch_[i]) * scale_;
      }
      done += m;
    }
    if (s.state == kReleased && s.fade == 0 && s.voice.quiet()) {
      s.state = kFree;
      s.key = -1;
    }
  }
}

void Engine::render(float *out, int n) {
  const int64_t start = frame_.load(std::memory_order_relaxed);
  int pos = 0;
  while (pos < n) {
    const int64_t now = start + pos;
    while (const Event *e = queue_.peek()) {
      if (e->frame > now) break;
      apply(*e);
      queue_.pop();
    }
    if ((now & (kBlock - 1)) == 0) lfo_.tick();
    int end = pos + static_cast<int>(kBlock - (now & (kBlock - 1)));
    if (end > n) end = n;
    if (const Event *e = queue_.peek()) {
      if (e->frame < start + end) end = static_cast<int>(e->frame - start);
    }
    render_span(out + pos, end - pos);
    pos = end;
  }
  // Volume (CC7) ramps smoothly; clip to [-1, 1]; track the peak.
  float peak = peak_;
  for (int i = 0; i < n; i++) {
    volume_ += (volume_target_ - volume_) * volume_coef_;
    float y = out[i] * volume_;
    y = y > 1.0f ? 1.0f : (y < -1.0f ? -1.0f : y);
    if (y != y) y = 0.0f;
    out[i] = y;
    const float a = y < 0 ? -y : y;
    if (a > peak) peak = a;
  }
  peak_ = peak;
  frame_.store(start + n, std::memory_order_release);
  int count = 0;
  for (int v = 0; v < polyphony_; v++) count += slots_[v].state != kFree;
  sounding_.store(count, std::memory_order_relaxed);
}

// Not a cold function: its loop runs once per block and converts every sample.
void Engine::render_note(float *out, int total, int keyup_frame, int note, int velocity,
                         float scale, float *ops) {
  flush_events();
  Lfo lfo = ref_lfo_;
  lfo.reset();
  lfo.set(edit_ + 137, tables_);
  lfo.key_down();
  const int played = clampi(note + edit_[144] - 24, 0, 127);
  Voice &v = ref_voice_;
  v = Voice();
  v.set_normal_feedback(normalize_fb_);
  v.start(edit_, played, velocity, tables_, true);
  Controls c;
  c.op_mask = controls_.op_mask;
  c.refresh();
  int32_t cap[kOps][kBlock];
  int32_t *capture[kOps];
  for (int op = 0; op < kOps; op++) capture[op] = cap[op];
  bool released = false;
  for (int pos = 0; pos < total; pos += kBlock) {
    if (!released && pos >= keyup_frame) {
      v.release();
      released = true;
    }
    lfo.tick();
    VoiceContext ctx{&tables_, &c, lfo.value(), lfo.delay()};
    const int m = total - pos < kBlock ? total - pos : kBlock;
    v.render(scratch_, kBlock, ctx, ops ? capture : nullptr);
    for (int i = 0; i < m; i++) out[pos + i] = static_cast<float>(scratch_[i]) * scale;
    if (ops) {
      for (int op = 0; op < kOps; op++) {
        float *row = ops + static_cast<int64_t>(5 - op) * total;
        for (int i = 0; i < m; i++) row[pos + i] = static_cast<float>(cap[op][i]) * scale;
      }
    }
  }
}

}  // namespace dx7
