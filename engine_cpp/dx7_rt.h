// dx7_rt.h - what the engine's real-time threads (the native audio callback, the JACK
// MIDI process callback) share: the monotonic clock and the request for SCHED_FIFO.
#pragma once

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <cstdint>

namespace dx7 {
namespace rt {

// SCHED_FIFO priority the engine's threads ask for (systemd unit: LimitRTPRIO=95).
constexpr int kPriority = 60;

// CLOCK_MONOTONIC in nanoseconds: time.perf_counter()'s clock on Linux (vDSO, no syscall).
inline int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

// What asking the calling thread for SCHED_FIFO gave. state: 2 = it was real-time
// already (the host made it so), 1 = granted here, -errno = refused (EPERM without
// CAP_SYS_NICE or an RLIMIT_RTPRIO). priority: the thread's real-time priority, 0 if none.
struct Grant {
  int state;
  int priority;
};

// Called once from the thread itself, on its first callback (one system call).
inline Grant ask_fifo(int priority = kPriority) {
  int policy = 0;
  sched_param param{};
  pthread_t self = pthread_self();
  if (pthread_getschedparam(self, &policy, &param) == 0 &&
      (policy == SCHED_FIFO || policy == SCHED_RR)) {
    return {2, param.sched_priority};
  }
  param.sched_priority = priority;
  const int err = pthread_setschedparam(self, SCHED_FIFO, &param);
  return err == 0 ? Grant{1, priority} : Grant{-err, 0};
}

}  // namespace rt
}  // namespace dx7
