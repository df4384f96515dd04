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
#   systemd                               test/service: systemd-analyze verify/security on the shipped units
#   keepalived                            test/vrrp: VRRP interop with a real keepalived 2.2 peer
#   bird2                                 dsrlb run --bgp and the ECMP testbed: BIRD announces the VIP (test/bgp)
if [ "${1:-}" = test ]; then
  PKGS+=(chromium ldirectord systemd keepalived bird2)
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
  # Likewise keepalived: the tests start their own, in namespaces.
  if [[ " ${missing[*]} " == *" keepalived "* ]] && command -v systemctl >/dev/null; then
    systemctl disable --now keepalived.service >/dev/null 2>&1 || true
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
   || [ ! -f node_modules/cap/build/Release/cap.node ]; then
  echo "[setup] installing npm dependencies (npm ci; builds the libpcap binding)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The sd_notify addon (src/sdnotify/, a few lines of C with Node-API): how `dsrlb run`/`dsrlb ha`
# tell systemd they are ready (Type=notify). `npm ci` builds it (the package's install script);
# this builds it in a checkout whose node_modules were already there.
if [ ! -f src/sdnotify/build/Release/sd_notify.node ]; then
  echo "[setup] building the sd_notify addon (node-gyp, src/sdnotify)"
  npm run --silent install >/dev/null
fi

# The packet-ring addon (src/native/ring: dsrlb's own C++, Node-API) is built from source with
# node-gyp against this Node's headers, like `cap` above; rebuilt when its sources change.
RING=src/native/ring
if [ ! -f $RING/build/Release/dsrlb_ring.node ] || [ $RING/ring.cc -nt $RING/build/Release/dsrlb_ring.node ] \
   || [ $RING/binding.gyp -nt $RING/build/Release/dsrlb_ring.node ]; then
  echo "[setup] building the packet-ring addon ($RING)"
  npm run --silent build:native >/dev/null
fi

# bench/cref/cref: the C reference forwarder of `npm run bench` (bench/cref/cref.c: AF_PACKET rings,
# the DR rewrite, no JavaScript), built from source with gcc (installed with g++ above); rebuilt
# only when the source is newer than the binary.
if [ ! -x bench/cref/cref ] || [ bench/cref/cref.c -nt bench/cref/cref ]; then
  echo "[setup] building bench/cref/cref (the benchmark's C reference forwarder): gcc -O2 -Wall -o bench/cref/cref bench/cref/cref.c"
  gcc -O2 -Wall -o bench/cref/cref bench/cref/cref.c
fi
