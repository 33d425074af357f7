/**
 * `tasksctl type pause|resume|limits|retention <type>`: what an operator sets per task type
 * (docs/flow-control.md, docs/retention.md), through the REST gateway, which publishes the tasks a
 * change lets start.
 */
import type { TypeLimits } from '@tasks/contracts';
import type { Writer } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { clean, formatTime, toJson } from '../format.js';
import type { GatewayClient, TypeSettingsView } from '../gateway-client.js';

type TypeGateway = Pick<GatewayClient, 'getTypeSettings' | 'setPaused' | 'setLimits' | 'setRetention'>;

export interface PauseArgs {
  type: string;
  paused: boolean;
  json: boolean;
}

export interface LimitsArgs extends Partial<TypeLimits> {
  type: string;
  json: boolean;
}

/** Pauses or resumes; either again changes nothing and still exits 0. */
export async function setTypePaused(gateway: TypeGateway, args: PauseArgs, out: Writer): Promise<ExitCode> {
  const settings = await gateway.setPaused(args.type, args.paused);
  out.write(args.json ? toJson(settings) : renderSettings(settings));
  return EXIT.ok;
}

/** Without a limit given, shows the settings; otherwise sets (a number) or lifts (null) what is given. */
export async function typeLimits(gateway: TypeGateway, args: LimitsArgs, out: Writer): Promise<ExitCode> {
  const { type, json, ...limits } = args;
  const settings =
    Object.keys(limits).length === 0
      ? await gateway.getTypeSettings(type)
      : await gateway.setLimits(type, limits);
  out.write(json ? toJson(settings) : renderSettings(settings));
  return EXIT.ok;
}

export interface RetentionArgs {
  type: string;
  /** Seconds, null for the store's default, undefined to show it. */
  seconds?: number | null;
  json: boolean;
}

/** Without a value, shows the settings; otherwise sets the type's retention (or returns it to the default). */
export async function typeRetention(
  gateway: TypeGateway,
  args: RetentionArgs,
  out: Writer,
): Promise<ExitCode> {
  const settings =
    args.seconds === undefined
      ? await gateway.getTypeSettings(args.type)
      : await gateway.setRetention(args.type, args.seconds);
  out.write(args.json ? toJson(settings) : renderSettings(settings));
  return EXIT.ok;
}

export function renderSettings(s: TypeSettingsView, now: number = Date.now()): string {
  const rows: [string, string][] = [
    ['type', s.type],
    ['paused', s.paused ? 'yes (no task of the type starts)' : 'no'],
    ['concurrency', s.concurrency === null ? 'no limit' : `at most ${s.concurrency} running at once`],
    [
      'rate',
      s.ratePerSecond === null
        ? 'no limit'
        : `at most ${s.ratePerSecond} starts/s (burst ${s.rateBurst ?? 1})`,
    ],
    [
      'retention',
      `finished tasks kept ${s.retention.seconds} s (${s.retention.source === 'type' ? 'the type’s own' : 'the store’s default'})`,
    ],
    ['changed', s.updatedAt ? `${formatTime(s.updatedAt, now)} by ${s.updatedBy ?? '?'}` : 'never'],
  ];
  const keyWidth = Math.max(...rows.map(([k]) => k.length)) + 1;
  return rows.map(([k, v]) => `${`${k}:`.padEnd(keyWidth)}  ${clean(v)}`).join('\n') + '\n';
}
