/**
 * The README's command table, one row per command of main.ts's COMMANDS: how it is called and
 * what it does, in more words than the one-line summary `dsrlb --help` prints. `npm run docs`
 * writes the table from here (docs-gen.ts); the docs test fails when a command has no row here, a
 * row names no command, or README.md differs from what the generator writes.
 */
export const COMMAND_DOCS: Readonly<Record<string, { synopsis: string; details: string }>> = {
  run: {
    synopsis: 'dsrlb run [--config ldirectord.cf | --keepalived-conf keepalived.conf] --iface IF',
    details: 'a live director: the packet path in its own process (dsrlb\'s own packet ring — RX/TX rings read in batches, kernel drop counters, `--busy-poll-us`; `--io pcap` for libpcap — the kernel\'s schedulers and connection table, DR rewrite); `--workers N` (ring backend): N packet worker processes in one `PACKET_FANOUT` group, each with its own connection table, counters and `ipvsadm -L` summed (docs/design/workers.md); ARP for the VIPs answered in userspace with gratuitous ARP at start, the reals\' MACs resolved by ARP, flows for this host\'s own address delivered through a veth pair, an nftables ingress drop keeping the host\'s stack away from the service traffic; what the kernel does at the edges (ICMP errors sent to the connection\'s real, echo replies for the VIP, time exceeded, reassembly: docs/edge-cases.md); ldirectord\'s health checks (quiescent, fallback, maintenancedir), SIGHUP/autoreload, `logfile=` (file or syslog), `--metrics ADDR` (Prometheus), `--http ADDR` (the live web console; changes from it only with `--http-token FILE`: docs/console.md), a control socket (mode 0600, `--control-group`), systemd readiness (docs/service.md); `--bgp …`: one of N active directors behind an ECMP router, the VIP announced by BIRD while it can be served, `--sync-peer ADDR`: connection sync among the active directors (docs/scale-out.md). With `--keepalived-conf`: a keepalived.conf as it is, its virtual_servers and its vrrp_instance as keepalived\'s VRRP peer (docs/keepalived.md). Without either: an empty table, driven by `dsrlb ipvsadm` — Debian\'s ldirectord can drive it unchanged. Start-up checks say what is missing (capabilities, interface, offloads: `--fix-offloads`)',
  },
  ipvsadm: {
    synopsis: 'dsrlb ipvsadm …',
    details: 'ipvsadm\'s language against the running director: `-L -n` (`--stats`, `--rate`, `-c`, `--thresholds`, `--persistent-conn`, `--exact`), `-A/-E/-D`, `-a/-e/-d`, `-C`, `-Z`, `-S`/`-R`, in ipvsadm\'s exact output format (docs/ipvsadm.md)',
  },
  ha: {
    synopsis: 'dsrlb ha --config-dir DIR [--node NAME] [--iface IF]',
    details: 'one node of a heartbeat-style pair from `DIR/ha.cf`, `haresources`, `authkeys` (docs/failover.md), logging where ha.cf says; `dsrlb ha status`; `--http ADDR` (`--http-token FILE`): the web console with both nodes, the VIP holder and the failovers',
  },
  'arp-rules': {
    synopsis: 'dsrlb arp-rules --vip V --rip R --iface IF',
    details: 'prints (or `--apply`/`--remove`) the real-server ARP suppression rules of the reference setup; `--vip6 V6`: the IPv6 form, an nft `ip6` table dropping Neighbor Solicitations and Advertisements for the VIP6 (docs/arp-problem.md, "The NDP problem": when Linux needs them)',
  },
  demo: {
    synopsis: 'dsrlb demo',
    details: 'the demo above (`--prefix`, `--requests N`, `--keep`, `--capture DIR`); `--ipv6`: the dual-stack testbed, the same requests to the VIP6 too, the proof for each family; `--topology ecmp --directors N`: the same through N active directors behind a BGP/ECMP router',
  },
  testbed: {
    synopsis: 'dsrlb testbed up|down|status|capture',
    details: 'the reference topology in namespaces named `<prefix>-…` (default `dsr`); `--arp-style arptables|sysctl|nft`; `capture` records pcaps at every host; `--topology ecmp --directors N`: a BIRD router doing ECMP over N directors (docs/scale-out.md)',
  },
  explain: {
    synopsis: 'dsrlb explain CAPTURE|DIR [--config F] [--svg OUT] [--html OUT]',
    details: 'draws each flow of real captures (pcap or pcapng) as a ladder diagram and names what is wrong, ICMP errors about a flow included (docs/dsr-walkthrough.md)',
  },
  doctor: {
    synopsis: 'dsrlb doctor [--netns NS] --vip VIP [--role director|real]',
    details: 'checks a host as director or real server, probes ARP for the VIP, prints the command that fixes each problem; `--vip6 V6`: the real servers\' side of IPv6 (VIP6 on lo, nothing answering Neighbor Solicitations for it, an NDP probe)',
  },
  config: {
    synopsis: 'dsrlb config check|convert FILE',
    details: 'parses an `ldirectord.cf` (or with `--keepalived-conf` a keepalived.conf), prints the virtual services as `ipvsadm -L -n` would, or every error as `file:line: code: message` (exit 1); `convert --keepalived-conf` writes the equivalent ldirectord.cf, ha.cf, haresources and authkeys and says what cannot be expressed',
  },
  replay: {
    synopsis: 'dsrlb replay --config FILE --in IN --out OUT --self-mac MAC --neigh IP=MAC …',
    details: 'runs a capture (pcap or pcapng, `-` for standard input) through the data path offline, as a stream in bounded memory, with the capture\'s timestamps as the clock and every real healthy; writes the frames the director would send (forwards, ARP and ICMP replies) as pcap or pcapng (`--out-format`; `-` for standard output) that tcpdump and Wireshark read; prints per real (flows, packets, bytes) and per drop reason. `--choices` lists every scheduling decision, `--json` the whole summary, `--sysctl sloppy_tcp=1` etc. set IPVS switches',
  },
  service: {
    synopsis: 'dsrlb service install|uninstall|print',
    details: 'the systemd units (a director, an HA node: not root, hardened, `Type=notify`), rendered for this installation; `--dry-run` prints what it would write (docs/service.md)',
  },
};
