// One monitor cycle: every check at once and on its own (probe, record, evaluate, queue and deliver), then metrics.

import { type AlertChannel, channelsFor, INCIDENT_SEVERITIES, PRIMARY_CHANNEL } from '../alerts/channels.ts';
import type { AlertSink, Notification } from '../alerts/sink.ts';
import { formatElapsed } from '../http/units.ts';
import type { Logger } from '../log/logger.ts';
import type { Metric, MetricsSink } from '../metrics/sink.ts';
import type { CheckDefinition, MonitorDefinition } from './checks.ts';
import type { HeartbeatRecord } from './heartbeat.ts';
import { probe, type Sample } from './probe.ts';
import { type Decision, decide, evaluateRules, type RuleVerdict, samplesForRules } from './rules.ts';
import { evaluateBurn, sampleRetentionDays, sloState, sloWindows } from './slo.ts';
import type { MonitorStore, OutboxEntry } from './store.ts';

export interface MonitorDeps {
  store: MonitorStore;
  logger: Logger;
  /** SNS when deployed; a printer locally. */
  alerts: AlertSink;
  /**
   * Every channel with the severities it announces, the SNS one (`alerts`) among them; absent, `alerts` announces
   * every incident.
   */
  channels?: AlertChannel[];
  /** CloudWatch when deployed; absent locally, where samples live in PostgreSQL only. */
  metrics?: MetricsSink;
  /** Hosts (host:port) with a load test running, whose checks hold their alerts. */
  loadTestHosts?: () => Promise<string[]>;
  dimensions: Record<string, string>;
  /** Days of samples kept, or a check's longer SLO window. */
  retentionDays: number;
  /** Seconds between this monitor's cycles, stored with each check so readers can tell when it went quiet. */
  intervalSeconds: number;
  latestMigration: string | null;
  /** For the report: "loadwatch/prod" in alert subjects. */
  serviceLabel: string;
  now?: () => Date;
}

export interface Transition {
  key: string;
  name: string;
  action: Exclude<Decision['action'], 'none'>;
  detail: string;
}

export interface CycleResult {
  at: Date;
  samples: Sample[];
  transitions: Transition[];
  states: Record<string, 'OK' | 'ALARM'>;
  delivery: Delivery & { pending: number };
  metrics: 'sent' | 'failed' | 'not configured';
  /** The monitor's own resident memory after the cycle. */
  memoryBytes: number;
}

/** How many recent samples the check's rules read. */
function maxWindow(check: CheckDefinition): number {
  return Math.max(
    2,
    check.rules.down.consecutive ?? check.rules.down.window ?? 1,
    check.rules.degradedCycles,
    check.rules.errorRate?.window ?? 1,
  );
}

function maintenanceReason(
  check: CheckDefinition,
  definition: MonitorDefinition,
  loadTestHosts: string[],
  now: Date,
) {
  const window = definition.maintenance.find(
    (item) =>
      item.start <= now && now < item.end && (item.checks.includes('*') || item.checks.includes(check.name)),
  );
  if (window) return `maintenance window until ${window.end.toISOString()}: ${window.reason}`;
  if (check.holdHost !== null && loadTestHosts.includes(check.holdHost))
    return `a load test is running against ${check.holdHost}`;
  return null;
}

/**
 * While a dependency is in an incident, or failing on its way to one, a dependant's failures join it: its samples are
 * held like a maintenance window's, and its own incident opens only if it stays down once the dependency is back.
 */
async function dependencyReason(
  check: CheckDefinition,
  definition: MonitorDefinition,
  store: MonitorStore,
): Promise<string | null> {
  if (check.dependsOn.length === 0) return null;
  const keys = check.dependsOn.flatMap((name) => {
    const dependency = definition.checks.find((item) => item.name === name);
    return dependency ? [{ name, key: dependency.key }] : [];
  });
  const states = await store.dependencyStates(keys.map((item) => item.key));
  for (const { name, key } of keys) {
    const incidentId = states.get(key)?.incidentId;
    if (incidentId !== null && incidentId !== undefined)
      return `its dependency "${name}" is in incident ${incidentId}`;
  }
  for (const { name, key } of keys)
    if (states.get(key)?.failing) return `its dependency "${name}" is failing`;
  return null;
}

function notification(
  kind: 'raised' | 'resolved' | 'reminder',
  check: CheckDefinition,
  sample: Sample,
  context: {
    serviceLabel: string;
    verdict?: RuleVerdict;
    since: Date;
    now: Date;
    incidentId: number;
    sequence?: number;
  },
): Notification {
  const { verdict, since, now, serviceLabel } = context;
  const what = verdict?.firing.includes('down')
    ? 'is down'
    : verdict?.firing.includes('errorRate')
      ? 'is failing'
      : verdict?.firing.includes('degraded') || !verdict?.firing.includes('burnRate')
        ? 'is degraded'
        : 'is burning its error budget';
  const lasted = formatElapsed(now.getTime() - since.getTime());
  const subject = {
    raised: `[ALARM] ${serviceLabel}: ${check.name} ${what}`,
    reminder: `[REMINDER] ${serviceLabel}: ${check.name} still in alarm for ${lasted}`,
    resolved: `[OK] ${serviceLabel}: ${check.name} recovered after ${lasted}`,
  }[kind];
  const lines =
    kind === 'resolved'
      ? [`${check.name} (${check.url}) is healthy again.`, `The incident lasted ${lasted}.`]
      : [
          `${check.name} (${check.url}) ${kind === 'raised' ? what : 'is still in alarm'}.`,
          ...(verdict?.reasons ?? []),
        ];
  lines.push(
    `Last check: ${sample.ok ? 'ok' : `failed: ${sample.error}`}, status ${sample.status ?? '-'}, ${sample.latencyMs ?? '-'} ms.`,
  );
  return {
    subject,
    message: lines.join('\n'),
    detail: {
      incidentId: context.incidentId,
      check: check.name,
      url: check.url,
      state: kind === 'resolved' ? 'OK' : 'ALARM',
      rules: verdict?.firing ?? [],
      since: since.toISOString(),
      at: now.toISOString(),
      lastSample: { ok: sample.ok, status: sample.status, latencyMs: sample.latencyMs, error: sample.error },
    },
    severity: kind === 'resolved' ? 'info' : (verdict?.severity ?? 'warning'),
    attributes: { check: check.name, state: kind === 'resolved' ? 'OK' : 'ALARM', kind: 'monitor' },
    deduplicationId: `${context.incidentId}:${kind}${context.sequence ? `:${context.sequence}` : ''}`,
  };
}

function metricsFor(
  samples: Sample[],
  checks: CheckDefinition[],
  dimensions: Record<string, string>,
  at: Date,
): Metric[] {
  const metrics: Metric[] = [];
  // Each metric's name written as `name: '…'`: test/deploy/metric-names.test.ts reads them to check the alarms'.
  const add = (metric: Pick<Metric, 'name' | 'value' | 'unit'>, dimensions: Record<string, string>) =>
    metrics.push({ ...metric, dimensions, timestamp: at });
  for (const sample of samples) {
    const check = checks.find((item) => item.key === sample.key);
    const dims = { ...dimensions, Check: sample.name };
    add({ name: 'Availability', value: sample.ok ? 100 : 0, unit: 'Percent' }, dims);
    // What the CloudWatch alarms watch: availability, except that a held sample (maintenance window, load
    // test) counts as available, so an alarm holds its notifications exactly when the monitor does.
    add({ name: 'AlertAvailability', value: sample.ok || sample.held ? 100 : 0, unit: 'Percent' }, dims);
    if (sample.latencyMs !== null)
      add({ name: 'ResponseTime', value: sample.latencyMs, unit: 'Milliseconds' }, dims);
    if (check?.kind === 'database' && sample.details) {
      const pool = sample.details.pool as { total?: number; idle?: number; waiting?: number } | null;
      const dbLatency = sample.details.databaseLatencyMs;
      if (typeof dbLatency === 'number')
        add({ name: 'DatabaseLatency', value: dbLatency, unit: 'Milliseconds' }, dims);
      if (pool) {
        add({ name: 'PoolConnections', value: pool.total ?? 0, unit: 'Count' }, dims);
        add({ name: 'PoolIdle', value: pool.idle ?? 0, unit: 'Count' }, dims);
        add({ name: 'PoolWaiting', value: pool.waiting ?? 0, unit: 'Count' }, dims);
      }
    }
  }
  add({ name: 'MonitorMemory', value: process.memoryUsage().rss, unit: 'Bytes' }, { ...dimensions });
  return metrics;
}

type Delivery = Awaited<ReturnType<MonitorStore['deliverPending']>>;

interface CheckOutcome {
  sample: Sample;
  state: 'OK' | 'ALARM';
  transition: Transition | null;
  delivery: Delivery;
}

/** The channels of a monitor: `channels` when given, else its one sink for every severity. */
export function monitorChannels(deps: Pick<MonitorDeps, 'alerts' | 'channels'>): AlertChannel[] {
  return deps.channels ?? [{ name: PRIMARY_CHANNEL, severities: INCIDENT_SEVERITIES, sink: deps.alerts }];
}

async function deliver(deps: MonitorDeps, now: Date): Promise<Delivery> {
  const channels = new Map(monitorChannels(deps).map((channel) => [channel.name, channel]));
  return deps.store.deliverPending(
    100,
    async (entry) => {
      const channel = channels.get(entry.channel);
      if (!channel) throw new Error(`channel "${entry.channel}" is not configured`);
      await channel.sink.publish(entry.payload);
    },
    { now, channels: [...channels.keys()] },
  );
}

/**
 * One check, from its probe to its alert: stored, evaluated and delivered as soon as its own probe ends, so a
 * slow check holds back no other; only a check with dependencies waits, after its probe, for theirs to be decided.
 */
async function runCheck(
  check: CheckDefinition,
  context: {
    deps: MonitorDeps;
    definition: MonitorDefinition;
    now: Date;
    maintenance: string | null;
    dependencies: Promise<unknown>;
    heartbeat?: HeartbeatRecord;
    signal?: AbortSignal;
  },
): Promise<CheckOutcome> {
  const { deps, now } = context;
  const probed = await probe(check, {
    latestMigration: deps.latestMigration,
    now: () => now,
    heartbeat: context.heartbeat,
    signal: context.signal,
  });
  await context.dependencies;
  const held = context.maintenance ?? (await dependencyReason(check, context.definition, deps.store));
  const sample: Sample = { ...probed, held };
  await deps.store.insertSamples([sample]);
  const history = (await deps.store.recentSamples([check.key], maxWindow(check))).get(check.key) ?? [];
  const channels = monitorChannels(deps);
  const burn = check.slo
    ? evaluateBurn(
        check.slo,
        await deps.store.windowCounts(check.key, now, sloWindows(check.slo), check.slo.latencyMs ?? null),
      )
    : undefined;
  const run = {
    now,
    intervalSeconds: check.intervalSeconds ?? deps.intervalSeconds,
    slo: check.slo && burn ? sloState(check.slo, burn) : null,
  };
  const outcome = await deps.store.withCheck(check.key, run, async (tx) => {
    const verdict = evaluateRules(check, samplesForRules(history, tx.state.state, held !== null), burn);
    const { state, decision } = decide({
      check,
      state: tx.state,
      verdict,
      incident: tx.incident,
      maintenance: held,
      now,
    });
    const notice = {
      serviceLabel: deps.serviceLabel,
      verdict,
      since: tx.state.since,
      now,
      incidentId: tx.incident?.id ?? 0,
    };
    let queued = false;
    /**
     * Queues the notification for the channels of its severity. A recovery or reminder goes where the incident's
     * announcement went: the store reads that from the outbox, and only falls back to the channels given here
     * (every channel, for a recovery) when no announcement of it is left there.
     */
    const enqueue = async (kind: OutboxEntry['kind'], context: Parameters<typeof notification>[3]) => {
      const to = channelsFor(channels, kind === 'resolved' ? 'info' : verdict.severity);
      const message = notification(kind, check, sample, context);
      await tx.enqueue(context.incidentId, kind, context.sequence ?? 0, message, to);
      queued = true;
    };
    if (decision.action === 'raise') {
      const id = await tx.openIncident(verdict.firing, verdict.severity, verdict.reasons.join('; '), now);
      await enqueue('raised', { ...notice, since: now, incidentId: id });
    } else if (decision.action === 'resolve' && tx.incident) {
      await tx.resolveIncident(tx.incident.id, now);
      await enqueue('resolved', notice);
    } else if (decision.action === 'remind' && tx.incident) {
      await enqueue('reminder', { ...notice, sequence: decision.sequence });
      await tx.markNotified(tx.incident.id, now, decision.sequence);
    }
    return { state, result: { decision, state: state.state, queued } };
  });
  const { decision } = outcome;
  const detail =
    decision.action === 'suppress'
      ? decision.reason
      : decision.action === 'raise'
        ? decision.verdict.reasons.join('; ')
        : '';
  const transition: Transition | null =
    decision.action === 'none' ? null : { key: check.key, name: check.name, action: decision.action, detail };
  // Delivery takes each outbox row under FOR UPDATE SKIP LOCKED, so checks delivering at once never send twice.
  const delivery = outcome.queued ? await deliver(deps, now) : { sent: 0, failed: 0 };
  return { sample, state: outcome.state, transition, delivery };
}

export async function runCycle(
  definition: MonitorDefinition,
  deps: MonitorDeps,
  /** `signal` stops the cycle (the monitor is shutting down): probes in flight are abandoned, not stored. */
  options: { signal?: AbortSignal } = {},
): Promise<CycleResult> {
  const now = (deps.now ?? (() => new Date()))();
  const tickMs = deps.intervalSeconds * 1000;
  const lastProbed = await deps.store.lastSampleTimes(definition.checks.map((check) => check.key));
  // A check with its own interval is due once that much has passed since its last probe, give or take half a
  // tick, so that a schedule's jitter neither skips nor doubles a probe.
  const checks = definition.checks.filter((check) => {
    const last = lastProbed.get(check.key);
    return (
      check.intervalSeconds === undefined ||
      last === undefined ||
      now.getTime() - last.getTime() >= check.intervalSeconds * 1000 - tickMs / 2
    );
  });
  const heartbeats = await deps.store.syncHeartbeats(
    definition.checks.flatMap((check) =>
      check.kind === 'heartbeat' ? [{ name: check.key, tokenSha256: check.tokenSha256 }] : [],
    ),
    now,
  );
  // Before any window is read: a bound not registered yet is counted from the samples, correct but slower.
  await deps.store
    .registerLatencyBounds(
      definition.checks.map((check) => check.key),
      definition.checks.flatMap((check) =>
        check.slo?.latencyMs === undefined ? [] : [{ key: check.key, boundMs: check.slo.latencyMs }],
      ),
    )
    .then((changed) => {
      if (changed.busy) deps.logger.info('latency bounds wait for a moment without writers of samples');
      else if (changed.registered + changed.dropped > 0)
        deps.logger.info('latency bounds registered', changed);
    })
    .catch((error: unknown) =>
      deps.logger.warn('latency bounds not registered; their windows count the samples', { error }),
    );
  const loadTestHosts = deps.loadTestHosts ? await deps.loadTestHosts().catch(() => []) : [];
  const running = new Map<string, Promise<CheckOutcome>>();
  const start = (check: CheckDefinition): Promise<CheckOutcome> => {
    const started = running.get(check.name);
    if (started) return started;
    // The definition has no dependency cycle, so this ends; a dependency not due this cycle is read from the store.
    const dependencies = check.dependsOn.flatMap((name) => {
      const dependency = checks.find((item) => item.name === name);
      return dependency ? [start(dependency)] : [];
    });
    const outcome = runCheck(check, {
      deps,
      definition,
      now,
      maintenance: maintenanceReason(check, definition, loadTestHosts, now),
      dependencies: Promise.allSettled(dependencies),
      heartbeat: heartbeats.get(check.key),
      signal: options.signal,
    });
    running.set(check.name, outcome);
    return outcome;
  };
  const settled = await Promise.allSettled(checks.map(start));
  // Every check has ended, one way or the other, before the cycle reports a failure: none is left running.
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
  const outcomes = settled.map((result) => (result as PromiseFulfilledResult<CheckOutcome>).value);
  const samples = outcomes.map((outcome) => outcome.sample);
  const transitions = outcomes.flatMap((outcome) => (outcome.transition ? [outcome.transition] : []));
  const states = Object.fromEntries(outcomes.map((outcome) => [outcome.sample.key, outcome.state] as const));

  // What is still waiting, earlier cycles' failed publishes included; not again right after a publish failed in
  // this cycle, when SNS is probably down for all of them.
  const final = outcomes.some((outcome) => outcome.delivery.error !== undefined)
    ? { sent: 0, failed: 0 }
    : await deliver(deps, now);
  const deliveries = [final, ...outcomes.map((outcome) => outcome.delivery)];
  const error = deliveries.find((delivery) => delivery.error !== undefined)?.error;
  const delivered: Delivery = {
    sent: deliveries.reduce((sum, delivery) => sum + delivery.sent, 0),
    failed: deliveries.reduce((sum, delivery) => sum + delivery.failed, 0),
    ...(error === undefined ? {} : { error }),
  };
  if (delivered.error)
    deps.logger.warn('alert delivery failed; it stays in the outbox for the next cycle', {
      error: delivered.error,
    });
  const pending = await deps.store.pendingCount();

  let metrics: CycleResult['metrics'] = 'not configured';
  if (deps.metrics) {
    try {
      await deps.metrics.put(metricsFor(samples, checks, deps.dimensions, now));
      metrics = 'sent';
    } catch (error) {
      deps.logger.warn('metrics not sent', { error });
      metrics = 'failed';
    }
  }
  await deps.store
    .prune(
      sampleRetentionDays(
        deps.retentionDays,
        definition.checks.map((check) => check.slo),
      ),
      now,
    )
    .then((pruned) => {
      if (pruned.deleted > 0) deps.logger.info('expired samples pruned', { ...pruned });
    })
    .catch((error: unknown) => deps.logger.warn('sample pruning failed', { error }));
  return {
    at: now,
    samples,
    transitions,
    states,
    delivery: { ...delivered, pending },
    metrics,
    memoryBytes: process.memoryUsage().rss,
  };
}
