#!/usr/bin/env bash
# Installs what r2s needs on a fresh Debian 12 (bookworm) machine: system packages, then npm deps.
#   - mesa-vulkan-drivers from bookworm-backports (mesa 25: lavapipe, the CPU Vulkan driver Dawn
#     needs; bookworm's own mesa 22 is too old for Dawn)
#   - ffmpeg (video ingest), colmap (optional SfM anchor for benchmarks)
#   - chromium: the viewer tests, and the GPU test projects' second software Vulkan and validation
#     layer — Debian's package ships SwiftShader (/usr/lib/chromium/vk_swiftshader_icd.json) and a
#     current Khronos validation layer (libVkLayer_khronos_validation.so). Debian 12's own
#     vulkan-validationlayers (1.3.239; none in bookworm-backports) is too old for Dawn: it reports
#     the Vulkan 1.3/1.4 structures Dawn uses as errors, so it is not installed.
#   - redis-server (r2s batch --redis / r2s worker, and their tests)
# Safe to re-run: skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
mesa_ok() { dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -qE '^(2[4-9]|[3-9][0-9])\.'; }

if command -v apt-get >/dev/null 2>&1; then
  need=()
  mesa_ok || need+=(mesa)
  for p in libvulkan1 ffmpeg chromium redis-server; do have_pkg "$p" || need+=("$p"); done
  if [ "${R2S_WITH_COLMAP:-0}" = "1" ] && ! have_pkg colmap; then need+=(colmap); fi
  if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing system packages: ${need[*]}"
    if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
      printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        | $SUDO tee /etc/apt/sources.list.d/r2s-backports.sources >/dev/null
    fi
    $SUDO apt-get update -qq
    if [[ " ${need[*]} " == *" mesa "* ]]; then
      $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
    fi
    rest=()
    for p in "${need[@]}"; do [ "$p" != mesa ] && rest+=("$p"); done
    if [ ${#rest[@]} -gt 0 ]; then $SUDO apt-get install -y -qq "${rest[@]}" >/dev/null; fi
  fi
  # what the GPU test projects need from chromium (test/support/gpu-projects.ts)
  for f in /usr/lib/chromium/vk_swiftshader_icd.json /usr/lib/chromium/libvk_swiftshader.so /usr/lib/chromium/libVkLayer_khronos_validation.so; do
    [ -e "$f" ] || echo "setup: $f missing (chromium package changed?): the GPU tests on SwiftShader / under validation will fail" >&2
  done
else
  echo "setup: not a Debian system; install a Vulkan driver, ffmpeg and chromium yourself" >&2
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
