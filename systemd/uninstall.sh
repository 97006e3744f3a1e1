#!/usr/bin/env bash
# Remove the dx7d systemd service that systemd/install.sh set up.
#
#   sudo systemd/uninstall.sh           stop, disable and remove the unit and the cache
#   sudo systemd/uninstall.sh --purge   also delete /var/lib/dx7d (your cartridges!),
#                                       /etc/dx7d and the dx7d user
#
# Without --purge the saved voices and cartridges in /var/lib/dx7d, the configuration
# in /etc/dx7d and the dx7d user stay, so installing again picks up where you were.
# Safe to run again. Re-runs itself with sudo when not root.
set -euo pipefail

SERVICE=dx7d
UNIT_DEST=/etc/systemd/system/$SERVICE.service
CONFIG_DIR=/etc/dx7d
STATE_DIR=/var/lib/dx7d
CACHE_DIR=/var/cache/dx7d
RUNTIME_DIR=/run/dx7d

script=$(readlink -f "$0")
say() { printf 'dx7d uninstall: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

purge=0
for arg in "$@"; do
    case "$arg" in
        --purge) purge=1 ;;
        -h|--help) sed -n '2,10p' "$script" >&2; exit 0 ;;
        *) die "unknown argument $arg (see --help)" ;;
    esac
done

if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "run as root (sudo is not installed)"
    say "not root: re-running with sudo"
    exec sudo -- "$script" "$@"
fi

running_systemd=0
[ -d /run/systemd/system ] && running_systemd=1

if [ "$running_systemd" -eq 1 ] && systemctl cat "$SERVICE.service" >/dev/null 2>&1; then
    say "stopping and disabling $SERVICE"
    systemctl disable --now "$SERVICE.service" || true
elif [ -e "$UNIT_DEST" ]; then
    systemctl disable "$SERVICE.service" 2>/dev/null || true
fi
if [ -e "$UNIT_DEST" ]; then
    rm -f "$UNIT_DEST"
    say "removed $UNIT_DEST"
fi
rm -f "/etc/systemd/system/multi-user.target.wants/$SERVICE.service"
if [ "$running_systemd" -eq 1 ]; then
    systemctl daemon-reload
    systemctl reset-failed "$SERVICE.service" 2>/dev/null || true
fi
rm -rf "$CACHE_DIR" "$RUNTIME_DIR"  # cppyy's precompiled header and bytecode: rebuilt on start

if [ "$purge" -eq 0 ]; then
    for kept in "$STATE_DIR" "$CONFIG_DIR"; do
        [ -e "$kept" ] && say "kept $kept (--purge deletes it)"
    done
    exit 0
fi

rm -rf "$STATE_DIR" "$CONFIG_DIR"
say "deleted $STATE_DIR and $CONFIG_DIR"
if id -u "$SERVICE" >/dev/null 2>&1; then
    userdel "$SERVICE"
    say "deleted user $SERVICE"
fi
if getent group "$SERVICE" >/dev/null; then
    groupdel "$SERVICE"
fi
say "done"
