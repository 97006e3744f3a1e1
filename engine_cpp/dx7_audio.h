/* dx7_audio.h - the native audio output: a PortAudio stream opened and run from C++,
 * whose callback renders the engine's block straight into PortAudio's buffer.
 *
 * The audio thread never enters Python: it renders (the engine's lock-free event queue
 * carries everything Python asks for), writes interleaved stereo float32, stamps the
 * block clock, counts underflows/overruns, times itself into a fixed histogram and
 * copies the mono block into a single-producer single-consumer ring for audio.record.
 * Everything the other threads read is an atomic; nothing in the callback allocates,
 * locks, logs or waits.
 *
 * Threads: open/start/stop/close and the readers are called from Python threads (any,
 * one at a time per handle, except the readers, which may run beside anything).
 * close may block forever inside PortAudio (its JACK host API, once the server died):
 * callers run it in a thread they can abandon, and the handle is then never freed.
 * Each function is listed in engine_cpp/_abi.py (open, start, stop, close release the GIL).
 */
#ifndef DX7_AUDIO_H
#define DX7_AUDIO_H

#include <stdint.h>

#include "dx7_capi.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dx7_audio dx7_audio; /* one output stream, opaque */

/* host_api of dx7_audio_open */
#define DX7_AUDIO_HOST_DEFAULT 0
#define DX7_AUDIO_HOST_ALSA 1
#define DX7_AUDIO_HOST_JACK 2

/* Indices into dx7_audio_stats' output (int64 each). */
#define DX7_AUDIO_STAT_CALLBACKS 0      /* callbacks so far */
#define DX7_AUDIO_STAT_UNDERFLOWS 1     /* callbacks PortAudio flagged paOutputUnderflow */
#define DX7_AUDIO_STAT_OVERRUNS 2       /* callbacks that took longer than their block lasts */
#define DX7_AUDIO_STAT_MAX_NS 3         /* longest callback, nanoseconds */
#define DX7_AUDIO_STAT_RECORD_DROPPED 4 /* frames the record ring had no room for */
#define DX7_AUDIO_STAT_RT 5             /* 0 not yet known, 1 SCHED_FIFO granted by us,
                                           2 already real-time (the host's thread), -errno refused */
#define DX7_AUDIO_STAT_RT_PRIORITY 6    /* the thread's real-time priority (0 if none) */
#define DX7_AUDIO_STAT_DENORMALS 7      /* 1 once the callback has flushed denormals to zero */
#define DX7_AUDIO_STAT_FRAMES 8         /* frames the callbacks rendered */
#define DX7_AUDIO_STAT_COUNT 9

/* Callback-time histogram: bucket of t microseconds: t < 8 -> t; else with
 * o = floor(log2 t) (3..), 8 * (o - 2) + the 3 bits below the top one. So 1 us wide up
 * to 16 us, then 8 buckets per octave (12.5 % wide), the last bucket holding the rest. */
#define DX7_AUDIO_HISTOGRAM_BUCKETS 176

/* Open (not start) an output stream of `sample_rate` Hz, 2 channels float32,
 * `block_frames` frames per callback, rendering from `engine` (the engine handle; it must
 * outlive the stream). host_api: DX7_AUDIO_HOST_*. Device: device_index >= 0 (PortAudio
 * index), else a case-insensitive part of the name in device_name, else (NULL or "") the
 * host API's default output. record_frames > 0: a record ring of at least that many mono
 * frames (read with dx7_audio_record_read). client_name: the JACK client name (copied into
 * a buffer that lives as long as the process: PortAudio keeps the pointer).
 * Strings are NUL-terminated UTF-8 (uint8_t: numpy arrays from Python).
 * Returns NULL on failure, with a message in error[0..error_len). */
dx7_audio *dx7_audio_open(dx7_engine *engine, int32_t host_api, int32_t device_index,
                          const uint8_t *device_name, int32_t sample_rate,
                          int32_t block_frames, int32_t record_frames,
                          const uint8_t *client_name, uint8_t *error, int32_t error_len);
/* A hosted stream: no PortAudio; another client's real-time thread (the JACK client of
 * dx7_jackmidi_attach_audio) calls dx7_audio_render_hosted once per cycle. Same
 * counters, clock and record ring as a PortAudio stream; device_name is what
 * dx7_audio_device_name reports. start/stop/close/is_active work on it as documented
 * below (stop waits for a block in progress; close does not detach it from its host:
 * dx7_jackmidi_detach_audio first). */
dx7_audio *dx7_audio_open_hosted(dx7_engine *engine, int32_t sample_rate,
                                 int32_t block_frames, int32_t record_frames,
                                 const uint8_t *device_name, uint8_t *error,
                                 int32_t error_len);
/* The host's thread: one block of `frames` into left and right (mono twice) once
 * started, silence before and after; underflow != 0 counts one underflow (the host lost
 * a cycle since the last block). Never blocks, allocates or locks. */
void dx7_audio_render_hosted(dx7_audio *audio, float *left, float *right, uint32_t frames,
                             int32_t underflow);
/* The stream's sample rate, Hz. */
double dx7_audio_sample_rate(const dx7_audio *audio);
/* The host's block, frames (the latency dx7_audio_frame_at adds); before start only. */
void dx7_audio_set_block_frames(dx7_audio *audio, int32_t frames);
/* 0 on success, else a PortAudio error code, its text in error[0..error_len). */
int32_t dx7_audio_start(dx7_audio *audio, uint8_t *error, int32_t error_len);
/* Stop the stream: when it returns no callback runs any more and the counters are final.
 * 0 or a PortAudio error code. May block forever (see above). */
int32_t dx7_audio_stop(dx7_audio *audio);
/* Stop (if still running) and close the stream, release PortAudio and free the handle.
 * May block forever (see above); the handle is invalid afterwards. */
void dx7_audio_close(dx7_audio *audio);
/* 1 while PortAudio says the stream runs (0 after the device or JACK server went away);
 * hosted: 1 from start to stop (the host's own liveness is its client's to report). */
int32_t dx7_audio_is_active(const dx7_audio *audio);
/* "<host API>: <device>" into out[0..len), NUL-terminated; returns its length. */
int32_t dx7_audio_device_name(const dx7_audio *audio, uint8_t *out, int32_t len);
/* The engine frame at which an event that arrived at time t (seconds on dx7_audio_now's
 * clock) plays: the frame at the start of the last block + one block + (t - its time) *
 * sample_rate. One block of constant latency; the event keeps its offset inside it. */
int64_t dx7_audio_frame_at(const dx7_audio *audio, double t);
/* Seconds on CLOCK_MONOTONIC, the clock of Python's time.perf_counter() on Linux. */
double dx7_audio_now(void);
/* Counters into out[0..n) (n <= DX7_AUDIO_STAT_COUNT, DX7_AUDIO_STAT_* order). */
void dx7_audio_stats(const dx7_audio *audio, int64_t *out, int32_t n);
/* Callback-time histogram into out[0..n) (n <= DX7_AUDIO_HISTOGRAM_BUCKETS). */
void dx7_audio_histogram(const dx7_audio *audio, int64_t *out, int32_t n);
/* Move up to max_frames recorded mono frames (float, -1..1) into out; returns how many. */
int32_t dx7_audio_record_read(dx7_audio *audio, float *out, int32_t max_frames);
/* 1 if this build has PortAudio (else dx7_audio_open always fails, saying so). */
int32_t dx7_audio_available(void);

#ifdef __cplusplus
}
#endif

#endif /* DX7_AUDIO_H */
