#!/usr/bin/env bash
# Installs the Debian packages ustack needs, when any are missing.
# Usage: scripts/deps.sh build   what building needs (liblwip-dev: for the lwIP peer of
#                                `ustack bench` and interop test 23; liburing-dev: batched TAP
#                                writes through io_uring; the rest builds without either)
#        scripts/deps.sh fuzz    that, plus clang and libFuzzer (scripts/fuzz.sh)
#        scripts/deps.sh test    all of that, plus the real peers and tools the tests use
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -euo pipefail
build=(cmake ninja-build g++ libfmt-dev libcli11-dev libgtest-dev libgmock-dev nlohmann-json3-dev libpcap-dev liblwip-dev liburing-dev)
test=(iproute2 iputils-ping tcpdump tshark socat netcat-openbsd python3 python3-scapy python3-matplotlib procps curl wrk nmap hping3)
fuzz=(clang libclang-rt-14-dev)
case "${1:-build}" in
  build) want=("${build[@]}") ;;
  fuzz)  want=("${build[@]}" "${fuzz[@]}") ;;
  test)  want=("${build[@]}" "${test[@]}" "${fuzz[@]}") ;;
  *) echo "deps.sh: unknown set '$1' (build, fuzz or test)" >&2; exit 2 ;;
esac
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "ustack needs these Debian packages: ${missing[*]}" >&2
  echo "Install them as root with:  apt-get update && $cmd" >&2
  exit 1
fi
echo "Installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
$cmd -qq >/dev/null
