/* dx7_jackmidi.h - the daemon's JACK MIDI client (midi.api jack), run from C++.
 *
 * One JACK client with a virtual input port, one more input port per source it listens
 * to, and one output port for dump replies (each optional: "" opens none), and the
 * daemon's audio output ports when a hosted stream is attached (the native backend on
 * JACK: one client, so one JACK thread, for MIDI and audio). Its process callback (JACK's thread) never
 * enters Python: it copies each incoming event's raw bytes, untouched, with its arrival
 * time and its port's slot into a preallocated single-producer single-consumer ring,
 * writes what dx7_jackmidi_send queued onto the output port, and only when it copied
 * something writes one byte to a non-blocking pipe that a Python thread blocks on
 * (dx7_jackmidi_fd). It allocates, locks, logs and waits on nothing.
 *
 * libjack is dlopen'ed (libjack.so.0) on the first open, so the engine builds and loads
 * on a machine without JACK: dx7_jackmidi_open then fails, saying why.
 *
 * Threads: every call but dx7_jackmidi_read comes from one Python thread at a time (the
 * daemon's main thread); dx7_jackmidi_read from the one reader thread. Listed in
 * engine_cpp/_abi.py (open, remove_port and close release the GIL: they wait on JACK).
 */
#ifndef DX7_JACKMIDI_H
#define DX7_JACKMIDI_H

#include <stdint.h>

#include "dx7_audio.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dx7_jackmidi dx7_jackmidi; /* one JACK client, opaque */

#define DX7_JACKMIDI_MAX_PORTS 64   /* input ports (slots), the virtual one included */
#define DX7_JACKMIDI_HEADER 16      /* bytes before each event's data in dx7_jackmidi_read */

/* Indices into dx7_jackmidi_stats' output (int64 each). */
#define DX7_JACKMIDI_STAT_CYCLES 0   /* process callbacks so far */
#define DX7_JACKMIDI_STAT_EVENTS 1   /* input events copied into the ring */
#define DX7_JACKMIDI_STAT_DROPPED 2  /* input events the ring had no room for */
#define DX7_JACKMIDI_STAT_SENT 3     /* output messages written to the output port */
#define DX7_JACKMIDI_STAT_SHUTDOWN 4 /* 1 once the JACK server shut the client down */
#define DX7_JACKMIDI_STAT_RATE 5     /* the server's sample rate, Hz */
#define DX7_JACKMIDI_STAT_RT 6       /* SCHED_FIFO: 0 not yet known, 1 granted, 2 real-time
                                        already, -errno refused (dx7_rt.h) */
#define DX7_JACKMIDI_STAT_RT_PRIORITY 7 /* the JACK thread's real-time priority, 0 if none */
#define DX7_JACKMIDI_STAT_XRUNS 8    /* xruns the server reported to this client */
#define DX7_JACKMIDI_STAT_BUFFER 9   /* the server's period, frames (0 once shut down) */
#define DX7_JACKMIDI_STAT_COUNT 10

/* 1 if libjack.so.0 can be loaded here, else 0. */
int32_t dx7_jackmidi_available(void);

/* Open and activate the client `client_name` (never starting a server) with the input
 * port `in_port` (slot 0) and the output port `out_port`; ring_bytes of input ring.
 * NULL on failure, the reason in error (NUL-terminated). Strings: NUL-terminated UTF-8. */
dx7_jackmidi *dx7_jackmidi_open(const uint8_t *client_name, const uint8_t *in_port,
                                const uint8_t *out_port, int32_t ring_bytes, uint8_t *error,
                                int32_t error_bytes);
/* Release one hold on the client (the opener holds one): the last release deactivates
 * (unless the server shut us down), closes it and frees the handle. A client the server
 * shut down is closed by the first release (the handle stays until the last): release
 * it before opening the next client in this process. */
void dx7_jackmidi_close(dx7_jackmidi *m);
/* One more hold on the client (a hosted audio stream on it): one more close to free it. */
void dx7_jackmidi_retain(dx7_jackmidi *m);
/* Play the hosted stream `audio` (dx7_audio_open_hosted) on this client: refuses a
 * server whose rate is not the stream's, registers the audio output ports out_1 and
 * out_2, sets the stream's block to the server's period, lets the process callback
 * render it (silence until dx7_audio_start) and connects the ports to the playback
 * ports whose name contains `device` (case-insensitive), else (NULL or "") to the
 * physical ones. Returns how many of the two ports it connected, or -1 with the reason
 * in error (nothing changed). One stream per client. */
int32_t dx7_jackmidi_attach_audio(dx7_jackmidi *m, dx7_audio *audio, const uint8_t *device,
                                  uint8_t *error, int32_t error_bytes);
/* Stop rendering the attached stream, wait until the callback let go of it (two cycles,
 * at most 0.5 s) and unregister its ports. Nothing if none is attached. */
void dx7_jackmidi_detach_audio(dx7_jackmidi *m);
/* The pipe's read end: readable when events arrived (or after dx7_jackmidi_wake). */
int32_t dx7_jackmidi_fd(dx7_jackmidi *m);
/* Make the pipe readable (so a reader blocked on it looks at its stop flag). */
void dx7_jackmidi_wake(dx7_jackmidi *m);
/* Register one more input port `port`; returns its slot (1..), -1 if JACK refused or
 * all slots are taken. The callback reads it from then on. */
int32_t dx7_jackmidi_add_port(dx7_jackmidi *m, const uint8_t *port);
/* Connect the source port `source` (full name) to the input port of `slot`: 0 or JACK's
 * error code. */
int32_t dx7_jackmidi_connect(dx7_jackmidi *m, const uint8_t *source, int32_t slot);
/* Stop reading `slot`, wait until the callback let go of it (two cycles, at most 0.5 s)
 * and unregister it. 0, or -1 for a slot not in use. */
int32_t dx7_jackmidi_remove_port(dx7_jackmidi *m, int32_t slot);
/* Every MIDI output port of the JACK graph but those already connected to the virtual
 * input port (heard through it), each name followed by '\n', into out (NUL
 * terminated when it fits); returns the bytes needed (without the NUL), -1 on error. */
int32_t dx7_jackmidi_source_ports(dx7_jackmidi *m, uint8_t *out, int32_t out_bytes);
/* Queue one message for the output port (written at the start of a coming cycle):
 * 1, or 0 if the output queue has no room for it now. */
int32_t dx7_jackmidi_send(dx7_jackmidi *m, const uint8_t *data, int32_t n);
/* Move whole events out of the ring into out (at most out_bytes): each is a header of
 * DX7_JACKMIDI_HEADER bytes (int64 arrival time in CLOCK_MONOTONIC ns, int32 slot,
 * int32 size, native byte order) and `size` data bytes. Returns the bytes written. */
int32_t dx7_jackmidi_read(dx7_jackmidi *m, uint8_t *out, int32_t out_bytes);
/* DX7_JACKMIDI_STAT_* into out (n of them at most). */
void dx7_jackmidi_stats(dx7_jackmidi *m, int64_t *out, int32_t n);

#ifdef __cplusplus
}
#endif

#endif /* DX7_JACKMIDI_H */
