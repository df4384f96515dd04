/**
 * systemd's readiness protocol (sd_notify): datagrams such as "READY=1\nSTATUS=…" sent to the unix
 * socket named by $NOTIFY_SOCKET. Node cannot send unix datagrams, so the send is a small Node-API
 * addon built from source by the set-up (src/sdnotify/, docs/design/service.md says why not the
 * `systemd-notify` program). The addon loads lazily, and only when $NOTIFY_SOCKET is set: outside
 * systemd nothing native is touched and every call is a no-op.
 */
import { createRequire } from 'node:module';
import { DsrlbError } from '../errors/index.ts';

export interface SdNotifier {
  /** True when $NOTIFY_SOCKET is set (the service manager listens). */
  readonly enabled: boolean;
  /** The watchdog interval systemd asks for (WatchdogSec=), in ms; null without a watchdog. */
  readonly watchdogMs: number | null;
  /** Sends the assignments (READY=1, STATUS=…) as one datagram; returns false when disabled. */
  notify(fields: Record<string, string | number>): boolean;
}

type Addon = { send(path: string, message: string): number };
const ADDON = '../sdnotify/build/Release/sd_notify.node';

function loadAddon(): Addon {
  return createRequire(import.meta.url)(ADDON) as Addon;
}

function load(loader: () => Addon): Addon {
  try {
    return loader();
  } catch (e) {
    throw new DsrlbError('E_SD_NOTIFY',
      `NOTIFY_SOCKET is set (started by systemd with Type=notify) but the sd_notify addon is not built (${(e as Error).message.split('\n')[0]}). ` +
      'Fix: npm run install (or bash src/cli/setup.sh) in the dsrlb directory, which builds src/sdnotify with node-gyp');
  }
}

/** The assignments of one notification, in systemd's "KEY=value\n" form (values are one line). */
export function notifyMessage(fields: Record<string, string | number>): string {
  return Object.entries(fields).map(([k, v]) => `${k}=${String(v).replace(/\n/g, ' ')}`).join('\n');
}

/** CLOCK_MONOTONIC in µs (what RELOADING=1's MONOTONIC_USEC= carries): Node's hrtime is that clock. */
export function monotonicUsec(): bigint {
  return process.hrtime.bigint() / 1000n;
}

/**
 * A notifier for this process. Throws E_SD_NOTIFY when $NOTIFY_SOCKET is set and the addon cannot
 * load: a Type=notify service would otherwise wait for a READY=1 that never comes.
 */
export function sdNotifier(env: NodeJS.ProcessEnv = process.env, loader: () => Addon = loadAddon): SdNotifier {
  const socket = env.NOTIFY_SOCKET;
  const wdPid = env.WATCHDOG_PID;
  const wdUsec = Number(env.WATCHDOG_USEC);
  const watchdogMs = Number.isFinite(wdUsec) && wdUsec > 0 && (wdPid === undefined || Number(wdPid) === process.pid) ? Math.floor(wdUsec / 1000) : null;
  if (!socket) return { enabled: false, watchdogMs: null, notify: () => false };
  const addon = load(loader);
  return {
    enabled: true,
    watchdogMs,
    notify(fields) {
      addon.send(socket, notifyMessage(fields));
      return true;
    },
  };
}
