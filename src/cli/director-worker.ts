/**
 * The handler module the packet worker loads for a live director (see worker-host.ts): it opens the
 * local delivery path when there is one and runs the engine's DirectorPacketPath on the capture.
 */
import { DirectorPacketPath, type FromPacket, type PacketPathInit } from '../engine/index.ts';
import type { FrameIO, PacketHandler, PostToControl } from '../ports/index.ts';
import { joinSolicitedNodeGroups, openCapture, openRing, systemClock } from '../io/index.ts';
import { ipv6ToString } from '../model/index.ts';

export interface DirectorWorkerInit extends PacketPathInit {
  /** The local veth end to send frames for this host's own real server out of. */
  localIface?: string;
}

/** A filter that matches nothing we expect to receive: the local path is used for sending only. */
const SEND_ONLY_FILTER = 'ether proto 0x88b6';

export async function createHandler(init: unknown, io: FrameIO, post: PostToControl): Promise<PacketHandler> {
  const i = init as DirectorWorkerInit;
  let localIo: FrameIO | null = null;
  if (i.localIface) {
    // Same backend as the main interface, so `--io ring` needs no libpcap binding at run time.
    localIo = io.backend === 'ring'
      ? await openRing({ iface: i.localIface, filter: SEND_ONLY_FILTER, frames: 64, txFrames: 256 })
      : await openCapture({ iface: i.localIface, filter: SEND_ONLY_FILTER, bufferSize: 1 << 20, prime: false });
  }
  // The NS for the VIP6s go to their solicited-node groups: join them, so that a NIC's filter or a
  // snooping bridge lets them through to the capture (io/mcast6.ts).
  const warn = (m: string) => process.stderr.write(`dsrlb packet worker: ${m}\n`);
  const vip6s = (i.services6 ?? []).map((s) => ipv6ToString(s.spec.vip6));
  const leaves = [await joinSolicitedNodeGroups(io.iface, vip6s, warn)];
  const path = new DirectorPacketPath(i, io, localIo, (m: FromPacket) => post(m), systemClock);
  return {
    onFrame: (frame, len) => path.onFrame(frame, len),
    onMessage: (m) => {
      // A VIP6 added at run time (ipvsadm -A, a reload) gets its group too; the groups are left at close.
      const op = m as { op?: string; spec?: { vip6?: unknown } };
      if (op.op === 'addService6' && typeof op.spec?.vip6 === 'string') {
        void joinSolicitedNodeGroups(io.iface, [op.spec.vip6], warn).then((leave) => leaves.push(leave));
      }
      path.onMessage(m);
    },
    close: () => {
      path.close();
      for (const leave of leaves) leave();
      localIo?.close();
    },
  };
}
