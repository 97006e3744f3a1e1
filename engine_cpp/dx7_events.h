// dx7_events.h - fixed-size event records and a preallocated lock-free single-producer /
// single-consumer ring. The producer (dispatcher thread) calls push(); the consumer
// (audio thread, inside Engine::render) calls peek()/pop(). Neither allocates or blocks.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>

#include "dx7_common.h"

namespace dx7 {

enum EventType : int32_t {
  kNoteOn = 1,        // a = note 0..127, b = velocity 1..127
  kNoteOff = 2,       // a = note
  kControl = 3,       // a = controller number, b = value 0..127
  kBend = 4,          // a = -8192..8191
  kPressure = 5,      // a = 0..127
  kFunction = 6,      // a = function parameter 64..77, b = value
  kVoiceParam = 7,    // a = voice parameter 0..155, b = value
  kPatch = 8,         // data = 156 bytes
  kAllNotesOff = 9,
  kAllSoundOff = 10,
  kResetControls = 11,
  kMasterTune = 12,   // a = cents * 100
};

struct Event {
  int64_t frame;      // absolute engine frame at which it applies
  int32_t type;
  int32_t a;
  int32_t b;
  uint8_t data[kVoiceBytes];
};

class EventQueue {
 public:
  // capacity is rounded up to a power of two (>= 2); allocation happens here only.
  explicit EventQueue(int capacity) {
    size_t c = 2;
    while (c < static_cast<size_t>(capacity)) c <<= 1;
    mask_ = c - 1;
    slots_.reset(new Event[c]);
  }
  // Producer thread only. False if the ring is full.
  bool push(const Event &e) {
    const size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_.load(std::memory_order_acquire) > mask_) return false;
    slots_[tail & mask_] = e;
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }
  // Consumer thread only: the oldest event or nullptr.
  const Event *peek() const {
    const size_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_.load(std::memory_order_acquire)) return nullptr;
    return &slots_[head & mask_];
  }
  void pop() { head_.store(head_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

 private:
  std::unique_ptr<Event[]> slots_;
  size_t mask_ = 1;
  std::atomic<size_t> head_{0};
  std::atomic<size_t> tail_{0};
};

}  // namespace dx7
