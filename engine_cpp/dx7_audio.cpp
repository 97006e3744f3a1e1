// dx7_audio.cpp - the native audio output (dx7_audio.h): PortAudio opened and run from
// C++, the callback rendering the engine straight into PortAudio's buffer.
//
// Built with the engine's sources when <portaudio.h> is there (link -lportaudio; cppyy
// loads libportaudio.so.2 first); without it every dx7_audio_open fails, saying why.
#include "dx7_audio.h"

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include <unistd.h>

#include "dx7_capi_handle.h"
#include "dx7_cerror.h"
#include "dx7_rt.h"

#if defined(__has_include)
#if __has_include(<portaudio.h>)
#define DX7_HAVE_PORTAUDIO 1
#endif
#endif

#ifdef DX7_HAVE_PORTAUDIO
#include <portaudio.h>
// pa_jack.h may be missing from a PortAudio built without JACK: declare the one call.
extern "C" PaError PaJack_SetClientName(const char *name) __attribute__((weak));
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace dx7 {
namespace audio {

constexpr int kMaxChunk = 1024;     // frames rendered per engine call inside one callback
constexpr size_t kClientNameBytes = 64;

// PortAudio's JACK host keeps the pointer it is given: one buffer for the process.
char g_client_name[kClientNameBytes] = "dx7d";

using dx7::rt::now_ns;

inline int histogram_bucket(int64_t us) {
  if (us < 8) return us < 0 ? 0 : static_cast<int>(us);
  int octave = 63 - __builtin_clzll(static_cast<unsigned long long>(us));
  int sub = static_cast<int>((us >> (octave - 3)) & 7);
  int bucket = 8 * (octave - 2) + sub;
  return bucket < DX7_AUDIO_HISTOGRAM_BUCKETS ? bucket : DX7_AUDIO_HISTOGRAM_BUCKETS - 1;
}

// Denormals: flush results and inputs to zero in this thread (x86 MXCSR FTZ|DAZ, aarch64
// FPCR.FZ). Per thread, so the callback checks it every block (one register read).
inline bool flush_denormals() {
#if defined(__x86_64__) || defined(__i386__)
  const unsigned int want = 0x8040;  // FTZ (bit 15) | DAZ (bit 6)
  unsigned int csr = _mm_getcsr();
  if ((csr & want) != want) _mm_setcsr(csr | want);
  return true;
#elif defined(__aarch64__)
  uint64_t fpcr;
  __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
  if (!(fpcr & (1ULL << 24))) __asm__ __volatile__("msr fpcr, %0" : : "r"(fpcr | (1ULL << 24)));
  return true;
#else
  return false;
#endif
}

// What every thread may read of a running stream: atomics, written by the callback only.
struct Shared {
  std::atomic<int64_t> stats[DX7_AUDIO_STAT_COUNT];
  std::atomic<int64_t> histogram[DX7_AUDIO_HISTOGRAM_BUCKETS];
  // Block clock, a seqlock: odd while the callback writes (t0_ns, frame0).
  std::atomic<uint32_t> clock_seq{0};
  std::atomic<int64_t> clock_t0_ns{0};
  std::atomic<int64_t> clock_frame0{0};
  Shared() {
    for (auto &s : stats) s.store(0, std::memory_order_relaxed);
    for (auto &h : histogram) h.store(0, std::memory_order_relaxed);
  }
  // Single writer (the callback): a relaxed load + store is enough, no locked add.
  void add(int index, int64_t n) {
    stats[index].store(stats[index].load(std::memory_order_relaxed) + n,
                       std::memory_order_relaxed);
  }
};

// Mono float ring: the callback pushes, one reader thread pops. Capacity 2^k frames.
struct RecordRing {
  std::unique_ptr<float[]> data;
  size_t mask = 0;
  std::atomic<uint64_t> written{0};
  std::atomic<uint64_t> read{0};

  void allocate(int frames) {
    size_t size = 1024;
    while (size < static_cast<size_t>(frames)) size <<= 1;
    data.reset(new float[size]());
    mask = size - 1;
  }
  // Callback: all n frames or none (returns false when there is no room).
  bool push(const float *src, size_t n) {
    const uint64_t w = written.load(std::memory_order_relaxed);
    const uint64_t r = read.load(std::memory_order_acquire);
    if (mask + 1 - (w - r) < n) return false;
    const size_t start = w & mask;
    const size_t first = n < mask + 1 - start ? n : mask + 1 - start;
    std::memcpy(&data[start], src, first * sizeof(float));
    std::memcpy(&data[0], src + first, (n - first) * sizeof(float));
    written.store(w + n, std::memory_order_release);
    return true;
  }
  size_t pop(float *dst, size_t max) {
    const uint64_t r = read.load(std::memory_order_relaxed);
    const uint64_t w = written.load(std::memory_order_acquire);
    size_t n = static_cast<size_t>(w - r);
    if (n > max) n = max;
    const size_t start = r & mask;
    const size_t first = n < mask + 1 - start ? n : mask + 1 - start;
    std::memcpy(dst, &data[start], first * sizeof(float));
    std::memcpy(dst + first, &data[0], (n - first) * sizeof(float));
    read.store(r + n, std::memory_order_release);
    return n;
  }
};

}  // namespace audio
}  // namespace dx7

struct dx7_audio {
  dx7::Engine *engine = nullptr;
  double sample_rate = 48000.0;
  int block_frames = 128;
  bool recording = false;
  bool rt_asked = false;  // touched by the callback only
  float scratch[dx7::audio::kMaxChunk];
  dx7::audio::Shared shared;
  dx7::audio::RecordRing ring;
  char device_name[256] = "";
  // Hosted (dx7_audio_open_hosted): another client's thread calls dx7_audio_render_hosted.
  // running and in_render are a Dekker pair (seq_cst): dx7_audio_stop clears running,
  // then waits for in_render to drop; the host sets in_render, then reads running.
  bool hosted = false;
  std::atomic<int32_t> running{0};
  std::atomic<int32_t> in_render{0};
#ifdef DX7_HAVE_PORTAUDIO
  PaStream *stream = nullptr;
#endif
};

namespace {

using dx7::audio::Shared;

using dx7::put_error;

// Audio thread, once per stream: ask for SCHED_FIFO (dx7_rt.h); the result goes into the
// stats (the daemon logs it from the main thread).
void ask_realtime(dx7_audio *a) {
  const dx7::rt::Grant grant = dx7::rt::ask_fifo();
  a->shared.stats[DX7_AUDIO_STAT_RT].store(grant.state, std::memory_order_relaxed);
  a->shared.stats[DX7_AUDIO_STAT_RT_PRIORITY].store(grant.priority, std::memory_order_relaxed);
}

// One block for the host (PortAudio's callback or a JACK process callback): no
// allocation, no lock, no system call but clock_gettime (vDSO). The mono render goes to
// `left` and `right` (the same buffer twice is fine), `stride` floats apart per frame.
void render_block(dx7_audio *a, float *left, float *right, int stride, unsigned long frames,
                  bool underflow) {
  Shared &s = a->shared;
  const int64_t t0 = dx7::audio::now_ns();
  if (!a->rt_asked) {
    a->rt_asked = true;
    ask_realtime(a);
  }
  if (dx7::audio::flush_denormals() && s.stats[DX7_AUDIO_STAT_DENORMALS].load(
                                           std::memory_order_relaxed) == 0) {
    s.stats[DX7_AUDIO_STAT_DENORMALS].store(1, std::memory_order_relaxed);
  }
  // Block clock first, so an event that arrives while this block renders is placed after it.
  const uint32_t seq = s.clock_seq.load(std::memory_order_relaxed);
  s.clock_seq.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  s.clock_t0_ns.store(t0, std::memory_order_relaxed);
  s.clock_frame0.store(a->engine->frame_position(), std::memory_order_relaxed);
  s.clock_seq.store(seq + 2, std::memory_order_release);

  for (unsigned long done = 0; done < frames;) {
    const int n = static_cast<int>(frames - done < static_cast<unsigned long>(dx7::audio::kMaxChunk)
                                       ? frames - done
                                       : dx7::audio::kMaxChunk);
    a->engine->render(a->scratch, n);
    for (int i = 0; i < n; ++i) {
      const size_t at = static_cast<size_t>(done + i) * static_cast<size_t>(stride);
      left[at] = a->scratch[i];
      right[at] = a->scratch[i];
    }
    if (a->recording && !a->ring.push(a->scratch, static_cast<size_t>(n))) {
      s.add(DX7_AUDIO_STAT_RECORD_DROPPED, n);
    }
    done += static_cast<unsigned long>(n);
  }
  s.add(DX7_AUDIO_STAT_CALLBACKS, 1);
  s.add(DX7_AUDIO_STAT_FRAMES, static_cast<int64_t>(frames));
  if (underflow) s.add(DX7_AUDIO_STAT_UNDERFLOWS, 1);
  const int64_t took = dx7::audio::now_ns() - t0;
  const int64_t block_ns = static_cast<int64_t>(frames) * 1000000000LL /
                           static_cast<int64_t>(a->sample_rate);
  if (took > block_ns) s.add(DX7_AUDIO_STAT_OVERRUNS, 1);
  if (took > s.stats[DX7_AUDIO_STAT_MAX_NS].load(std::memory_order_relaxed)) {
    s.stats[DX7_AUDIO_STAT_MAX_NS].store(took, std::memory_order_relaxed);
  }
  std::atomic<int64_t> &bucket = s.histogram[dx7::audio::histogram_bucket(took / 1000)];
  bucket.store(bucket.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

#ifdef DX7_HAVE_PORTAUDIO

// PortAudio's callback: interleaved stereo float32.
int render_callback(const void *, void *output, unsigned long frames,
                    const PaStreamCallbackTimeInfo *, PaStreamCallbackFlags flags, void *user) {
  float *out = static_cast<float *>(output);
  render_block(static_cast<dx7_audio *>(user), out, out + 1, 2, frames,
               (flags & paOutputUnderflow) != 0);
  return paContinue;
}

// "0: name, 3: other" of the host API's output devices, for error messages.
void describe_outputs(PaHostApiIndex api, char *out, size_t len) {
  out[0] = '\0';
  const PaHostApiInfo *info = Pa_GetHostApiInfo(api);
  size_t used = 0;
  for (int i = 0; info != nullptr && i < info->deviceCount; ++i) {
    const PaDeviceIndex index = Pa_HostApiDeviceIndexToDeviceIndex(api, i);
    const PaDeviceInfo *dev = Pa_GetDeviceInfo(index);
    if (dev == nullptr || dev->maxOutputChannels < 1) continue;
    int w = std::snprintf(out + used, len - used, "%s%d: %s", used ? ", " : "", index, dev->name);
    if (w < 0 || static_cast<size_t>(w) >= len - used) break;
    used += static_cast<size_t>(w);
  }
}

// The device as audio.py's PyAudio backend chooses it; -1 and a message if none fits.
PaDeviceIndex choose_device(int32_t host_api, int32_t device_index, const char *device_name,
                            uint8_t *error, int32_t error_len) {
  char message[1024];
  PaHostApiIndex api;
  if (host_api == DX7_AUDIO_HOST_DEFAULT) {
    api = Pa_GetDefaultHostApi();
  } else {
    const PaHostApiTypeId type = host_api == DX7_AUDIO_HOST_ALSA ? paALSA : paJACK;
    api = Pa_HostApiTypeIdToHostApiIndex(type);
    if (api < 0) {
      char names[512] = "";
      size_t used = 0;
      for (PaHostApiIndex i = 0; i < Pa_GetHostApiCount(); ++i) {
        const PaHostApiInfo *info = Pa_GetHostApiInfo(i);
        int w = std::snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "",
                              info ? info->name : "?");
        if (w < 0 || static_cast<size_t>(w) >= sizeof names - used) break;
        used += static_cast<size_t>(w);
      }
      std::snprintf(message, sizeof message, "PortAudio has no %s host API (has: %s)",
                    host_api == DX7_AUDIO_HOST_ALSA ? "alsa" : "jack", names);
      put_error(error, error_len, message);
      return -1;
    }
  }
  const PaHostApiInfo *info = Pa_GetHostApiInfo(api);
  if (info == nullptr) {
    put_error(error, error_len, "PortAudio has no default host API");
    return -1;
  }
  PaDeviceIndex first = -1, by_name = -1;
  bool index_found = false;
  for (int i = 0; i < info->deviceCount; ++i) {
    const PaDeviceIndex index = Pa_HostApiDeviceIndexToDeviceIndex(api, i);
    const PaDeviceInfo *dev = Pa_GetDeviceInfo(index);
    if (dev == nullptr || dev->maxOutputChannels < 1) continue;
    if (first < 0) first = index;
    if (device_index >= 0 && index == device_index) index_found = true;
    if (by_name < 0 && device_name != nullptr && device_name[0] != '\0' &&
        dx7::contains_nocase(dev->name, device_name)) {
      by_name = index;
    }
  }
  if (first < 0) {
    std::snprintf(message, sizeof message, "no audio output device on host API %s", info->name);
    put_error(error, error_len, message);
    return -1;
  }
  char have[768];
  if (device_index >= 0) {
    if (index_found) return device_index;
    describe_outputs(api, have, sizeof have);
    std::snprintf(message, sizeof message,
                  "audio.device %d: no output device with that index; have %s", device_index,
                  have);
    put_error(error, error_len, message);
    return -1;
  }
  if (device_name != nullptr && device_name[0] != '\0') {
    if (by_name >= 0) return by_name;
    describe_outputs(api, have, sizeof have);
    std::snprintf(message, sizeof message,
                  "audio.device '%s': no output device name contains it; have %s", device_name,
                  have);
    put_error(error, error_len, message);
    return -1;
  }
  const PaDeviceIndex fallback = info->defaultOutputDevice;
  const PaDeviceInfo *def = fallback >= 0 ? Pa_GetDeviceInfo(fallback) : nullptr;
  return def != nullptr && def->maxOutputChannels >= 1 ? fallback : first;
}

#endif  // DX7_HAVE_PORTAUDIO

}  // namespace

extern "C" {

int32_t dx7_audio_available(void) {
#ifdef DX7_HAVE_PORTAUDIO
  return 1;
#else
  return 0;
#endif
}

double dx7_audio_now(void) { return static_cast<double>(dx7::audio::now_ns()) * 1e-9; }

dx7_audio *dx7_audio_open(dx7_engine *engine, int32_t host_api, int32_t device_index,
                          const uint8_t *device_name_utf8, int32_t sample_rate,
                          int32_t block_frames, int32_t record_frames,
                          const uint8_t *client_name_utf8, uint8_t *error, int32_t error_len) {
  const char *device_name = reinterpret_cast<const char *>(device_name_utf8);
  const char *client_name = reinterpret_cast<const char *>(client_name_utf8);
#ifndef DX7_HAVE_PORTAUDIO
  (void)engine; (void)host_api; (void)device_index; (void)device_name; (void)sample_rate;
  (void)block_frames; (void)record_frames; (void)client_name;
  put_error(error, error_len, "the engine was built without PortAudio (no portaudio.h)");
  return nullptr;
#else
  if (engine == nullptr || sample_rate <= 0 || block_frames <= 0) {
    put_error(error, error_len, "dx7_audio_open: no engine, or sample rate/block not > 0");
    return nullptr;
  }
  if (client_name != nullptr && client_name[0] != '\0' && PaJack_SetClientName != nullptr) {
    std::snprintf(dx7::audio::g_client_name, sizeof dx7::audio::g_client_name, "%s", client_name);
    PaJack_SetClientName(dx7::audio::g_client_name);  // before Pa_Initialize to take effect
  }
  PaError err = Pa_Initialize();
  if (err != paNoError) {
    char message[256];
    std::snprintf(message, sizeof message, "PortAudio cannot start: %s", Pa_GetErrorText(err));
    put_error(error, error_len, message);
    return nullptr;
  }
  const PaDeviceIndex device = choose_device(host_api, device_index, device_name, error,
                                             error_len);
  if (device < 0) {
    Pa_Terminate();
    return nullptr;
  }
  std::unique_ptr<dx7_audio> a(new dx7_audio());
  a->engine = &engine->impl;
  a->sample_rate = sample_rate;
  a->block_frames = block_frames;
  if (record_frames > 0) {
    a->ring.allocate(record_frames);
    a->recording = true;
  }
  const PaDeviceInfo *dev = Pa_GetDeviceInfo(device);
  const PaHostApiInfo *api = Pa_GetHostApiInfo(dev->hostApi);
  std::snprintf(a->device_name, sizeof a->device_name, "%s: %s", api ? api->name : "?",
                dev->name);
  PaStreamParameters params{};
  params.device = device;
  params.channelCount = 2;
  params.sampleFormat = paFloat32;
  params.suggestedLatency = dev->defaultLowOutputLatency;
  params.hostApiSpecificStreamInfo = nullptr;
  err = Pa_OpenStream(&a->stream, nullptr, &params, sample_rate,
                      static_cast<unsigned long>(block_frames), paNoFlag, render_callback,
                      a.get());
  if (err != paNoError) {
    char message[512];
    std::snprintf(message, sizeof message, "cannot open audio output %s: %s", a->device_name,
                  Pa_GetErrorText(err));
    put_error(error, error_len, message);
    Pa_Terminate();
    return nullptr;
  }
  return a.release();
#endif
}

dx7_audio *dx7_audio_open_hosted(dx7_engine *engine, int32_t sample_rate,
                                 int32_t block_frames, int32_t record_frames,
                                 const uint8_t *device_name_utf8, uint8_t *error,
                                 int32_t error_len) {
  if (engine == nullptr || sample_rate <= 0 || block_frames <= 0) {
    put_error(error, error_len, "dx7_audio_open_hosted: no engine, or rate/block not > 0");
    return nullptr;
  }
  std::unique_ptr<dx7_audio> a(new dx7_audio());
  a->engine = &engine->impl;
  a->sample_rate = sample_rate;
  a->block_frames = block_frames;
  a->hosted = true;
  if (record_frames > 0) {
    a->ring.allocate(record_frames);
    a->recording = true;
  }
  std::snprintf(a->device_name, sizeof a->device_name, "%s",
                device_name_utf8 != nullptr ? reinterpret_cast<const char *>(device_name_utf8)
                                            : "hosted");
  return a.release();
}

void dx7_audio_render_hosted(dx7_audio *audio, float *left, float *right, uint32_t frames,
                             int32_t underflow) {
  audio->in_render.store(1, std::memory_order_seq_cst);
  if (audio->running.load(std::memory_order_seq_cst)) {
    render_block(audio, left, right, 1, frames, underflow != 0);
  } else {
    std::memset(left, 0, frames * sizeof(float));
    std::memset(right, 0, frames * sizeof(float));
  }
  audio->in_render.store(0, std::memory_order_release);
}

double dx7_audio_sample_rate(const dx7_audio *audio) { return audio->sample_rate; }

void dx7_audio_set_block_frames(dx7_audio *audio, int32_t frames) {
  if (frames > 0) audio->block_frames = frames;
}

int32_t dx7_audio_start(dx7_audio *audio, uint8_t *error, int32_t error_len) {
  if (audio->hosted) {
    audio->running.store(1, std::memory_order_seq_cst);
    return 0;
  }
#ifdef DX7_HAVE_PORTAUDIO
  const PaError err = Pa_StartStream(audio->stream);
  if (err != paNoError) put_error(error, error_len, Pa_GetErrorText(err));
  return err;
#else
  (void)audio;
  put_error(error, error_len, "built without PortAudio");
  return -1;
#endif
}

int32_t dx7_audio_stop(dx7_audio *audio) {
  if (audio->hosted) {
    audio->running.store(0, std::memory_order_seq_cst);
    // a block that saw running = 1 finishes first (its host may be gone: then none runs)
    while (audio->in_render.load(std::memory_order_seq_cst)) usleep(200);
    return 0;
  }
#ifdef DX7_HAVE_PORTAUDIO
  if (audio->stream == nullptr || Pa_IsStreamStopped(audio->stream) == 1) return 0;
  return Pa_StopStream(audio->stream);
#else
  (void)audio;
  return 0;
#endif
}

void dx7_audio_close(dx7_audio *audio) {
  if (audio == nullptr) return;
  if (audio->hosted) {
    dx7_audio_stop(audio);
    delete audio;
    return;
  }
#ifdef DX7_HAVE_PORTAUDIO
  if (audio->stream != nullptr) {
    if (Pa_IsStreamStopped(audio->stream) == 0) Pa_StopStream(audio->stream);
    Pa_CloseStream(audio->stream);
    audio->stream = nullptr;
  }
  Pa_Terminate();
#endif
  delete audio;
}

int32_t dx7_audio_is_active(const dx7_audio *audio) {
  if (audio->hosted) return audio->running.load(std::memory_order_acquire);
#ifdef DX7_HAVE_PORTAUDIO
  return audio->stream != nullptr && Pa_IsStreamActive(audio->stream) == 1 ? 1 : 0;
#else
  (void)audio;
  return 0;
#endif
}

int32_t dx7_audio_device_name(const dx7_audio *audio, uint8_t *out, int32_t len) {
  if (out == nullptr || len <= 0) return 0;
  char *text = reinterpret_cast<char *>(out);
  std::snprintf(text, static_cast<size_t>(len), "%s", audio->device_name);
  return static_cast<int32_t>(std::strlen(text));
}

int64_t dx7_audio_frame_at(const dx7_audio *audio, double t) {
  const Shared &s = audio->shared;
  int64_t t0 = 0, frame0 = 0;
  for (;;) {
    const uint32_t before = s.clock_seq.load(std::memory_order_acquire);
    t0 = s.clock_t0_ns.load(std::memory_order_relaxed);
    frame0 = s.clock_frame0.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (!(before & 1) && s.clock_seq.load(std::memory_order_relaxed) == before) break;
  }
  if (t0 == 0) t0 = dx7::audio::now_ns();  // no block yet: as if one started now
  const double offset = (t - static_cast<double>(t0) * 1e-9) * audio->sample_rate;
  return frame0 + audio->block_frames + static_cast<int64_t>(std::llround(offset));
}

void dx7_audio_stats(const dx7_audio *audio, int64_t *out, int32_t n) {
  for (int32_t i = 0; i < n && i < DX7_AUDIO_STAT_COUNT; ++i) {
    out[i] = audio->shared.stats[i].load(std::memory_order_relaxed);
  }
}

void dx7_audio_histogram(const dx7_audio *audio, int64_t *out, int32_t n) {
  for (int32_t i = 0; i < n && i < DX7_AUDIO_HISTOGRAM_BUCKETS; ++i) {
    out[i] = audio->shared.histogram[i].load(std::memory_order_relaxed);
  }
}

int32_t dx7_audio_record_read(dx7_audio *audio, float *out, int32_t max_frames) {
  if (!audio->recording || max_frames <= 0) return 0;
  return static_cast<int32_t>(audio->ring.pop(out, static_cast<size_t>(max_frames)));
}

}  // extern "C"
