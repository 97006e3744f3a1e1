// dx7_engine.h - the polyphonic DX7 engine: voice pool, controllers, LFO and event queue.
//
// Real-time contract: render() allocates nothing, takes no lock, never blocks or throws.
// Everything that changes sound arrives through the event queue and is applied at its
// frame inside the block. Output scale: a full-level carrier = 0.125 (Dexed's level).
#pragma once

#include <atomic>

#include "dx7_controls.h"
#include "dx7_events.h"
#include "dx7_lfo.h"
#include "dx7_tables.h"
#include "dx7_voice.h"

namespace dx7 {

class Engine {
 public:
  // sample_rate Hz; polyphony 1..32; queue_capacity events (rounded up to 2^k).
  Engine(double sample_rate, int polyphony, int queue_capacity);

  // Producer side (one thread). frame = absolute engine frame. False = queue full.
  bool post(int64_t frame, int type, int a, int b);
  bool post_patch(int64_t frame, const uint8_t *data156);

  // Consumer side: fill out[0..n) with mono float samples in [-1, 1].
  void render(float *out, int n);
  // Offline helper: apply every queued event now (same thread as the producer only).
  void flush_events();
  // Offline reference render of one note with the current voice, independent of the
  // voice pool: key up at keyup_frame, output * scale, ops (optional) = 6 * total floats
  // OP1..OP6 rows. Like dexed-py: fresh voice and LFO, no clipping.
  void render_note(float *out, int total, int keyup_frame, int note, int velocity, float scale,
                   float *ops);

  int64_t frame_position() const { return frame_.load(std::memory_order_acquire); }
  int sounding_voices() const { return sounding_.load(std::memory_order_relaxed); }
  int64_t dropped_events() const { return dropped_.load(std::memory_order_relaxed); }
  float peak() const { return peak_; }
  int polyphony() const { return polyphony_; }
  double sample_rate() const { return tables_.sample_rate; }
  void reset_peak() { peak_ = 0.0f; }
  // render_note only: algorithms 4, 6, 32 at the normal feedback scale (DX7.md 3.12).
  void set_normalize_feedback(bool on) { normalize_fb_ = on; }

 private:
  enum State : uint8_t { kFree, kHeld, kSustained, kReleased };
  struct Slot {
    Voice voice;
    State state = kFree;
    int key = -1;          // incoming MIDI note that owns the voice
    uint64_t age = 0;      // note-on order
    int fade = 0;          // frames left of a steal / all-sound-off fade (0 = none)
    int pending_key = -1;  // note to start when the fade ends
    int pending_vel = 0;
  };

  void apply(const Event &e);
  void note_on(int key, int velocity);
  void note_off(int key);
  void control(int cc, int value);
  void function(int param, int value);
  void voice_param(int param, int value);
  void start_voice(Slot &s, int key, int velocity);
  void release_slot(Slot &s);
  void release_all();
  void sound_off();
  int32_t mono_retune(Slot &s, int key);
  void mono_note_on(int key, int velocity);
  void mono_note_off(int key);
  void render_span(float *out, int n);
  int32_t glide_per_block() const;

  Tables tables_;
  Controls controls_;
  Lfo lfo_;
  EventQueue queue_;
  Slot slots_[kMaxPolyphony];
  int polyphony_;
  uint8_t edit_[kVoiceBytes];
  std::atomic<int64_t> frame_{0};
  uint64_t age_ = 0;
  int32_t last_pitch_ = 0;       // Q24 logfreq of the last note played (portamento)
  bool have_last_pitch_ = false;
  int mono_keys_[16];
  int mono_count_ = 0;
  bool mono_up_ = true;           // direction of the last mono key move
  float volume_ = 1.0f, volume_target_ = 1.0f, volume_coef_ = 0.0f;
  int fade_frames_;
  float scale_ = 1.0f / 268435456.0f;   // 2^-28
  float peak_ = 0.0f;
  int32_t scratch_[kBlock];
  std::atomic<int> sounding_{0};
  std::atomic<int64_t> dropped_{0};
  // Offline reference voice (render_note).
  Voice ref_voice_;
  Lfo ref_lfo_;
  bool normalize_fb_ = false;
};

}  // namespace dx7
