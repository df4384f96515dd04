#!/usr/bin/env bash
# dsrlb set-up, run by `npm test` and `npm run demo` before anything else.
# Installs, only when missing, the Debian packages dsrlb needs and then the npm dependencies
# (`npm ci`, which builds the libpcap binding). Says what it does; does nothing when all is there.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Debian packages: what they are for.
#   libpcap-dev g++ make python3  build the `cap` native binding (npm ci)
#   iproute2 nftables arptables ethtool  the testbed, the director's ingress drop, offload checks
#   curl apache2-utils openssl tcpdump   demo/tests: HTTP(S) clients, ab, certificates, captures
#   netsniff-ng                           npm run bench: trafgen, the UDP flood generator
#   iputils-ping procps                   reachability checks in the tests, sysctl
PKGS=(libpcap-dev g++ make python3 iproute2 nftables arptables ethtool curl apache2-utils openssl tcpdump iputils-ping procps netsniff-ng)

# `setup.sh test` also installs what only the test suite needs:
#   chromium                              renders `dsrlb explain --html` pages headless (test/teach)
#   ldirectord                            test/ipvsadm: Debian's ldirectord drives dsrlb through `dsrlb ipvsadm`
#   bird2                                 dsrlb run --bgp and the ECMP testbed: BIRD announces the VIP (test/bgp)
if [ "${1:-}" = test ]; then
  PKGS+=(chromium ldirectord bird2)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "[setup] missing Debian packages: ${missing[*]} — run as root, or: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "[setup] installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The ldirectord package enables a service (with a dummy config); the tests run their own.
  if [[ " ${missing[*]} " == *" ldirectord "* ]] && command -v systemctl >/dev/null; then
    systemctl disable --now ldirectord.service >/dev/null 2>&1 || true
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
   || [ ! -f node_modules/cap/build/Release/cap.node ]; then
  echo "[setup] installing npm dependencies (npm ci; builds the libpcap binding)"
  npm ci --no-audit --no-fund --loglevel=error
fi
