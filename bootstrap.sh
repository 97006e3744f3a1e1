#!/usr/bin/env bash
# dx7d set-up and entry point for a fresh Debian 12 / Raspberry Pi OS machine.
#
#   ./bootstrap.sh run [dx7d run options]   set up, then start the daemon (default config)
#   ./bootstrap.sh test [pytest options]    set up, then run every check and test
#   ./bootstrap.sh setup [--with-cppyy]     set up only (--with-cppyy: build cppyy from
#                                           source where it has no wheel, e.g. a Pi; hours)
#   ./bootstrap.sh install-service          set up, then install and start the systemd service
#   ./bootstrap.sh uninstall-service [--purge]  stop and remove it (--purge: data and config too)
#
# Idempotent: installs only the apt packages that are missing (with sudo when not
# root), creates .venv once, and reinstalls the project into it only when
# pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

RUNTIME_APT=(python3 python3-venv python3-dev g++ portaudio19-dev libasound2-dev libjack-jackd2-dev)
# build-essential (make, g++, libc headers): the compiled engine loader, and the pip
# builds of pyaudio (and of cppyy with --with-cppyy) where there is no wheel (aarch64).
RUNTIME_APT+=(build-essential)
# jackd2: the end-to-end tests run a private JACK server (dummy backend);
# iproute2 and util-linux: the discovery test runs inside its own network namespace;
# systemd (systemd-analyze) and shellcheck: the unit and install scripts are checked.
TEST_APT=(jackd2 iproute2 util-linux systemd shellcheck)

say() { printf 'bootstrap: %s\n' "$*" >&2; }

apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    say "installing apt packages: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

venv_install() {  # $1: the extras to install, e.g. "[test]" or ""
    local extras=$1 stamp=.venv/.dx7d-installed want
    if [ ! -x .venv/bin/python ]; then
        say "creating the virtual environment .venv"
        python3 -m venv .venv
    fi
    want="$(sha256sum pyproject.toml | cut -d' ' -f1) $extras"
    # An installed [test] set also serves a plain run.
    if [ -f "$stamp" ] && { [ "$(cat "$stamp")" = "$want" ] || { [ -z "$extras" ] && grep -q "$(cut -d' ' -f1 <<<"$want") \[test\]" "$stamp"; }; }; then
        return 0
    fi
    say "installing dx7d$extras into .venv"
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extras"
    printf '%s\n' "$want" > "$stamp"
}

# One consistent cppyy set (cppyy 3.5.0's own pins): cppyy-backend is built against the
# cppyy-cling installed just before it, so Cling is built once, not twice.
CPPYY_PINS=(cppyy-cling==6.32.8 cppyy-backend==1.15.3 CPyCppyy==1.13.0 cppyy==3.5.0)

with_cppyy() {
    if .venv/bin/python -c 'import cppyy' 2>/dev/null; then
        say "cppyy is installed already"
        return 0
    fi
    say "--with-cppyy: building Cling (LLVM + Clang, ~3,100 objects) from source, once." \
        "Expect roughly 4-8 hours on a Raspberry Pi 4 and 2-4 on a Pi 5 (estimates), ~2 GB" \
        "of memory per compile job (MAKE_NPROCS=${MAKE_NPROCS:-2}) and up to ~4 GB for the" \
        "final links: give a 4 GB Pi swap first. Without it dx7d uses the compiled loader."
    # cmake < 4: cppyy-cling 6.32's CMakeLists is refused by cmake 4. Installed into
    # .venv and used without pip's build isolation (which would fetch cmake 4).
    .venv/bin/python -m pip install -q "cmake<4" setuptools wheel
    local pin
    for pin in "${CPPYY_PINS[@]}"; do
        say "building $pin"
        PATH="$PWD/.venv/bin:$PATH" MAKE_NPROCS=${MAKE_NPROCS:-2} CMAKE_BUILD_TYPE=Release \
            .venv/bin/python -m pip install --no-build-isolation --verbose "$pin"
    done
    .venv/bin/python -c 'import cppyy' && say "cppyy built: engine.loader auto now uses it"
}

typecheck() {
    # mypy reads the packages under their installed names (dx7d.<folder>) through
    # a tree of links, so cross-package imports are checked too.
    local tree=.venv/typecheck/dx7d
    mkdir -p "$tree"
    for pkg in daemon voices engine_cpp config; do
        ln -sfn "$PWD/$pkg" "$tree/$pkg"
    done
    MYPYPATH=.venv/typecheck .venv/bin/mypy -p dx7d.daemon -p dx7d.voices -p dx7d.engine_cpp -p dx7d.config
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
    setup)
        apt_install "${RUNTIME_APT[@]}" "${TEST_APT[@]}"
        venv_install "[test]"
        if [ "${1:-}" = --with-cppyy ]; then
            with_cppyy
        fi
        ;;
    run)
        apt_install "${RUNTIME_APT[@]}"
        venv_install ""
        exec .venv/bin/dx7d run "$@"
        ;;
    test)
        apt_install "${RUNTIME_APT[@]}" "${TEST_APT[@]}"
        venv_install "[test]"
        say "ruff"
        .venv/bin/ruff check .
        say "mypy"
        typecheck
        say "pytest"
        exec .venv/bin/python -m pytest "$@"
        ;;
    install-service)
        apt_install "${RUNTIME_APT[@]}"
        venv_install ""
        exec systemd/install.sh "$PWD" "$@"
        ;;
    uninstall-service)
        exec systemd/uninstall.sh "$@"
        ;;
    *)
        sed -n '2,15p' "$0" >&2
        exit 2
        ;;
esac
