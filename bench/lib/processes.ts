/**
 * Which processes take part in a run, and how much CPU each used: our children (found in /proc
 * by parent pid and entry file), the shared servers (RabbitMQ, Redis, found by name), this load
 * generator (process.cpuUsage) and everything else on the machine (/proc/stat minus the rest).
 * Linux only; a process that cannot be read counts as unknown (null), never as zero.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { loadavg } from 'node:os';
import { machineBusyMs, processCpuMs, round } from './measure.js';

function listPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return [];
  }
}

function statOf(pid: number): { comm: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return { comm, ppid };
  } catch {
    return undefined; // the process went away while we looked
  }
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Direct children of this process whose command line contains `needle`. */
export function childPids(needle: string): number[] {
  return listPids().filter((pid) => statOf(pid)?.ppid === process.pid && cmdlineOf(pid).includes(needle));
}

/** Direct children of this process named `comm` (e.g. the ferretdb that provisionMongo started). */
export function childPidsByName(comm: string): number[] {
  return listPids().filter((pid) => {
    const s = statOf(pid);
    return s?.ppid === process.pid && s.comm === comm;
  });
}

/** Any process named `comm` (shared servers such as redis-server), optionally with `needle` in its command line. */
export function pidsByName(comm: string, needle?: string): number[] {
  return listPids().filter(
    (pid) => statOf(pid)?.comm === comm && (needle === undefined || cmdlineOf(pid).includes(needle)),
  );
}

/** CPU as a percentage of one core over the metered interval (the machine has 2: up to 200 %). */
export interface CpuReport {
  wallMs: number;
  /** By role: loadGenerator, store, gateway, executor, ferretdb, rabbitmq, bullmqServer, ... */
  byRole: Record<string, number | null>;
  /** Busy CPU of every other process on the machine (other engineers' tests, the kernel, ...). */
  otherProcesses: number | null;
  loadAverage1m: { mean: number; max: number };
}

/**
 * A role's processes: a fixed list (null when one of them cannot be read at either end), or a
 * function asked again at the end, for servers that start processes during the run (PostgreSQL
 * backends): those count from zero, and ones that ended during the run are missed.
 */
export type RolePids = number[] | (() => number[] | Promise<number[]>);

/** Meters the CPU of the given processes (several pids per role are summed) until the returned function is called. */
export async function cpuMeter(roles: Record<string, RolePids>): Promise<() => Promise<CpuReport>> {
  const pidsOf = async (r: RolePids) => (typeof r === 'function' ? await r() : r);
  const resolve = async () =>
    Object.fromEntries(
      await Promise.all(Object.entries(roles).map(async ([k, r]) => [k, await pidsOf(r)] as const)),
    );
  const pids0 = await resolve();
  const t0 = performance.now();
  const self0 = process.cpuUsage();
  const busy0 = machineBusyMs();
  const sample = (pidsByRole: Record<string, number[]>) =>
    Object.fromEntries(
      Object.entries(pidsByRole).map(([role, pids]) => [
        role,
        new Map(pids.map((p) => [p, processCpuMs(p)] as const)),
      ]),
    ) as Record<string, Map<number, number | null>>;
  const before = sample(pids0);
  const used = (role: string, after: Map<number, number | null>): number | null => {
    const b = before[role]!;
    if (typeof roles[role] !== 'function') {
      let total = 0;
      for (const [pid, a] of after) {
        const was = b.get(pid);
        if (a === null || was === null || was === undefined) return null;
        total += a - was;
      }
      return after.size === 0 ? null : total;
    }
    let total = 0;
    for (const [pid, a] of after) total += a === null ? 0 : a - (b.get(pid) ?? 0);
    return total;
  };
  const loads = [loadavg()[0]!];
  const timer = setInterval(() => loads.push(loadavg()[0]!), 2_000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    loads.push(loadavg()[0]!);
    const pids1 = await resolve();
    const wallMs = performance.now() - t0;
    const self = process.cpuUsage(self0);
    const selfMs = (self.user + self.system) / 1000;
    const after = sample(pids1);
    const byRole: Record<string, number | null> = { loadGenerator: round((selfMs / wallMs) * 100) };
    let known: number | null = selfMs;
    for (const role of Object.keys(roles)) {
      // A process that exited meanwhile reads as null: its CPU is unknown, not someone else's.
      const u = used(role, after[role]!);
      byRole[role] = u === null ? null : round((u / wallMs) * 100);
      known = known === null || u === null ? null : known + u;
    }
    const busy1 = machineBusyMs();
    const others = busy0 === null || busy1 === null || known === null ? null : busy1 - busy0 - known;
    return {
      wallMs: round(wallMs),
      byRole,
      otherProcesses: others === null ? null : round((Math.max(0, others) / wallMs) * 100),
      loadAverage1m: {
        mean: round(loads.reduce((a, b) => a + b, 0) / loads.length, 2),
        max: round(Math.max(...loads), 2),
      },
    };
  };
}

/**
 * The process listening on a TCP port of this machine (IPv4 or IPv6), from /proc/net/tcp* and
 * the sockets in /proc/<pid>/fd: how an outside check finds `make start`'s services. Undefined
 * when nothing listens there or the listener's fds cannot be read (another user's process).
 */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; st 0A is LISTEN; field 9 is the socket's inode
      if (f.length > 9 && f[3] === '0A' && parseInt(f[1]!.split(':')[1]!, 16) === port) inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const pid of listPids()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return pid;
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/** A process's environment (what a service was started with), from /proc; empty when unreadable. */
export function environmentOf(pid: number): Record<string, string> {
  try {
    return Object.fromEntries(
      readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .filter((kv) => kv.includes('='))
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
  } catch {
    return {};
  }
}

/**
 * Waits until the given processes together use less than `idlePct` of one core over a second
 * (e.g. a database still finishing queries whose callers gave up), at most `maxMs`. Resolves to
 * the seconds waited and whether they went idle.
 */
export async function waitIdle(
  pids: () => number[] | Promise<number[]>,
  maxMs: number,
  idlePct = 10,
): Promise<{ seconds: number; idle: boolean }> {
  const t0 = performance.now();
  const total = (list: number[]) => list.reduce((sum, pid) => sum + (processCpuMs(pid) ?? 0), 0);
  while (performance.now() - t0 < maxMs) {
    const list = await pids();
    const before = total(list);
    await new Promise((r) => setTimeout(r, 1_000));
    if (total(list) - before < idlePct * 10)
      return { seconds: round((performance.now() - t0) / 1000), idle: true };
  }
  return { seconds: round((performance.now() - t0) / 1000), idle: false };
}
