#!/usr/bin/env bash
# tools/arm64-check.sh - does dx7d install and play on a Raspberry Pi (Linux aarch64)?
#
#   sudo tools/arm64-check.sh [--root-only] [--fresh] [--ref REF]
#
# Run as root on Debian 12 (x86-64). It makes an emulated Debian 12 arm64 system (qemu user
# mode + binfmt, a bookworm root made by mmdebstrap; all three from Debian's packages),
# clones this repository's committed REF (default HEAD) into it and does, as user `pi`
# would on a Pi: ./bootstrap.sh setup (cppyy has no aarch64 wheels, so the compiled loader
# must be chosen), `dx7d render` of factory voice 1 compared byte for byte with the same
# render on this host, and `dx7d run` with the null audio output until its "ready" log
# line, then SIGTERM (exit status 0 expected). Prints each step's time. Not part of CI:
# under emulation it takes long (the root ~10 min, setup and the first compile more).
#
#   --root-only  make (or reuse) the arm64 root and stop
#   --fresh      throw the cached root away first
#   --ref REF    the commit to clone (default HEAD of this work tree)
# Environment: DX7D_ARM64_DIR (default /var/tmp/dx7d-arm64) holds the root and the logs.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
DIR=${DX7D_ARM64_DIR:-/var/tmp/dx7d-arm64}
ROOT=$DIR/root
REF=HEAD
ROOT_ONLY=0
FRESH=0
while [ $# -gt 0 ]; do
    case "$1" in
        --root-only) ROOT_ONLY=1 ;;
        --fresh) FRESH=1 ;;
        --ref) REF=$2; shift ;;
        *) sed -n '2,19p' "$0" >&2; exit 2 ;;
    esac
    shift
done
[ "$(id -u)" -eq 0 ] || { echo "arm64-check: run as root (it mounts and chroots)" >&2; exit 2; }

T_START=$(date +%s)
step_t0=0
step() { step_t0=$(date +%s); printf '\n== %s  (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }
done_step() { printf '== done in %d s: %s\n' "$(( $(date +%s) - step_t0 ))" "$*"; }
fail() { printf 'arm64-check: FAILED: %s\n' "$*" >&2; exit 1; }

mounted=()
cleanup() {
    local m i
    for (( i=${#mounted[@]}-1; i>=0; i-- )); do
        m=${mounted[$i]}
        umount -l "$m" 2>/dev/null || true
    done
}
trap cleanup EXIT

mount_root() {
    local m
    for m in proc sys dev dev/pts; do
        mountpoint -q "$ROOT/$m" && continue
        case "$m" in
            proc) mount -t proc proc "$ROOT/proc" ;;
            sys) mount --rbind /sys "$ROOT/sys" ;;
            dev) mount --rbind /dev "$ROOT/dev" ;;
            dev/pts) mount -t devpts devpts "$ROOT/dev/pts" 2>/dev/null || true ;;
        esac
        mounted+=("$ROOT/$m")
    done
    cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
}

as_pi() {  # run a login shell command as user pi inside the arm64 root
    chroot "$ROOT" /usr/sbin/runuser -l pi -c "$*"
}

# -- 1. the emulator and the root -------------------------------------------------------
step "1. qemu-user-static, binfmt-support, mmdebstrap, arch-test (host packages)"
need=()
for pkg in qemu-user-static binfmt-support mmdebstrap arch-test git; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi
update-binfmts --enable qemu-aarch64 2>/dev/null || true
BINFMT=/proc/sys/fs/binfmt_misc/qemu-aarch64
[ -e "$BINFMT" ] || fail "binfmt for aarch64 is not registered"
if ! grep -q '^flags:.*C' "$BINFMT"; then
    # Debian registers qemu without the C (credentials) flag: setuid programs (sudo, which
    # bootstrap.sh uses as a Pi user does) would then run unprivileged. Re-register the same
    # magic with O C F (open-binary, credentials, fix-binary); undone by update-binfmts.
    magic=$(sed -n 's/^magic //p' "$BINFMT"); mask=$(sed -n 's/^mask //p' "$BINFMT")
    hex() { local s=$1 out=""; while [ -n "$s" ]; do out+="\\x${s:0:2}"; s=${s:2}; done; echo "$out"; }
    echo -1 > "$BINFMT"
    printf ':qemu-aarch64:M::%s:%s:%s:OCF\n' "$(hex "$magic")" "$(hex "$mask")" \
        "$(command -v qemu-aarch64-static)" > /proc/sys/fs/binfmt_misc/register
    echo "re-registered qemu-aarch64 with flags OCF (was without C)"
fi
done_step "host tools"

mkdir -p "$DIR"
if [ "$FRESH" = 1 ] && [ -d "$ROOT" ]; then
    cleanup
    rm -rf "$ROOT"
fi
step "2. Debian 12 arm64 root ($ROOT)"
if [ -f "$ROOT/.dx7d-root-ok" ]; then
    echo "reusing the root made on $(cat "$ROOT/.dx7d-root-ok")"
else
    rm -rf "$ROOT"
    # A Pi OS Lite-like base: the Debian essentials, sudo, git, certificates; everything
    # dx7d needs beyond that must come from bootstrap.sh's apt list (that is the test).
    mmdebstrap --arch=arm64 --variant=minbase \
        --include=ca-certificates,git,sudo,procps,passwd,login bookworm "$ROOT" \
        > "$DIR/mmdebstrap.log" 2>&1 || { tail -n 30 "$DIR/mmdebstrap.log"; fail "mmdebstrap"; }
    chroot "$ROOT" useradd -m -s /bin/bash -G sudo pi
    echo 'pi ALL=(ALL) NOPASSWD: ALL' > "$ROOT/etc/sudoers.d/010_pi-nopasswd"
    chmod 0440 "$ROOT/etc/sudoers.d/010_pi-nopasswd"
    date -u +%FT%TZ > "$ROOT/.dx7d-root-ok"
fi
[ "$(chroot "$ROOT" uname -m)" = aarch64 ] || fail "the root does not run as aarch64"
if compgen -G "/usr/local/share/ca-certificates/*.crt" > /dev/null \
        && ! [ -f "$ROOT/etc/pip.conf" ]; then
    # This host reaches the package registries through local certificate authorities (a
    # TLS-inspecting proxy): the emulated Pi trusts the same ones, for apt and for pip
    # (whose own certificate bundle would not have them).
    cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
    chroot "$ROOT" update-ca-certificates > /dev/null 2>&1
    printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > "$ROOT/etc/pip.conf"
    echo "the root trusts this host's local certificate authorities"
fi
done_step "arm64 root ($(chroot "$ROOT" uname -m), $(du -sh "$ROOT" | cut -f1))"
[ "$ROOT_ONLY" = 1 ] && exit 0

mount_root

# -- 2. the repository, as a Pi user clones it ------------------------------------------
step "3. git clone of $REF"
commit=$(git -C "$REPO" rev-parse "$REF^{commit}")
rm -rf "$ROOT/home/pi/dx7d"
git clone -q --no-checkout "$REPO" "$ROOT/home/pi/dx7d"
git -C "$ROOT/home/pi/dx7d" -c advice.detachedHead=false checkout -q "$commit"
chroot "$ROOT" chown -R pi:pi /home/pi/dx7d
# bootstrap.sh reads ../shared only in tests; the banks are not needed here.
done_step "cloned $commit"

step "4. ./bootstrap.sh setup (as pi, in the arm64 root)"
as_pi 'cd dx7d && ./bootstrap.sh setup' > "$DIR/setup.log" 2>&1 \
    || { tail -n 40 "$DIR/setup.log"; fail "bootstrap.sh setup (log: $DIR/setup.log)"; }
tail -n 5 "$DIR/setup.log"
as_pi 'cd dx7d && .venv/bin/python -c "import importlib.util as u; print(\"cppyy installed:\", u.find_spec(\"cppyy\") is not None, \"dexed installed:\", u.find_spec(\"dexed\") is not None)"'
done_step "setup"

# -- 3. one note, byte for byte ---------------------------------------------------------
RENDER_ARGS=(daemon/factory.syx:1 --note 60 --velocity 100 --hold 1.0 --length 2.0)
step "5. first engine start on arm64 (engine.loader auto: g++ builds it into ~/.cache/dx7d)"
as_pi 'cd dx7d && .venv/bin/python -c "
from dx7d.engine_cpp import Synth, _compiled
s = Synth()
print(\"loader:\", s.loader_summary)
print(\"cache:\", sorted(p.name for p in _compiled.cache_dir().iterdir()))"' \
    || fail "the engine does not build on arm64"
done_step "first engine start (the g++ build)"
step "5b. dx7d render (arm64)"
as_pi "cd dx7d && .venv/bin/dx7d render ${RENDER_ARGS[*]} -o /tmp/arm64.wav" \
    || fail "dx7d render on arm64"
done_step "render"
step "6. dx7d render again (arm64, the compiled engine comes from the cache)"
as_pi "cd dx7d && .venv/bin/dx7d render ${RENDER_ARGS[*]} -o /tmp/arm64-2.wav" \
    || fail "second dx7d render on arm64"
done_step "render (cached engine)"

step "7. the same render on this host, compared byte for byte"
host_dx7d=$REPO/.venv/bin/dx7d
[ -x "$host_dx7d" ] || fail "no host venv at $REPO/.venv (run ./bootstrap.sh setup first)"
git -C "$REPO" diff --quiet "$commit" -- engine_cpp daemon/factory.syx \
    || echo "note: the host work tree's engine differs from $commit"
# The host renders with its own venv and loader (auto: cppyy on x86-64): the same engine
# sources through another compiler on another CPU.
(cd "$REPO" && "$host_dx7d" render "${RENDER_ARGS[@]}" -o "$DIR/host.wav") || fail "dx7d render on the host"
cmp "$DIR/host.wav" "$ROOT/tmp/arm64.wav" || fail "arm64 and host renders differ"
cmp "$ROOT/tmp/arm64.wav" "$ROOT/tmp/arm64-2.wav" || fail "two arm64 renders differ"
echo "identical: $(stat -c %s "$DIR/host.wav") bytes, sha256 $(sha256sum "$DIR/host.wav" | cut -c1-16)"
done_step "byte-for-byte compare"

# -- 4. the daemon ----------------------------------------------------------------------
step "8. dx7d run (null audio) until ready, then SIGTERM"
# The root shares this host's network: a free loopback port, not the default 7970.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$ROOT/home/pi/dx7d-null.yaml" <<EOF
audio:
  backend: "null"
control:
  listen: "127.0.0.1:$port"
zeroconf:
  enabled: false
log:
  level: info
EOF
chroot "$ROOT" chown pi:pi /home/pi/dx7d-null.yaml
rm -f "$ROOT/home/pi/dx7d-run.log"
chroot "$ROOT" /usr/sbin/runuser -l pi -c \
    'cd dx7d && exec .venv/bin/dx7d run --config /home/pi/dx7d-null.yaml > /home/pi/dx7d-run.log 2>&1' &
runner=$!
ready=0
for _ in $(seq 1 1800); do  # 0.5 s polls, 15 min at most under emulation
    if grep -q ' ready: ' "$ROOT/home/pi/dx7d-run.log" 2>/dev/null; then ready=1; break; fi
    kill -0 "$runner" 2>/dev/null || break
    sleep 0.5
done
cat "$ROOT/home/pi/dx7d-run.log"
[ "$ready" = 1 ] || fail "dx7d run did not log ready"
done_step "daemon ready"
step "9. SIGTERM"
pid=$(chroot "$ROOT" pgrep -u pi -f 'bin/dx7d run' | head -n 1)
[ -n "$pid" ] || fail "no dx7d process to stop"
kill -TERM "$pid"
status=0
wait "$runner" || status=$?
tail -n 3 "$ROOT/home/pi/dx7d-run.log"
[ "$status" = 0 ] || fail "dx7d run exited with $status after SIGTERM"
done_step "daemon stopped cleanly"

printf '\narm64-check: PASSED in %d s (commit %s)\n' "$(( $(date +%s) - T_START ))" "$commit"
