#!/usr/bin/env bash
# Install the Debian/Ubuntu packages arraysim needs; do nothing when all are
# present.  Usage: deps.sh install | auto | list
set -euo pipefail

PKGS=(
  build-essential pkg-config make git
  clang-14 libclang-rt-14-dev clang-format
  libisal-dev libssl-dev libcmocka-dev liburing-dev libinih-dev libjson-c-dev
  gcc-mingw-w64-x86-64
  libiscsi-bin libiscsi-dev qemu-utils qemu-block-extra tgt
  libvirt-daemon libvirt-clients libvirt-daemon-driver-qemu
  libvirt-daemon-driver-storage-iscsi-direct
  wine wine64 msitools wixl libxml2-utils jq
  qemu-system-x86 linux-image-amd64 busybox-static open-iscsi cpio kmod
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# check-lab's PowerShell grammar comes from npm; this machine kind ships
# Node.js, a plain Debian/Ubuntu gets Debian's nodejs + npm
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

case "${1:-install}" in
  list) printf '%s\n' "${PKGS[@]}"; exit 0 ;;
esac

if [ ${#missing[@]} -eq 0 ]; then
  [ "${1:-install}" = install ] && echo "deps: all ${#PKGS[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
