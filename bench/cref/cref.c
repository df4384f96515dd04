/*
 * cref: the C reference forwarder of the dsrlb benchmark.
 *
 * It does for each inbound frame of a virtual service what dsrlb's packet path does in DR mode,
 * without JavaScript, on the same kernel interface as dsrlb's ring backend, so that the benchmark
 * can show how close dsrlb is to the userspace limit of the machine it runs on:
 *
 *   RX  one AF_PACKET socket, TPACKET_V2 RX ring (PACKET_RX_RING), a classic BPF filter for the
 *       services (IPv4, VIP, protocol, first fragment, destination port), inbound frames only
 *       (PACKET_IGNORE_OUTGOING, and sll_pkttype checked); poll() once per wake-up, then every
 *       ready slot is walked and released;
 *   DR  destination MAC = the chosen real's (a hash of the 5-tuple, so a flow stays on one real),
 *       source MAC = the director's, IPv4 TTL - 1 with the RFC 1624 incremental checksum update;
 *       TCP/UDP bytes untouched; TTL <= 1 is dropped (counted);
 *   TX  the same socket's TPACKET_V2 TX ring (PACKET_TX_RING): each forwarded frame is copied
 *       into a TX slot and one send() per RX batch hands them all to the kernel; optionally
 *       PACKET_QDISC_BYPASS;
 *   busy polling (optional): after a batch, keep reading the ring for up to N us before poll().
 *
 * Counters: frames seen / forwarded / ignored / TTL-expired / TX ring full / send errors, wake-ups
 * (poll returns), batches, send() calls, busy-poll hits, PACKET_STATISTICS (accumulated: the kernel
 * resets them on every read), the residence (kernel RX timestamp to after send()) as a histogram,
 * and the process CPU (getrusage). They are printed as one JSON line prefixed "cref-stats " at
 * exit (SIGTERM, SIGINT) and on SIGUSR1. "cref-ready ..." is printed once the socket is bound.
 *
 * Build: gcc -O2 -Wall -o cref cref.c   (src/cli/setup.sh does it).  Needs CAP_NET_RAW.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef PACKET_QDISC_BYPASS
#define PACKET_QDISC_BYPASS 20
#endif
#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define MAX_SERVICES 16
#define MAX_REALS 64
#define FRAME_SIZE 2048u
#define MAX_FRAME (FRAME_SIZE - TPACKET_ALIGN(sizeof(struct tpacket2_hdr)) - 64u)
#define NBUCKETS 15

struct service { uint32_t vip; uint16_t port; uint8_t proto; };

static struct service services[MAX_SERVICES];
static int nservices;
static uint8_t reals[MAX_REALS][6];
static int nreals;
static uint8_t self_mac[6];
static int have_self_mac;
static const char *iface;
static int qdisc_bypass;
static long busy_poll_us;
static unsigned ring_frames = 4096;
static unsigned tx_frames = 1024;

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t dump_flag;

static struct {
  uint64_t seen, forwarded, ignored, ttl_expired, tx_full, send_errors, wakeups, batches, sends, busy_hits, max_batch;
  uint64_t k_packets, k_drops;
  uint64_t res_count;
  double res_sum;
  uint64_t res_bucket[NBUCKETS + 1]; /* non-cumulative; the last one is +Inf */
} st;

/* Upper bounds of the residence buckets, seconds: the same as dsrlb's (src/obs/histogram.ts), so
   that the quantiles of both are interpolated over the same buckets. */
static const double bucket_le[NBUCKETS] = {1e-6, 2e-6, 5e-6, 10e-6, 20e-6, 50e-6, 100e-6, 200e-6, 500e-6,
                                           1e-3, 2e-3, 5e-3, 10e-3, 100e-3, 1};

static void die(const char *what) {
  fprintf(stderr, "cref: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void usage(void) {
  fprintf(stderr,
          "usage: cref --iface IF --service VIP:PORT/tcp|udp [--service ...] --real MAC [--real MAC ...]\n"
          "            [--mac DIRECTOR_MAC] [--qdisc-bypass] [--busy-poll-us N] [--ring-frames N]\n"
          "  Forwards inbound frames of the services to the reals (DR: MACs, TTL - 1), per-flow hash.\n"
          "  Prints 'cref-ready ...' once bound, 'cref-stats {json}' on SIGUSR1 and at exit (SIGTERM/SIGINT).\n");
  exit(2);
}

static int parse_mac(const char *s, uint8_t out[6]) {
  unsigned b[6];
  char tail;
  if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6) return -1;
  for (int i = 0; i < 6; i++) out[i] = (uint8_t)b[i];
  return 0;
}

static int parse_service(const char *s, struct service *sv) {
  char ip[64], proto[8];
  unsigned port;
  struct in_addr a;
  if (sscanf(s, "%63[0-9.]:%u/%7s", ip, &port, proto) != 3 || port == 0 || port > 65535) return -1;
  if (inet_pton(AF_INET, ip, &a) != 1) return -1;
  sv->vip = a.s_addr; /* network order */
  sv->port = (uint16_t)port;
  if (strcmp(proto, "tcp") == 0) sv->proto = 6;
  else if (strcmp(proto, "udp") == 0) sv->proto = 17;
  else return -1;
  return 0;
}

/* Classic BPF: IPv4, then for each service: daddr, protocol, not a later fragment, dport. */
static int build_filter(struct sock_filter *f, int max) {
  int n = 0;
#define EMIT(c, t, ff, k) do { if (n >= max) return -1; f[n++] = (struct sock_filter)BPF_JUMP(c, k, t, ff); } while (0)
  /* Jumps are patched: the jt/jf values 0xff mean "to reject", 0xfe "to the next service". */
  EMIT(BPF_LD | BPF_H | BPF_ABS, 0, 0, 12);
  EMIT(BPF_JMP | BPF_JEQ | BPF_K, 0, 0xff, ETH_P_IP);
  for (int i = 0; i < nservices; i++) {
    EMIT(BPF_LD | BPF_W | BPF_ABS, 0, 0, 30);
    EMIT(BPF_JMP | BPF_JEQ | BPF_K, 0, 0xfe, ntohl(services[i].vip));
    EMIT(BPF_LD | BPF_B | BPF_ABS, 0, 0, 23);
    EMIT(BPF_JMP | BPF_JEQ | BPF_K, 0, 0xfe, services[i].proto);
    EMIT(BPF_LD | BPF_H | BPF_ABS, 0, 0, 20);
    EMIT(BPF_JMP | BPF_JSET | BPF_K, 0xfe, 0, 0x1fff);
    EMIT(BPF_LDX | BPF_B | BPF_MSH, 0, 0, 14);
    EMIT(BPF_LD | BPF_H | BPF_IND, 0, 0, 16);
    EMIT(BPF_JMP | BPF_JEQ | BPF_K, 0xfd, 0xfe, services[i].port);
    /* 0xfe of this service's instructions: to the first instruction after them. */
    int end = n;
    for (int j = end - 9; j < end; j++) {
      if (f[j].jt == 0xfe) f[j].jt = (uint8_t)(end - j - 1);
      if (f[j].jf == 0xfe) f[j].jf = (uint8_t)(end - j - 1);
    }
  }
  EMIT(BPF_RET | BPF_K, 0, 0, 0);           /* reject */
  EMIT(BPF_RET | BPF_K, 0, 0, 0x40000);     /* accept */
  int reject = n - 2, accept = n - 1;
  for (int j = 0; j < n; j++) {
    if (BPF_CLASS(f[j].code) != BPF_JMP) continue;
    if (f[j].jt == 0xff) f[j].jt = (uint8_t)(reject - j - 1);
    if (f[j].jf == 0xff) f[j].jf = (uint8_t)(reject - j - 1);
    if (f[j].jt == 0xfd) f[j].jt = (uint8_t)(accept - j - 1);
    if (f[j].jf == 0xfd) f[j].jf = (uint8_t)(accept - j - 1);
  }
#undef EMIT
  return n;
}

/* RFC 1624: HC' = ~(~HC + ~m + m'), on the 16-bit word holding TTL (high byte) and protocol. */
static void decrement_ttl(uint8_t *ip) {
  uint16_t old_word = (uint16_t)((ip[8] << 8) | ip[9]);
  uint16_t new_word = (uint16_t)(((ip[8] - 1) << 8) | ip[9]);
  uint32_t hc = (uint32_t)((ip[10] << 8) | ip[11]);
  uint32_t sum = (~hc & 0xffff) + (~old_word & 0xffff) + new_word;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  uint16_t hc2 = (uint16_t)~sum;
  ip[8] = (uint8_t)(ip[8] - 1);
  ip[10] = (uint8_t)(hc2 >> 8);
  ip[11] = (uint8_t)hc2;
}

/* A 5-tuple hash (jhash-like mixing; any fixed function will do: a flow stays on one real). */
static uint32_t flow_hash(uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport, uint8_t proto) {
  uint32_t h = 0x9e3779b9u ^ proto;
  uint32_t v[3] = {saddr, daddr, ((uint32_t)sport << 16) | dport};
  for (int i = 0; i < 3; i++) {
    h ^= v[i];
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
  }
  return h;
}

static int fd = -1;
static uint8_t *rx_ring, *tx_ring;
static unsigned tx_next;
static unsigned tx_pending;
/* Set when a send() left frames in the TX ring (send buffer full): sent again soon. */
static int tx_retry;
/* Kernel timestamps (ns, CLOCK_REALTIME) of the frames in the TX ring not yet sent. */
static uint64_t *pending_ts;

static uint64_t now_real_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t now_mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void record_residence(uint64_t ns) {
  double s = (double)ns / 1e9;
  st.res_count++;
  st.res_sum += s;
  int b = 0;
  while (b < NBUCKETS && s > bucket_le[b]) b++;
  st.res_bucket[b]++;
}

/* One send() for every frame queued in the TX ring since the last one. */
static void flush_tx(void) {
  if (tx_pending == 0) {
    if (tx_retry) {
      send(fd, NULL, 0, MSG_DONTWAIT);
      st.sends++;
      struct tpacket2_hdr *last = (struct tpacket2_hdr *)(tx_ring + (size_t)((tx_next + tx_frames - 1) % tx_frames) * FRAME_SIZE);
      tx_retry = __atomic_load_n(&last->tp_status, __ATOMIC_ACQUIRE) == TP_STATUS_SEND_REQUEST;
    }
    return;
  }
  ssize_t r = send(fd, NULL, 0, MSG_DONTWAIT);
  st.sends++;
  if (r < 0 && errno != EAGAIN && errno != ENOBUFS) st.send_errors += tx_pending;
  /* The last frame queued still waiting: the kernel stopped early (socket send buffer full). */
  struct tpacket2_hdr *last = (struct tpacket2_hdr *)(tx_ring + (size_t)((tx_next + tx_frames - 1) % tx_frames) * FRAME_SIZE);
  tx_retry = __atomic_load_n(&last->tp_status, __ATOMIC_ACQUIRE) == TP_STATUS_SEND_REQUEST;
  uint64_t now = now_real_ns();
  for (unsigned i = 0; i < tx_pending; i++) record_residence(now > pending_ts[i] ? now - pending_ts[i] : 0);
  tx_pending = 0;
}

/* Copies a forwarded frame into the next TX slot; 0 when the ring is full. */
static int queue_tx(const uint8_t *frame, unsigned len, uint64_t ts) {
  struct tpacket2_hdr *h = (struct tpacket2_hdr *)(tx_ring + (size_t)tx_next * FRAME_SIZE);
  if (h->tp_status == TP_STATUS_WRONG_FORMAT) {
    /* The kernel refused this slot's frame: count it and take the slot back (else it stays stuck). */
    st.send_errors++;
    __atomic_store_n(&h->tp_status, TP_STATUS_AVAILABLE, __ATOMIC_RELEASE);
  }
  if (h->tp_status != TP_STATUS_AVAILABLE) {
    flush_tx();
    if (h->tp_status != TP_STATUS_AVAILABLE) return 0;
  }
  uint8_t *data = (uint8_t *)h + TPACKET2_HDRLEN - sizeof(struct sockaddr_ll);
  memcpy(data, frame, len);
  h->tp_len = len;
  pending_ts[tx_pending++] = ts;
  __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
  tx_next = (tx_next + 1) % tx_frames;
  return 1;
}

/* The DR rewrite of one frame in place; returns 1 to forward it. */
static int rewrite(uint8_t *f, unsigned len) {
  if (len < 34 || f[12] != 0x08 || f[13] != 0x00) return 0;
  uint8_t *ip = f + 14;
  unsigned ihl = (ip[0] & 0x0f) * 4u;
  if ((ip[0] >> 4) != 4 || ihl < 20 || len < 14 + ihl + 4) return 0;
  uint8_t proto = ip[9];
  uint32_t saddr, daddr;
  memcpy(&saddr, ip + 12, 4);
  memcpy(&daddr, ip + 16, 4);
  uint16_t sport = (uint16_t)((ip[ihl] << 8) | ip[ihl + 1]);
  uint16_t dport = (uint16_t)((ip[ihl + 2] << 8) | ip[ihl + 3]);
  int svc = -1;
  for (int i = 0; i < nservices; i++) {
    if (services[i].vip == daddr && services[i].proto == proto && services[i].port == dport) {
      svc = i;
      break;
    }
  }
  if (svc < 0) return 0;
  if (ip[8] <= 1) {
    st.ttl_expired++;
    return -1;
  }
  const uint8_t *real = reals[flow_hash(saddr, daddr, sport, dport, proto) % (uint32_t)nreals];
  memcpy(f, real, 6);
  memcpy(f + 6, self_mac, 6);
  decrement_ttl(ip);
  return 1;
}

static unsigned rx_next;

/* Walks every ready RX slot from rx_next; returns the frames handled. */
static unsigned rx_batch(void) {
  unsigned n = 0;
  for (;;) {
    struct tpacket2_hdr *h = (struct tpacket2_hdr *)(rx_ring + (size_t)rx_next * FRAME_SIZE);
    if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) break;
    struct sockaddr_ll *sll = (struct sockaddr_ll *)((uint8_t *)h + TPACKET_ALIGN(sizeof(struct tpacket2_hdr)));
    uint8_t *frame = (uint8_t *)h + h->tp_mac;
    st.seen++;
    n++;
    if (sll->sll_pkttype == PACKET_OUTGOING || h->tp_snaplen != h->tp_len || h->tp_snaplen > MAX_FRAME) {
      st.ignored++;
    } else {
      int r = rewrite(frame, h->tp_snaplen);
      if (r > 0) {
        uint64_t ts = (uint64_t)h->tp_sec * 1000000000u + h->tp_nsec;
        if (queue_tx(frame, h->tp_snaplen, ts)) st.forwarded++;
        else st.tx_full++;
      } else if (r == 0) {
        st.ignored++;
      }
    }
    __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    rx_next = (rx_next + 1) % ring_frames;
  }
  if (n) {
    st.batches++;
    if (n > st.max_batch) st.max_batch = n;
  }
  return n;
}

static void read_kernel_stats(void) {
  struct tpacket_stats ks;
  socklen_t l = sizeof ks;
  if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &ks, &l) == 0) {
    st.k_packets += ks.tp_packets;
    st.k_drops += ks.tp_drops;
  }
}

static void print_stats(const char *event) {
  read_kernel_stats();
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("cref-stats {\"event\":\"%s\",\"seen\":%llu,\"forwarded\":%llu,\"ignored\":%llu,\"ttl_expired\":%llu,"
         "\"tx_full\":%llu,\"send_errors\":%llu,\"wakeups\":%llu,\"batches\":%llu,\"sends\":%llu,\"busy_hits\":%llu,"
         "\"max_batch\":%llu,\"kernel_packets\":%llu,\"kernel_drops\":%llu,\"utime_us\":%llu,\"stime_us\":%llu,"
         "\"voluntary_switches\":%ld,\"involuntary_switches\":%ld,\"busy_poll_us\":%ld,\"qdisc_bypass\":%s,"
         "\"residence\":{\"count\":%llu,\"sum\":%.9f,\"buckets\":[",
         event, (unsigned long long)st.seen, (unsigned long long)st.forwarded, (unsigned long long)st.ignored,
         (unsigned long long)st.ttl_expired, (unsigned long long)st.tx_full, (unsigned long long)st.send_errors,
         (unsigned long long)st.wakeups, (unsigned long long)st.batches, (unsigned long long)st.sends,
         (unsigned long long)st.busy_hits, (unsigned long long)st.max_batch, (unsigned long long)st.k_packets,
         (unsigned long long)st.k_drops,
         (unsigned long long)ru.ru_utime.tv_sec * 1000000ull + (unsigned long long)ru.ru_utime.tv_usec,
         (unsigned long long)ru.ru_stime.tv_sec * 1000000ull + (unsigned long long)ru.ru_stime.tv_usec,
         ru.ru_nvcsw, ru.ru_nivcsw, busy_poll_us, qdisc_bypass ? "true" : "false",
         (unsigned long long)st.res_count, st.res_sum);
  uint64_t cum = 0;
  for (int b = 0; b < NBUCKETS; b++) {
    cum += st.res_bucket[b];
    printf("%s[%.9g,%llu]", b ? "," : "", bucket_le[b], (unsigned long long)cum);
  }
  printf("]}}\n");
  fflush(stdout);
}

static void on_stop(int sig) { (void)sig; stop_flag = 1; }
static void on_dump(int sig) { (void)sig; dump_flag = 1; }

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--qdisc-bypass") == 0) { qdisc_bypass = 1; continue; }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) usage();
    if (!v) usage();
    i++;
    if (strcmp(a, "--iface") == 0) iface = v;
    else if (strcmp(a, "--service") == 0) {
      if (nservices >= MAX_SERVICES || parse_service(v, &services[nservices]) < 0) { fprintf(stderr, "cref: bad --service %s (VIP:PORT/tcp|udp)\n", v); return 2; }
      nservices++;
    } else if (strcmp(a, "--real") == 0) {
      if (nreals >= MAX_REALS || parse_mac(v, reals[nreals]) < 0) { fprintf(stderr, "cref: bad --real %s (a MAC)\n", v); return 2; }
      nreals++;
    } else if (strcmp(a, "--mac") == 0) {
      if (parse_mac(v, self_mac) < 0) { fprintf(stderr, "cref: bad --mac %s\n", v); return 2; }
      have_self_mac = 1;
    } else if (strcmp(a, "--busy-poll-us") == 0) {
      char *end;
      busy_poll_us = strtol(v, &end, 10);
      if (*end || busy_poll_us < 0 || busy_poll_us > 1000000) { fprintf(stderr, "cref: bad --busy-poll-us %s (0..1000000)\n", v); return 2; }
    } else if (strcmp(a, "--ring-frames") == 0) {
      char *end;
      long n = strtol(v, &end, 10);
      if (*end || n < 8 || n > 262144 || (n & (n - 1))) { fprintf(stderr, "cref: bad --ring-frames %s (a power of two, 8..262144)\n", v); return 2; }
      ring_frames = (unsigned)n;
    } else usage();
  }
  if (!iface || nservices == 0 || nreals == 0) usage();

  unsigned ifindex = if_nametoindex(iface);
  if (ifindex == 0) { fprintf(stderr, "cref: no interface %s\n", iface); return 1; }

  /* Protocol 0 first: no frame reaches the socket before its filter and rings are in place. */
  fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) die("socket(AF_PACKET) (needs CAP_NET_RAW)");
  if (!have_self_mac) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", iface);
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) die("SIOCGIFHWADDR");
    memcpy(self_mac, ifr.ifr_hwaddr.sa_data, 6);
  }
  int ver = TPACKET_V2;
  if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof ver) < 0) die("PACKET_VERSION");
  int one = 1;
  if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0 && errno != ENOPROTOOPT) die("PACKET_IGNORE_OUTGOING");
  if (qdisc_bypass && setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) < 0) die("PACKET_QDISC_BYPASS");
  struct sock_filter prog[16 + MAX_SERVICES * 9];
  int plen = build_filter(prog, (int)(sizeof prog / sizeof prog[0]));
  if (plen < 0) { fprintf(stderr, "cref: filter too long\n"); return 1; }
  struct sock_fprog fp = {.len = (unsigned short)plen, .filter = prog};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp) < 0) die("SO_ATTACH_FILTER");

  struct tpacket_req rx = {.tp_block_size = FRAME_SIZE * 64, .tp_frame_size = FRAME_SIZE, .tp_frame_nr = ring_frames, .tp_block_nr = ring_frames / 64};
  if (ring_frames < 64) { rx.tp_block_size = FRAME_SIZE * ring_frames; rx.tp_block_nr = 1; }
  struct tpacket_req tx = {.tp_block_size = FRAME_SIZE * 64, .tp_frame_size = FRAME_SIZE, .tp_frame_nr = tx_frames, .tp_block_nr = tx_frames / 64};
  if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &rx, sizeof rx) < 0) die("PACKET_RX_RING");
  if (setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &tx, sizeof tx) < 0) die("PACKET_TX_RING");
  size_t rx_bytes = (size_t)rx.tp_block_size * rx.tp_block_nr;
  size_t tx_bytes = (size_t)tx.tp_block_size * tx.tp_block_nr;
  uint8_t *map = mmap(NULL, rx_bytes + tx_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, fd, 0);
  if (map == MAP_FAILED) map = mmap(NULL, rx_bytes + tx_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) die("mmap of the rings");
  rx_ring = map;
  tx_ring = map + rx_bytes;
  pending_ts = calloc(tx_frames, sizeof *pending_ts);
  if (!pending_ts) die("calloc");

  /* A send buffer that holds the whole TX ring: else send() stops early and frames wait. */
  int sndbuf = (int)(tx_frames * FRAME_SIZE * 2);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) < 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);

  struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)ifindex};
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) die("bind");

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sa.sa_handler = on_dump;
  sigaction(SIGUSR1, &sa, NULL);

  printf("cref-ready {\"iface\":\"%s\",\"ifindex\":%u,\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"services\":%d,\"reals\":%d,"
         "\"ring_frames\":%u,\"tx_frames\":%u,\"busy_poll_us\":%ld,\"qdisc_bypass\":%s,\"pid\":%d}\n",
         iface, ifindex, self_mac[0], self_mac[1], self_mac[2], self_mac[3], self_mac[4], self_mac[5], nservices, nreals,
         ring_frames, tx_frames, busy_poll_us, qdisc_bypass ? "true" : "false", (int)getpid());
  fflush(stdout);

  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  while (!stop_flag) {
    if (dump_flag) {
      dump_flag = 0;
      print_stats("usr1");
    }
    int r = poll(&pfd, 1, tx_retry ? 1 : 200);
    if (tx_retry) flush_tx();
    if (r < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (pfd.revents & (POLLERR | POLLNVAL)) {
      fprintf(stderr, "cref: poll: error on the socket (interface gone?)\n");
      break;
    }
    if (r == 0) continue;
    st.wakeups++;
    rx_batch();
    flush_tx();
    if (busy_poll_us > 0) {
      uint64_t last = now_mono_ns();
      while (!stop_flag && !dump_flag) {
        if (rx_batch()) {
          st.busy_hits++;
          flush_tx();
          last = now_mono_ns();
        } else if (now_mono_ns() - last > (uint64_t)busy_poll_us * 1000u) {
          break;
        }
      }
    }
  }
  /* What is still in the ring was received: count it, then report. */
  rx_batch();
  flush_tx();
  print_stats("exit");
  return 0;
}
