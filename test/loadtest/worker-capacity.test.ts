import { describe, expect, it } from 'vitest';
import {
  CPU_HEADROOM,
  ENGINE_COST,
  MAX_CONNECTIONS_PER_WORKER,
  MIN_RATE_PER_WORKER,
  minimumWorkerMemoryMb,
  RESPONSE_TIME_ALLOWANCE_SECONDS,
  vcpusAt,
  workerLoadFor,
} from '../../lib/loadtest/worker-capacity.ts';

/** 100 µs a request and nothing fixed: 10,000 requests per CPU-second. */
const SLOW_ENGINE = { cpuMicrosPerRequest: 100, fixedCpuShare: 0 };

describe('vcpusAt', () => {
  it('gives one vCPU per 1,769 MB and at most 6', () => {
    expect(vcpusAt(1769)).toBe(1);
    expect(vcpusAt(884.5)).toBe(0.5);
    expect(vcpusAt(10_240)).toBeCloseTo(5.789, 3);
    expect(vcpusAt(20_000)).toBe(6);
  });
});

describe('workerLoadFor', () => {
  it('is bound by the CPU share when the engine is slow', () => {
    // Half a vCPU at the headroom is 0.25 s of CPU a second: 2,500 requests of 100 µs.
    expect(workerLoadFor(884.5, SLOW_ENGINE)).toEqual({
      ratePerWorker: 10_000 * 0.5 * CPU_HEADROOM,
      usersPerWorker: 125,
      rateBoundBy: 'CPU',
    });
  });

  it("takes the engine's fixed share off the CPU budget before counting requests", () => {
    const withFixed = workerLoadFor(884.5, { cpuMicrosPerRequest: 100, fixedCpuShare: 0.05 });
    expect(withFixed.ratePerWorker).toBe(2000);
  });

  it('is bound by the connections a worker may hold when the CPU allows more', () => {
    const load = workerLoadFor(1769, { cpuMicrosPerRequest: 1, fixedCpuShare: 0 });
    expect(load.rateBoundBy).toBe('connections');
    expect(load.ratePerWorker).toBe(MAX_CONNECTIONS_PER_WORKER / RESPONSE_TIME_ALLOWANCE_SECONDS);
    expect(load.usersPerWorker).toBe(MAX_CONNECTIONS_PER_WORKER);
  });

  it('counts no more than one vCPU, as the engine runs on one event loop', () => {
    const slower = { cpuMicrosPerRequest: 250, fixedCpuShare: 0 };
    expect(workerLoadFor(10_240, slower)).toEqual(workerLoadFor(1769, slower));
    expect(workerLoadFor(1769, slower).ratePerWorker).toBe(4000 * CPU_HEADROOM);
  });

  it('grows with memory below one vCPU', () => {
    const small = workerLoadFor(256, SLOW_ENGINE);
    const large = workerLoadFor(1024, SLOW_ENGINE);
    expect(small.ratePerWorker).toBeLessThan(large.ratePerWorker);
    expect(small.usersPerWorker).toBeLessThan(large.usersPerWorker);
  });

  it('keeps every worker at 512 connections or fewer, well under 1,024 file descriptors', () => {
    for (const memoryMb of [128, 512, 1024, 1769, 4096, 10_240]) {
      const load = workerLoadFor(memoryMb);
      expect(load.usersPerWorker).toBeLessThanOrEqual(MAX_CONNECTIONS_PER_WORKER);
      expect(load.ratePerWorker * RESPONSE_TIME_ALLOWANCE_SECONDS).toBeLessThanOrEqual(
        MAX_CONNECTIONS_PER_WORKER,
      );
    }
  });

  it('uses the recorded measurement by default', () => {
    expect(workerLoadFor(512)).toEqual(workerLoadFor(512, ENGINE_COST));
  });
});

describe('minimumWorkerMemoryMb', () => {
  it('is the smallest memory whose CPU bound reaches the minimum rate', () => {
    const floor = minimumWorkerMemoryMb();
    expect(workerLoadFor(floor).ratePerWorker).toBeGreaterThanOrEqual(MIN_RATE_PER_WORKER);
    expect(workerLoadFor(floor - 2).ratePerWorker).toBeLessThan(MIN_RATE_PER_WORKER);
  });
});
