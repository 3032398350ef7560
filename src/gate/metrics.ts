import { Counter, Histogram, Registry } from 'prom-client';
import type { GateObserver, GateVerdict } from './gate.js';

/**
 * The gate's Prometheus metrics (`GET /metrics`), in a registry of its own (not the process-wide default,
 * so two gates in one process, as in tests, do not share counters).
 */
export class GateMetrics implements GateObserver {
  readonly registry = new Registry();
  private readonly verdicts = new Counter({
    name: 'evident_gate_verdicts_total',
    help: 'Verdicts given, by outcome (allowed, refused) and basis (verified, cached, stale, fail-open, unreachable, none)',
    labelNames: ['outcome', 'basis'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'evident_gate_decision_seconds',
    help: 'Time to decide one image, cache hits included',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly cacheLookups = new Counter({
    name: 'evident_gate_cache_total',
    help: 'Verdict cache lookups: hit (fresh verdict), miss (verified), stale (cached verdict used while the store is unreachable)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly storeErrors = new Counter({
    name: 'evident_gate_store_errors_total',
    help: 'Verifications that could not fetch the evidence from the store',
    registers: [this.registry],
  });
  readonly requests = new Counter({
    name: 'evident_gate_requests_total',
    help: 'Requests by endpoint and HTTP status',
    labelNames: ['endpoint', 'status'] as const,
    registers: [this.registry],
  });

  decided(verdict: GateVerdict, seconds: number): void {
    this.verdicts.inc({ outcome: verdict.allowed ? 'allowed' : 'refused', basis: verdict.basis });
    this.latency.observe(seconds);
  }

  cache(result: 'hit' | 'miss' | 'stale'): void {
    this.cacheLookups.inc({ result });
  }

  storeError(): void {
    this.storeErrors.inc();
  }
}
