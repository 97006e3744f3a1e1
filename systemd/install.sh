#!/usr/bin/env bash
# Install dx7d as a systemd service (Raspberry Pi OS, Debian 12, any systemd machine).
#
#   sudo systemd/install.sh [--no-start] [CHECKOUT]
#   systemd/install.sh --print-unit [CHECKOUT]    print the rendered unit, change nothing
#
# CHECKOUT is the dx7d clone whose .venv the service runs (default: the repository
# holding this script); run ./bootstrap.sh setup in it first. The script creates the
# system user dx7d (no login, home /var/lib/dx7d, group audio), /var/lib/dx7d,
# /var/cache/dx7d and /etc/dx7d, copies config/default.yaml to /etc/dx7d/config.yaml if
# that file is absent, builds cppyy's precompiled header, renders dx7d.service into
# /etc/systemd/system and enables and (re)starts it. Safe to run again, e.g. after an
# update. Re-runs itself with sudo when not root. systemd/README.md explains the unit.
set -euo pipefail

SERVICE=dx7d
UNIT_DEST=/etc/systemd/system/$SERVICE.service
CONFIG_DIR=/etc/dx7d
STATE_DIR=/var/lib/dx7d
CACHE_DIR=/var/cache/dx7d
PCH=$CACHE_DIR/allDict.cxx.pch  # the unit's CLING_STANDARD_PCH
# Characters allowed in the checkout path: the path goes unquoted into the unit.
SAFE_PATH='^/[A-Za-z0-9._/+-]*$'

script=$(readlink -f "$0")
script_dir=$(dirname "$script")

say() { printf 'dx7d install: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

print_only=0
start=1
checkout=
for arg in "$@"; do
    case "$arg" in
        --print-unit) print_only=1 ;;
        --no-start) start=0 ;;
        -h|--help) sed -n '2,13p' "$script" >&2; exit 0 ;;
        -*) die "unknown option $arg (see --help)" ;;
        *) [ -z "$checkout" ] || die "one checkout only"; checkout=$arg ;;
    esac
done
checkout=$(readlink -f "${checkout:-$script_dir/..}")
venv=$checkout/.venv

# A path that ProtectHome=tmpfs hides unless it is bound into the service's view.
under_home() { case "$1/" in /home/*|/root/*|/run/user/*) return 0 ;; *) return 1 ;; esac; }

check_checkout() {
    [[ $checkout =~ $SAFE_PATH ]] \
        || die "checkout path '$checkout' has characters a unit file cannot take unquoted; move it (e.g. to /opt/dx7d)"
    [ -x "$venv/bin/dx7d" ] \
        || die "$venv/bin/dx7d not found: run ./bootstrap.sh setup in $checkout first"
    [ -f "$checkout/systemd/$SERVICE.service" ] || die "$checkout is not a dx7d checkout"
}

python_prefix() {  # the interpreter installation the venv was made from
    "$venv/bin/python" -c 'import os, sys; print(os.path.realpath(sys.base_prefix))'
}

bind_paths() {  # what BindReadOnlyPaths= must make visible: the checkout, maybe the interpreter
    local prefix
    prefix=$(python_prefix)
    [[ $prefix =~ $SAFE_PATH ]] || die "Python prefix '$prefix' has characters a unit file cannot take"
    if under_home "$prefix" && [ "${prefix#"$checkout"/}" = "$prefix" ]; then
        printf '%s %s\n' "$checkout" "$prefix"
    else
        printf '%s\n' "$checkout"
    fi
}

render_unit() {
    local binds protect_home=yes path
    binds=$(bind_paths)
    for path in $binds; do
        under_home "$path" && protect_home=tmpfs  # an empty /home, with the binds in it
    done
    sed -e "s|^BindReadOnlyPaths=.*|BindReadOnlyPaths=$binds|" \
        -e "s|^ProtectHome=.*|ProtectHome=$protect_home|" \
        -e "/^#/!s|/opt/dx7d|$checkout|g" "$checkout/systemd/$SERVICE.service"
}

# The service user reads through "other" permissions. Paths under a home are bound into
# an empty /home, so only the path itself counts there; elsewhere its parents count too.
check_reachable() {  # $1: a directory the service must reach
    local dir
    under_home "$1" && return 0
    dir=$(dirname "$1")
    while [ "$dir" != / ]; do
        [ "$(( $(stat -c '%#a' "$dir") & 5 ))" -eq 5 ] \
            || die "$dir is not readable by other users (mode $(stat -c %a "$dir")), so the service user $SERVICE cannot reach $1. Fix: chmod o+rx $dir"
        dir=$(dirname "$dir")
    done
}

check_readable() {  # $@: trees the service reads
    local bad
    bad=$(find "$@" \( -type d ! -perm -o=rx -print \) -o \
        \( ! -type d ! -type l ! -perm -o=r -print \) | head -n 5)
    [ -z "$bad" ] || die "the service user $SERVICE cannot read these (and maybe more):
$bad
Fix: chmod -R o+rX $*   (or clone to /opt/dx7d: see systemd/README.md)"
}

check_permissions() {
    local prefix pkg trees=("$venv")
    prefix=$(python_prefix)
    check_reachable "$checkout"
    [ "$(( $(stat -c '%#a' "$checkout") & 5 ))" -eq 5 ] \
        || die "$checkout is not readable by other users, so the service user $SERVICE cannot read it. Fix: chmod o+rx $checkout"
    for pkg in daemon voices engine_cpp config; do
        [ -d "$checkout/$pkg" ] && trees+=("$checkout/$pkg")
    done
    case "$prefix/" in
        /usr/*) ;;  # the system's Python: readable by everyone
        *) check_reachable "$prefix"; trees+=("$prefix") ;;
    esac
    check_readable "${trees[@]}"
}

if [ "$print_only" -eq 1 ]; then
    check_checkout
    render_unit
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "run as root (sudo is not installed)"
    say "not root: re-running with sudo"
    exec sudo -- "$script" "$@"
fi

check_checkout
check_permissions

getent group audio >/dev/null || groupadd --system audio
if id -u "$SERVICE" >/dev/null 2>&1; then
    usermod --append --groups audio "$SERVICE"
else
    say "creating system user $SERVICE (no login, home $STATE_DIR, group audio)"
    useradd --system --user-group --groups audio --home-dir "$STATE_DIR" --no-create-home \
        --shell /usr/sbin/nologin --comment "dx7d sound module" "$SERVICE"
fi

install -d -o "$SERVICE" -g "$SERVICE" -m 0750 "$STATE_DIR" "$CACHE_DIR"
install -d -o root -g root -m 0755 "$CONFIG_DIR"
if [ ! -e "$CONFIG_DIR/config.yaml" ]; then
    say "writing $CONFIG_DIR/config.yaml from config/default.yaml"
    install -o root -g "$SERVICE" -m 0640 "$checkout/config/default.yaml" "$CONFIG_DIR/config.yaml"
else
    say "keeping the existing $CONFIG_DIR/config.yaml"
fi

# cppyy needs a precompiled header of the C++ standard library. The service sees its
# .venv read-only, so the unit points CLING_STANDARD_PCH into its cache directory;
# building it here spares the first start a minute (and it is rebuilt if missing).
say "preparing cppyy's precompiled header in $CACHE_DIR (a minute or two on a Pi)"
# No bytecode: root must not leave root-owned __pycache__ folders in the user's checkout.
env -i PATH=/usr/bin:/bin HOME="$CACHE_DIR" PYTHONDONTWRITEBYTECODE=1 CLING_STANDARD_PCH="$PCH" \
    "$venv/bin/python" -c '
import os, sys
import cppyy
pch = os.environ["CLING_STANDARD_PCH"]
sys.exit(0 if os.path.isfile(pch) else f"cppyy built no precompiled header at {pch}")
' || die "cppyy could not build its precompiled header (see above)"
chown -R "$SERVICE:$SERVICE" "$CACHE_DIR"

unit_tmp=$(mktemp)
trap 'rm -f "$unit_tmp"' EXIT
render_unit > "$unit_tmp"
install -o root -g root -m 0644 "$unit_tmp" "$UNIT_DEST"
say "installed $UNIT_DEST (ExecStart=$venv/bin/dx7d, bound read-only: $(bind_paths))"
if command -v systemd-analyze >/dev/null; then
    # A warning, not a stop: verify also loads the units this one names, and a complaint
    # about one of those must not block the install; a truly bad unit fails to start below.
    systemd-analyze verify "$UNIT_DEST" \
        || say "warning: systemd-analyze verify complains about $UNIT_DEST (above)"
fi

if [ ! -d /run/systemd/system ]; then
    systemctl enable "$SERVICE.service"
    say "systemd is not running here: the service is enabled and will start at boot"
    exit 0
fi
systemctl daemon-reload
systemctl enable "$SERVICE.service"
if [ "$start" -eq 0 ]; then
    say "enabled, not started (--no-start): sudo systemctl start $SERVICE"
    exit 0
fi
say "starting $SERVICE (waits for READY=1: the engine compiles, audio and MIDI open)"
if ! systemctl restart "$SERVICE.service"; then
    journalctl --unit "$SERVICE.service" --lines 30 --no-pager >&2 || true
    die "$SERVICE did not start; the log is above (systemctl status $SERVICE)"
fi
systemctl --no-pager status "$SERVICE.service" | head -n 5 >&2 || true
say "done: dx7d is running and starts at boot. Logs: journalctl -u $SERVICE -f"
