/**
 * Where a forwarder's CPU goes, from `perf` (pure parsers and the classifier; the runner is in
 * bench/frame-cost.ts):
 *
 * - `perf stat -x, -e EVENTS -p PIDS` output (CSV on stderr): system calls by kind, context switches;
 * - `perf script` samples of `perf record -g`: each sample's call chain, leaf first, is put in one
 *   category by the kernel functions on it (see CATEGORIES). User-space samples (the forwarder's own
 *   code: JavaScript, the verdict, the ring walk, libpcap) are one category.
 */

/** Counts by event name from `perf stat -x,` output ("<not counted>" and unsupported events are left out). */
export function parsePerfStat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const f = line.split(',');
    if (f.length < 3) continue;
    const n = Number(f[0]);
    const ev = f[2]!.trim();
    if (!ev || !Number.isFinite(n) || f[0]!.trim() === '') continue;
    out[ev] = (out[ev] ?? 0) + n;
  }
  return out;
}

export interface PerfSample {
  comm: string;
  /** Frames leaf first: function names (offsets removed) and whether each is in the kernel. */
  frames: Array<{ sym: string; kernel: boolean }>;
}

/** Samples from `perf script` text (header line, then one indented line per frame, blank line between). */
export function parsePerfScript(text: string): PerfSample[] {
  const out: PerfSample[] = [];
  let cur: PerfSample | null = null;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (cur) out.push(cur);
      cur = null;
      continue;
    }
    if (!/^\s/.test(line)) {
      if (cur) out.push(cur);
      cur = { comm: line.trim().split(/\s+/)[0] ?? '', frames: [] };
      continue;
    }
    if (!cur) continue;
    // "\t ffffffff81234567 packet_sendmsg+0x1d ([kernel.kallsyms])"
    const m = /^\s*[0-9a-f]+\s+(.*?)\s+\(([^)]*)\)\s*$/.exec(line);
    if (!m) continue;
    const sym = m[1]!.replace(/\+0x[0-9a-f]+$/, '');
    cur.frames.push({ sym, kernel: m[2]!.includes('kernel.kallsyms') || m[2]!.startsWith('[kernel') });
  }
  if (cur) out.push(cur);
  return out;
}

export const CATEGORIES = ['user', 'tx', 'poll', 'rx', 'softirq', 'sched', 'other_syscalls', 'kernel_other'] as const;
export type Category = (typeof CATEGORIES)[number];

export const CATEGORY_LABELS: Record<Category, string> = {
  user: 'user space: the forwarder\'s own code (JavaScript, verdict, ring walk, libpcap)',
  tx: 'TX in the kernel: send()/sendto() through AF_PACKET, veth, the bridge and the real\'s ingress',
  poll: 'wake-ups: poll/epoll_wait entry, sleep and wake-up',
  rx: 'RX: the kernel filling the capture ring on this CPU (packet_rcv/tpacket_rcv)',
  softirq: 'other softirq work that ran on the forwarder\'s CPU',
  sched: 'scheduler (context switches outside poll)',
  other_syscalls: 'other system calls (IPC with the control process, timers, memory)',
  kernel_other: 'other kernel time (page faults, interrupts)',
};

const has = (s: PerfSample, re: RegExp) => s.frames.some((f) => f.kernel && re.test(f.sym));

/** The category of one sample, by the first matching rule (order matters: TX includes its softirqs). */
export function classify(s: PerfSample): Category {
  const leaf = s.frames[0];
  if (!leaf || !leaf.kernel) return 'user';
  if (has(s, /^(packet_sendmsg|tpacket_snd|packet_snd|__sys_sendto|__x64_sys_sendto|__sys_sendmsg|__sys_sendmmsg|__x64_sys_sendmmsg)$/)) return 'tx';
  if (has(s, /^(do_sys_poll|do_poll|__x64_sys_poll|__x64_sys_ppoll|do_epoll_wait|ep_poll|__x64_sys_epoll_wait|__x64_sys_epoll_pwait)$/)) return 'poll';
  if (has(s, /^(tpacket_rcv|packet_rcv|packet_rcv_fanout)$/)) return 'rx';
  if (has(s, /^(net_rx_action|__do_softirq|handle_softirqs|do_softirq|__napi_poll|process_backlog)$/)) return 'softirq';
  if (has(s, /^(__schedule|schedule)$/)) return 'sched';
  if (has(s, /^(do_syscall_64|entry_SYSCALL_64)/)) return 'other_syscalls';
  return 'kernel_other';
}

/** Share of the samples in each category (0..1); all categories present. */
export function categoryShares(samples: readonly PerfSample[]): Record<Category, number> {
  const n: Record<Category, number> = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  for (const s of samples) n[classify(s)]++;
  const total = samples.length;
  for (const c of CATEGORIES) n[c] = total ? n[c] / total : 0;
  return n;
}
