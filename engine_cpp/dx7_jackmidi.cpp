// dx7_jackmidi.cpp - the daemon's JACK MIDI client (dx7_jackmidi.h): raw events into a
// lock-free ring from JACK's process callback, replies out of another.
//
// libjack.so.0 is dlopen'ed and the few calls used are declared here (their prototypes
// as JACK documents them), so neither the JACK headers nor libjack are needed to build
// or load the engine.
#include "dx7_jackmidi.h"
#include "dx7_audio.h"
#include "dx7_cerror.h"
#include "dx7_rt.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <new>

namespace dx7 {
namespace jackmidi {

// -- the slice of JACK's C API used (opaque pointers, documented values) ----------------
struct Client;
struct Port;
typedef uint32_t nframes_t;
struct MidiEvent {  // jack_midi_event_t
  nframes_t time;
  size_t size;
  unsigned char *buffer;
};
constexpr int kNoStartServer = 0x01;    // JackNoStartServer
constexpr unsigned long kIsInput = 0x1;  // JackPortIsInput
constexpr unsigned long kIsOutput = 0x2; // JackPortIsOutput
constexpr unsigned long kIsPhysical = 0x4;  // JackPortIsPhysical
constexpr const char *kMidiType = "8 bit raw midi";  // JACK_DEFAULT_MIDI_TYPE
constexpr const char *kAudioType = "32 bit float mono audio";  // JACK_DEFAULT_AUDIO_TYPE

struct Api {
  Client *(*client_open)(const char *, int, int *, ...);
  int (*client_close)(Client *);
  int (*activate)(Client *);
  int (*deactivate)(Client *);
  Port *(*port_register)(Client *, const char *, const char *, unsigned long, unsigned long);
  int (*port_unregister)(Client *, Port *);
  const char *(*port_name)(const Port *);
  int (*connect)(Client *, const char *, const char *);
  int (*set_process_callback)(Client *, int (*)(nframes_t, void *), void *);
  void (*on_shutdown)(Client *, void (*)(void *), void *);
  void *(*port_get_buffer)(Port *, nframes_t);
  uint32_t (*midi_get_event_count)(void *);
  int (*midi_event_get)(MidiEvent *, void *, uint32_t);
  void (*midi_clear_buffer)(void *);
  int (*midi_event_write)(void *, nframes_t, const unsigned char *, size_t);
  nframes_t (*get_sample_rate)(Client *);
  nframes_t (*get_buffer_size)(Client *);
  int (*set_xrun_callback)(Client *, int (*)(void *), void *);
  const char **(*get_ports)(Client *, const char *, const char *, unsigned long);
  int (*port_connected_to)(const Port *, const char *);
  void (*free)(void *);
};

Api g_api;
bool g_loaded = false;
char g_load_error[256] = "";

template <typename F>
bool bind(void *lib, const char *name, F *slot) {
  void *sym = dlsym(lib, name);
  if (sym == nullptr) {
    snprintf(g_load_error, sizeof g_load_error, "libjack.so.0 lacks %s", name);
    return false;
  }
  *slot = reinterpret_cast<F>(sym);
  return true;
}

bool load_jack() {
  if (g_loaded) return true;
  void *lib = dlopen("libjack.so.0", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char *why = dlerror();
    snprintf(g_load_error, sizeof g_load_error, "cannot load libjack.so.0: %s",
             why ? why : "unknown");
    return false;
  }
  Api a;
  bool ok = bind(lib, "jack_client_open", &a.client_open) &&
            bind(lib, "jack_client_close", &a.client_close) &&
            bind(lib, "jack_activate", &a.activate) &&
            bind(lib, "jack_deactivate", &a.deactivate) &&
            bind(lib, "jack_port_register", &a.port_register) &&
            bind(lib, "jack_port_unregister", &a.port_unregister) &&
            bind(lib, "jack_port_name", &a.port_name) &&
            bind(lib, "jack_connect", &a.connect) &&
            bind(lib, "jack_set_process_callback", &a.set_process_callback) &&
            bind(lib, "jack_on_shutdown", &a.on_shutdown) &&
            bind(lib, "jack_port_get_buffer", &a.port_get_buffer) &&
            bind(lib, "jack_midi_get_event_count", &a.midi_get_event_count) &&
            bind(lib, "jack_midi_event_get", &a.midi_event_get) &&
            bind(lib, "jack_midi_clear_buffer", &a.midi_clear_buffer) &&
            bind(lib, "jack_midi_event_write", &a.midi_event_write) &&
            bind(lib, "jack_get_sample_rate", &a.get_sample_rate) &&
            bind(lib, "jack_get_buffer_size", &a.get_buffer_size) &&
            bind(lib, "jack_set_xrun_callback", &a.set_xrun_callback) &&
            bind(lib, "jack_get_ports", &a.get_ports) &&
            bind(lib, "jack_port_connected_to", &a.port_connected_to) &&
            bind(lib, "jack_free", &a.free);
  if (!ok) return false;  // the library stays loaded: harmless, and dlclose could crash
  g_api = a;
  g_loaded = true;
  return true;
}

using dx7::rt::now_ns;

// A single-producer single-consumer byte ring; capacity a power of two.
struct Ring {
  uint8_t *data = nullptr;
  uint64_t mask = 0;
  std::atomic<uint64_t> head{0};  // written by the producer
  std::atomic<uint64_t> tail{0};  // written by the consumer

  bool init(uint64_t bytes) {
    uint64_t cap = 1024;
    while (cap < bytes) cap <<= 1;
    data = new (std::nothrow) uint8_t[cap];
    mask = cap - 1;
    return data != nullptr;
  }
  ~Ring() { delete[] data; }
  uint64_t capacity() const { return mask + 1; }
  void put(uint64_t at, const void *src, uint64_t n) {  // producer: copy in at `at`
    const uint8_t *s = static_cast<const uint8_t *>(src);
    uint64_t off = at & mask, first = n < capacity() - off ? n : capacity() - off;
    memcpy(data + off, s, first);
    memcpy(data, s + first, n - first);
  }
  void get(uint64_t at, void *dst, uint64_t n) const {  // consumer: copy out from `at`
    uint8_t *d = static_cast<uint8_t *>(dst);
    uint64_t off = at & mask, first = n < capacity() - off ? n : capacity() - off;
    memcpy(d, data + off, first);
    memcpy(d + first, data, n - first);
  }
};

struct Header {  // DX7_JACKMIDI_HEADER bytes
  int64_t t_ns;
  int32_t slot;
  int32_t size;
};
static_assert(sizeof(Header) == DX7_JACKMIDI_HEADER, "header layout");

constexpr uint64_t kOutRingBytes = 1 << 16;

}  // namespace jackmidi
}  // namespace dx7

struct dx7_jackmidi {
  dx7::jackmidi::Client *client = nullptr;
  std::atomic<dx7::jackmidi::Port *> ports[DX7_JACKMIDI_MAX_PORTS];
  std::atomic<int32_t> slots_used{1};  // slots below this may be non-null
  dx7::jackmidi::Port *out_port = nullptr;
  dx7::jackmidi::Ring in;   // JACK thread -> reader
  dx7::jackmidi::Ring out;  // send -> JACK thread
  int pipe_r = -1, pipe_w = -1;
  double rate = 0.0;
  std::atomic<int64_t> cycles{0}, events{0}, dropped{0}, sent{0};
  std::atomic<int32_t> shut_down{0};
  bool rt_asked = false;                        // JACK thread only
  std::atomic<int32_t> refs{1};                 // dx7_jackmidi_retain / _close
  std::atomic<int32_t> client_closed{0};        // jack_client_close called (once)
  // The hosted audio stream (dx7_jackmidi_attach_audio): its ports are written before
  // the pointer is published, and stay until it is taken back (detach).
  std::atomic<dx7_audio *> audio{nullptr};
  dx7::jackmidi::Port *audio_ports[2] = {nullptr, nullptr};
  std::atomic<int64_t> xruns{0};  // the server's xrun notifications (its own thread)
  int64_t xruns_seen = 0;         // JACK process thread only
  std::atomic<int32_t> rt_state{0}, rt_priority{0};  // dx7::rt::Grant, 0 = not yet known
};

namespace dx7 {
namespace jackmidi {

void wake(dx7_jackmidi *m) {
  const uint8_t byte = 1;
  ssize_t done = write(m->pipe_w, &byte, 1);  // non-blocking: a full pipe is awake already
  (void)done;
}

void write_replies(dx7_jackmidi *m, nframes_t frames) {
  void *buffer = g_api.port_get_buffer(m->out_port, frames);
  if (buffer == nullptr) return;
  g_api.midi_clear_buffer(buffer);
  Ring &ring = m->out;
  uint64_t tail = ring.tail.load(std::memory_order_relaxed);
  const uint64_t head = ring.head.load(std::memory_order_acquire);
  unsigned char chunk[512];
  while (head - tail >= 4) {
    uint32_t size = 0;
    ring.get(tail, &size, 4);
    if (size & 0x80000000u) {  // a filler up to the ring's end (dx7_jackmidi_send)
      tail += 4 + (size & 0x7fffffffu);
      continue;
    }
    // the message must be contiguous for jack_midi_event_write: copy it out in one piece
    // when it is small, else write it straight from the ring when it does not wrap
    const uint64_t off = (tail + 4) & ring.mask;
    const unsigned char *src;
    if (size <= sizeof chunk) {
      ring.get(tail + 4, chunk, size);
      src = chunk;
    } else if (off + size <= ring.capacity()) {
      src = ring.data + off;
    } else {
      src = nullptr;  // never queued: dx7_jackmidi_send keeps big messages contiguous
    }
    if (src != nullptr && g_api.midi_event_write(buffer, 0, src, size) != 0) break;  // full
    tail += 4 + size;
    m->sent.fetch_add(1, std::memory_order_relaxed);
  }
  ring.tail.store(tail, std::memory_order_release);
}

int process(nframes_t frames, void *arg) {
  dx7_jackmidi *m = static_cast<dx7_jackmidi *>(arg);
  if (!m->rt_asked) {  // a server without real-time gives its clients ordinary threads
    m->rt_asked = true;
    const dx7::rt::Grant grant = dx7::rt::ask_fifo();
    m->rt_priority.store(grant.priority, std::memory_order_relaxed);
    m->rt_state.store(grant.state, std::memory_order_release);
  }
  const int64_t now = now_ns();
  const double ns_per_frame = m->rate > 0 ? 1e9 / m->rate : 0.0;
  Ring &ring = m->in;
  uint64_t head = ring.head.load(std::memory_order_relaxed);
  const uint64_t tail = ring.tail.load(std::memory_order_acquire);
  bool copied = false;
  const int32_t used = m->slots_used.load(std::memory_order_acquire);
  for (int32_t slot = 0; slot < used; ++slot) {
    Port *port = m->ports[slot].load(std::memory_order_acquire);
    if (port == nullptr) continue;
    void *buffer = g_api.port_get_buffer(port, frames);
    if (buffer == nullptr) continue;
    const uint32_t count = g_api.midi_get_event_count(buffer);
    for (uint32_t i = 0; i < count; ++i) {
      MidiEvent event;
      if (g_api.midi_event_get(&event, buffer, i) != 0) continue;
      const uint64_t need = (sizeof(Header) + event.size + 7) & ~uint64_t{7};
      if (need > ring.capacity() - (head - tail)) {
        m->dropped.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      Header h{now + static_cast<int64_t>(event.time * ns_per_frame), slot,
               static_cast<int32_t>(event.size)};
      ring.put(head, &h, sizeof h);
      ring.put(head + sizeof h, event.buffer, event.size);
      head += need;
      copied = true;
      m->events.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (copied) {
    ring.head.store(head, std::memory_order_release);
    wake(m);
  }
  if (m->out_port != nullptr) write_replies(m, frames);
  if (dx7_audio *audio = m->audio.load(std::memory_order_acquire)) {
    float *left = static_cast<float *>(g_api.port_get_buffer(m->audio_ports[0], frames));
    float *right = static_cast<float *>(g_api.port_get_buffer(m->audio_ports[1], frames));
    const int64_t xruns = m->xruns.load(std::memory_order_relaxed);
    if (left != nullptr && right != nullptr) {
      dx7_audio_render_hosted(audio, left, right, frames, xruns != m->xruns_seen);
    }
    m->xruns_seen = xruns;
  }
  m->cycles.fetch_add(1, std::memory_order_release);
  return 0;
}

int on_xrun(void *arg) {
  static_cast<dx7_jackmidi *>(arg)->xruns.fetch_add(1, std::memory_order_relaxed);
  return 0;
}

// Wait until the process callback let go of what it may hold for the rest of its cycle:
// two cycles, at most 0.5 s, none once the server shut the client down.
void wait_two_cycles(dx7_jackmidi *m) {
  const int64_t start = m->cycles.load(std::memory_order_acquire);
  const int64_t deadline = now_ns() + 500000000LL;
  while (m->cycles.load(std::memory_order_acquire) < start + 2 && now_ns() < deadline &&
         !m->shut_down.load(std::memory_order_acquire)) {
    usleep(2000);
  }
}

void on_shutdown(void *arg) {
  dx7_jackmidi *m = static_cast<dx7_jackmidi *>(arg);
  m->shut_down.store(1, std::memory_order_release);
  wake(m);
}


}  // namespace jackmidi
}  // namespace dx7

extern "C" {

int32_t dx7_jackmidi_available(void) { return dx7::jackmidi::load_jack() ? 1 : 0; }

dx7_jackmidi *dx7_jackmidi_open(const uint8_t *client_name, const uint8_t *in_port,
                                const uint8_t *out_port, int32_t ring_bytes, uint8_t *error,
                                int32_t error_bytes) {
  using namespace dx7::jackmidi;
  if (!load_jack()) {
    dx7::put_error(error, error_bytes, g_load_error);
    return nullptr;
  }
  dx7_jackmidi *m = new (std::nothrow) dx7_jackmidi();
  if (m == nullptr) return nullptr;
  for (auto &p : m->ports) p.store(nullptr, std::memory_order_relaxed);
  int fds[2];
  if (!m->in.init(ring_bytes > 0 ? static_cast<uint64_t>(ring_bytes) : 1 << 20) ||
      !m->out.init(kOutRingBytes) || pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    dx7::put_error(error, error_bytes, "out of memory or file descriptors");
    delete m;
    return nullptr;
  }
  m->pipe_r = fds[0];
  m->pipe_w = fds[1];
  int status = 0;
  m->client = g_api.client_open(reinterpret_cast<const char *>(client_name), kNoStartServer,
                                &status);
  if (m->client == nullptr) {
    char text[128];
    snprintf(text, sizeof text, "cannot open the JACK client (status 0x%x: no server?)",
             status);
    dx7::put_error(error, error_bytes, text);
    dx7_jackmidi_close(m);
    return nullptr;
  }
  m->rate = static_cast<double>(g_api.get_sample_rate(m->client));
  const bool want_in = in_port != nullptr && in_port[0] != 0;
  const bool want_out = out_port != nullptr && out_port[0] != 0;
  Port *virtual_port = want_in ? g_api.port_register(m->client,
                                                     reinterpret_cast<const char *>(in_port),
                                                     kMidiType, kIsInput, 0)
                               : nullptr;
  m->out_port = want_out ? g_api.port_register(m->client,
                                               reinterpret_cast<const char *>(out_port),
                                               kMidiType, kIsOutput, 0)
                         : nullptr;
  if ((want_in && virtual_port == nullptr) || (want_out && m->out_port == nullptr)) {
    dx7::put_error(error, error_bytes, "JACK refused to register the MIDI ports");
    dx7_jackmidi_close(m);
    return nullptr;
  }
  m->ports[0].store(virtual_port, std::memory_order_release);
  g_api.set_process_callback(m->client, process, m);
  g_api.on_shutdown(m->client, on_shutdown, m);
  g_api.set_xrun_callback(m->client, on_xrun, m);
  if (g_api.activate(m->client) != 0) {
    dx7::put_error(error, error_bytes, "cannot activate the JACK client");
    dx7_jackmidi_close(m);
    return nullptr;
  }
  return m;
}

void dx7_jackmidi_close(dx7_jackmidi *m) {
  using namespace dx7::jackmidi;
  if (m == nullptr) return;
  const bool last = m->refs.fetch_sub(1, std::memory_order_acq_rel) == 1;
  const bool shut_down = m->shut_down.load(std::memory_order_acquire);
  // A client the server shut down is closed by the first release, held or not: libjack
  // frees every dead client itself when this process opens its next one (a reopened
  // MIDI client), and a close after that would touch freed memory.
  if ((last || shut_down) && m->client != nullptr &&
      !m->client_closed.exchange(1, std::memory_order_acq_rel)) {
    if (!shut_down) g_api.deactivate(m->client);
    g_api.client_close(m->client);  // unregisters every port
  }
  if (!last) return;  // someone still holds the handle
  if (m->pipe_r >= 0) close(m->pipe_r);
  if (m->pipe_w >= 0) close(m->pipe_w);
  delete m;
}

int32_t dx7_jackmidi_fd(dx7_jackmidi *m) { return m->pipe_r; }

void dx7_jackmidi_wake(dx7_jackmidi *m) { dx7::jackmidi::wake(m); }

int32_t dx7_jackmidi_add_port(dx7_jackmidi *m, const uint8_t *port) {
  using namespace dx7::jackmidi;
  int32_t slot = 1;
  while (slot < DX7_JACKMIDI_MAX_PORTS && m->ports[slot].load() != nullptr) ++slot;
  if (slot >= DX7_JACKMIDI_MAX_PORTS) return -1;
  Port *p = g_api.port_register(m->client, reinterpret_cast<const char *>(port), kMidiType,
                                kIsInput, 0);
  if (p == nullptr) return -1;
  m->ports[slot].store(p, std::memory_order_release);
  if (slot >= m->slots_used.load()) m->slots_used.store(slot + 1, std::memory_order_release);
  return slot;
}

int32_t dx7_jackmidi_connect(dx7_jackmidi *m, const uint8_t *source, int32_t slot) {
  using namespace dx7::jackmidi;
  if (slot < 0 || slot >= DX7_JACKMIDI_MAX_PORTS) return -1;
  Port *p = m->ports[slot].load();
  if (p == nullptr) return -1;
  return g_api.connect(m->client, reinterpret_cast<const char *>(source), g_api.port_name(p));
}

int32_t dx7_jackmidi_remove_port(dx7_jackmidi *m, int32_t slot) {
  using namespace dx7::jackmidi;
  if (slot <= 0 || slot >= DX7_JACKMIDI_MAX_PORTS) return -1;
  Port *p = m->ports[slot].exchange(nullptr, std::memory_order_acq_rel);
  if (p == nullptr) return -1;
  wait_two_cycles(m);  // the callback may hold the pointer for the rest of its cycle
  g_api.port_unregister(m->client, p);
  return 0;
}

int32_t dx7_jackmidi_source_ports(dx7_jackmidi *m, uint8_t *out, int32_t out_bytes) {
  using namespace dx7::jackmidi;
  const char **names = g_api.get_ports(m->client, nullptr, kMidiType, kIsOutput);
  int64_t need = 0;
  if (names != nullptr) {
    // a source already wired by hand to the virtual port (slot 0) is heard through it:
    // listening to it again through a port of our own would play every event twice
    const Port *virtual_port = m->ports[0].load(std::memory_order_acquire);
    for (const char **n = names; *n != nullptr; ++n) {
      if (virtual_port != nullptr && g_api.port_connected_to(virtual_port, *n)) continue;
      const size_t len = strlen(*n);
      if (need + static_cast<int64_t>(len) + 1 < out_bytes) {
        memcpy(out + need, *n, len);
        out[need + static_cast<int64_t>(len)] = '\n';
      }
      need += static_cast<int64_t>(len) + 1;
    }
    g_api.free(names);
  }
  if (need < out_bytes) out[need] = 0;
  return static_cast<int32_t>(need);
}

int32_t dx7_jackmidi_send(dx7_jackmidi *m, const uint8_t *data, int32_t n) {
  using namespace dx7::jackmidi;
  if (n <= 0) return 1;
  Ring &ring = m->out;
  uint64_t head = ring.head.load(std::memory_order_relaxed);
  const uint64_t tail = ring.tail.load(std::memory_order_acquire);
  const uint64_t size = static_cast<uint64_t>(n);
  if (size > 512) {
    // a big message is read straight from the ring: pad with a zero-size filler up to
    // the ring's end when it would wrap (the filler writes nothing: an empty message)
    const uint64_t off = (head + 4) & ring.mask;
    if (off + size > ring.capacity()) {
      const uint64_t pad = ring.capacity() - (head & ring.mask);
      if (pad < 4 || pad + 4 + size > ring.capacity() - (head - tail)) return 0;
      // a filler record: its size covers the gap, its bytes are never written out
      const uint32_t filler = static_cast<uint32_t>(pad - 4) | 0x80000000u;
      ring.put(head, &filler, 4);
      head += pad;
    }
  }
  if (4 + size > ring.capacity() - (head - tail)) return 0;
  const uint32_t size32 = static_cast<uint32_t>(size);
  ring.put(head, &size32, 4);
  ring.put(head + 4, data, size);
  ring.head.store(head + 4 + size, std::memory_order_release);
  return 1;
}

int32_t dx7_jackmidi_read(dx7_jackmidi *m, uint8_t *out, int32_t out_bytes) {
  using namespace dx7::jackmidi;
  Ring &ring = m->in;
  uint64_t tail = ring.tail.load(std::memory_order_relaxed);
  const uint64_t head = ring.head.load(std::memory_order_acquire);
  int64_t written = 0;
  while (head - tail >= sizeof(Header)) {
    Header h;
    ring.get(tail, &h, sizeof h);
    const int64_t whole = static_cast<int64_t>(sizeof h) + h.size;
    if (written + whole > out_bytes) break;
    ring.get(tail, out + written, static_cast<uint64_t>(whole));
    written += whole;
    tail += (sizeof h + static_cast<uint64_t>(h.size) + 7) & ~uint64_t{7};
  }
  ring.tail.store(tail, std::memory_order_release);
  return static_cast<int32_t>(written);
}

void dx7_jackmidi_retain(dx7_jackmidi *m) { m->refs.fetch_add(1, std::memory_order_relaxed); }

int32_t dx7_jackmidi_attach_audio(dx7_jackmidi *m, dx7_audio *audio, const uint8_t *device,
                                  uint8_t *error, int32_t error_bytes) {
  using namespace dx7::jackmidi;
  char text[1024];
  if (m->audio.load() != nullptr) {
    dx7::put_error(error, error_bytes, "the JACK client already plays a stream");
    return -1;
  }
  const nframes_t rate = g_api.get_sample_rate(m->client);
  if (static_cast<double>(rate) != dx7_audio_sample_rate(audio)) {
    snprintf(text, sizeof text,
             "the JACK server runs at %u Hz, the engine at %.0f Hz: set audio.sample_rate: %u "
             "(or start jackd with -r %.0f)", rate, dx7_audio_sample_rate(audio), rate,
             dx7_audio_sample_rate(audio));
    dx7::put_error(error, error_bytes, text);
    return -1;
  }
  // the playback ports to connect to: those whose name contains `device`, else the
  // physical ones (system:playback_*)
  const char *wanted = reinterpret_cast<const char *>(device);
  const bool by_name = wanted != nullptr && wanted[0] != 0;
  const char **inputs = g_api.get_ports(m->client, nullptr, kAudioType,
                                        kIsInput | (by_name ? 0 : kIsPhysical));
  const char *targets[2] = {nullptr, nullptr};
  size_t listed = 0;
  text[0] = 0;
  for (const char **n = inputs; n != nullptr && *n != nullptr; ++n) {
    if (by_name && !dx7::contains_nocase(*n, wanted)) {
      int w = snprintf(text + listed, sizeof text - listed, "%s%s", listed ? ", " : "", *n);
      if (w > 0 && static_cast<size_t>(w) < sizeof text - listed) listed += static_cast<size_t>(w);
      continue;
    }
    if (targets[0] == nullptr) {
      targets[0] = *n;
    } else if (targets[1] == nullptr) {
      targets[1] = *n;
    }
  }
  if (by_name && targets[0] == nullptr) {
    char message[1280];
    snprintf(message, sizeof message,
             "audio.device '%s': no JACK playback port name contains it; have %s", wanted,
             listed ? text : "none");
    dx7::put_error(error, error_bytes, message);
    if (inputs != nullptr) g_api.free(inputs);
    return -1;
  }
  Port *left = g_api.port_register(m->client, "out_1", kAudioType, kIsOutput, 0);
  Port *right = g_api.port_register(m->client, "out_2", kAudioType, kIsOutput, 0);
  if (left == nullptr || right == nullptr) {
    if (left != nullptr) g_api.port_unregister(m->client, left);
    if (right != nullptr) g_api.port_unregister(m->client, right);
    if (inputs != nullptr) g_api.free(inputs);
    dx7::put_error(error, error_bytes, "JACK refused to register the audio ports");
    return -1;
  }
  dx7_audio_set_block_frames(audio, static_cast<int32_t>(g_api.get_buffer_size(m->client)));
  m->audio_ports[0] = left;
  m->audio_ports[1] = right;
  m->xruns_seen = m->xruns.load();  // not read by the callback until audio is published
  m->audio.store(audio, std::memory_order_release);  // silence until dx7_audio_start
  int connected = 0;
  if (targets[0] != nullptr) connected += g_api.connect(m->client, g_api.port_name(left),
                                                        targets[0]) == 0;
  const char *second = targets[1] != nullptr ? targets[1] : targets[0];
  if (second != nullptr) connected += g_api.connect(m->client, g_api.port_name(right),
                                                    second) == 0;
  if (inputs != nullptr) g_api.free(inputs);
  return connected;
}

void dx7_jackmidi_detach_audio(dx7_jackmidi *m) {
  using namespace dx7::jackmidi;
  if (m->audio.exchange(nullptr, std::memory_order_acq_rel) == nullptr) return;
  wait_two_cycles(m);
  if (m->shut_down.load(std::memory_order_acquire)) return;  // the client is gone already
  for (Port *&p : m->audio_ports) {
    g_api.port_unregister(m->client, p);
    p = nullptr;
  }
}

void dx7_jackmidi_stats(dx7_jackmidi *m, int64_t *out, int32_t n) {
  const int64_t values[DX7_JACKMIDI_STAT_COUNT] = {
      m->cycles.load(), m->events.load(), m->dropped.load(), m->sent.load(),
      m->shut_down.load(), static_cast<int64_t>(m->rate), m->rt_state.load(),
      m->rt_priority.load(), m->xruns.load(),
      m->client != nullptr && !m->shut_down.load()
          ? static_cast<int64_t>(dx7::jackmidi::g_api.get_buffer_size(m->client))
          : 0};
  for (int32_t i = 0; i < n && i < DX7_JACKMIDI_STAT_COUNT; ++i) out[i] = values[i];
}

}  // extern "C"
