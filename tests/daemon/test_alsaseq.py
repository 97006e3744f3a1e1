"""Sources wired by hand to dx7d-in:dx7d on ALSA, read from the kernel's sequencer
listing (/proc/asound/seq/clients), are not connected a second time."""

from __future__ import annotations

from pathlib import Path

from dx7d.daemon._alsaseq import address_of, not_wired_to, senders_to

# The layout of /proc/asound/seq/clients: a keyboard (20:0) wired by hand with aconnect
# to the daemon's virtual port (128:0), a second keyboard (24:0) connected by the
# daemon through a port of its own (client 131), and a sequencer sending to both.
LISTING = """Client info
  cur  clients : 6
  peak clients : 6
  max  clients : 192

Client   0 : "System" [Kernel]
  Port   0 : "Timer" (Rwe-)
  Port   1 : "Announce" (R-e-)
    Connecting To: 128:0, 131:0
Client  14 : "Midi Through" [Kernel]
  Port   0 : "Midi Through Port-0" (RWe-)
Client  20 : "Keystation 49" [Kernel]
  Port   0 : "Keystation 49 MIDI 1" (RWeX)
    Connecting To: 128:0
Client  24 : "KeyLab 61" [Kernel]
  Port   0 : "KeyLab 61 MIDI" (RWeX)
    Connecting To: 131:0
Client 128 : "dx7d-in" [User Legacy]
  Port   0 : "dx7d" (-We-)
    Connected From: 20:0, 129:1[real:0]
Client 129 : "seq64" [User Legacy]
  Port   0 : "dx7d" (RWe-)
    Connected From: 24:0
  Port   1 : "out" (R-e-)
    Connecting To: 128:0[real:0]
Client 131 : "dx7d-from" [User Legacy]
  Port   0 : "dx7d" (-We-)
    Connected From: 24:0
"""

PORTS = ["Midi Through:Midi Through Port-0 14:0", "Keystation 49:Keystation 49 MIDI 1 20:0",
         "KeyLab 61:KeyLab 61 MIDI 24:0", "seq64:out 129:1"]


def test_the_senders_to_our_port_are_read_from_the_listing() -> None:
    assert senders_to("dx7d-in", "dx7d", LISTING) == {(20, 0), (129, 1)}
    # a port of the same name in another client is not ours
    assert senders_to("seq64", "dx7d", LISTING) == {(24, 0)}
    assert senders_to("dx7d-in", "other", LISTING) == set()
    assert senders_to("dx7d-in", "dx7d", "") == set()


def test_rtmidi_port_names_end_in_their_address() -> None:
    assert address_of("Keystation 49:Keystation 49 MIDI 1 20:0") == (20, 0)
    assert address_of("seq64:out 129:1") == (129, 1)
    assert address_of("no address here") is None


def test_hand_wired_sources_are_left_out_and_an_unreadable_listing_leaves_all(
        tmp_path: Path) -> None:
    listing = tmp_path / "clients"
    listing.write_text(LISTING)
    assert not_wired_to(PORTS, "dx7d-in", "dx7d", listing) == [
        "Midi Through:Midi Through Port-0 14:0", "KeyLab 61:KeyLab 61 MIDI 24:0"]
    assert not_wired_to(PORTS, "dx7d-in", "dx7d", tmp_path / "missing") == PORTS
