// Push checks: a job beats with its own token, and the check fails once no beat came within its period and grace.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { HeartbeatCheckDefinition } from './checks.ts';
import { finding, type ProbeFinding } from './network-probes.ts';

export interface HeartbeatRecord {
  /** The newest beat, or null when none came since the heartbeat was first registered. */
  lastBeatAt: Date | null;
  /** When the monitor first ran this heartbeat: a job that never beats is late from then on. */
  registeredAt: Date;
}

/** "1h05m", "7m30s", "45s": how long a heartbeat has been silent. */
export function formatSeconds(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return `${whole}s`;
  if (whole < 3600)
    return `${Math.floor(whole / 60)}m${whole % 60 ? `${String(whole % 60).padStart(2, '0')}s` : ''}`;
  const minutes = Math.floor((whole % 3600) / 60);
  return `${Math.floor(whole / 3600)}h${String(minutes).padStart(2, '0')}m`;
}

/** Whether the last beat (or the registration, before any) is within the period and grace at `now`. */
export function heartbeatFinding(
  check: HeartbeatCheckDefinition,
  record: HeartbeatRecord,
  now: Date,
): ProbeFinding {
  const since = record.lastBeatAt ?? record.registeredAt;
  const silentSeconds = (now.getTime() - since.getTime()) / 1000;
  const allowedSeconds = check.periodSeconds + check.graceSeconds;
  const late = silentSeconds > allowedSeconds;
  const allowance = `period ${formatSeconds(check.periodSeconds)} + grace ${formatSeconds(check.graceSeconds)}`;
  const problems = !late
    ? []
    : record.lastBeatAt
      ? [`no beat for ${formatSeconds(silentSeconds)} (${allowance})`]
      : [`no beat since the heartbeat was registered ${formatSeconds(silentSeconds)} ago (${allowance})`];
  return finding(problems, {
    status: null,
    latencyMs: null,
    details: {
      lastBeatAt: record.lastBeatAt?.toISOString() ?? null,
      dueBy: new Date(since.getTime() + allowedSeconds * 1000).toISOString(),
    },
  });
}

/** SHA-256 of a token, as the checks file's `tokenSha256` gives it. */
export function heartbeatTokenHash(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Compares a presented token with the stored hash in constant time. */
export function heartbeatTokenMatches(token: string, storedHash: Buffer): boolean {
  const presented = heartbeatTokenHash(token);
  return storedHash.length === presented.length && timingSafeEqual(presented, storedHash);
}
