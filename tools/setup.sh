#!/usr/bin/env bash
# One-command set-up for stepsim on Debian bookworm (run as root, or with sudo available).
#   tools/setup.sh          install what is missing, build Release into build/, run the default scenario
#   tools/setup.sh test     same set-up, then run the whole test suite through ctest
# Idempotent: apt runs only when a package is missing; the build is incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-run}"
case "$mode" in run|test|build) ;; *) echo "usage: tools/setup.sh [run|test|build]" >&2; exit 2 ;; esac

packages=(build-essential cmake ninja-build pkg-config libsimgrid-dev libboost-graph-dev nlohmann-json3-dev
          catch2 libfmt-dev libcli11-dev zlib1g-dev python3)
# The browser test of `stepsim compare --html` (tests/compare_html_browser.sh) needs headless Chromium.
[ "$mode" = test ] && packages+=(chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "stepsim setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build --parallel "$(nproc)"

case "$mode" in
  run) exec build/stepsim run ;;
  test) cd build && exec ctest --output-on-failure --parallel "$(nproc)" ;;
  build) ;;
esac
