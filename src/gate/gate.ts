import { EvidentError } from '../errors.js';
import type { EvidenceReader } from '../store/chain.js';
import type { StoreDigest } from '../store/digest.js';
import { verifyProduct } from '../store/verify-product.js';
import type { Check, VerificationReport } from '../intoto/verify/types.js';
import { inspectionsOf, PolicyMatcher, type GatePolicy } from './policy.js';
import { VerdictCache } from './verdict-cache.js';

/** What the gate is asked about: an image reference (admission-review's ImageReference fits), or a bare digest (no name). */
export interface GateImage {
  /** As given, for messages. */
  readonly text: string;
  /** The repository name; undefined or empty for a bare `sha256:HEX`. */
  readonly name?: string;
  readonly digest?: StoreDigest;
}

/**
 * How a verdict was reached: verified now, a fresh cached verdict, a cached one used in a store outage,
 * --fail-open, refused because the store could not be asked (and no cached verdict could stand in), or
 * refused before the store was asked (no policy applies, not pinned by digest).
 */
export type VerdictBasis = 'verified' | 'cached' | 'stale' | 'fail-open' | 'unreachable' | 'none';

export interface GateVerdict {
  readonly allowed: boolean;
  /** The policy that decided (its name: the layout file, or `name` in the policy file); null when none applies. */
  readonly layout: string | null;
  /** Every failed check, one line each; empty when allowed. */
  readonly reasons: readonly string[];
  /** What an operator should know about an admission: a verdict used while the store is unreachable, --fail-open. */
  readonly warnings: readonly string[];
  /** The layout's inspections, not run (a gate runs no commands; the policy says skipInspections). */
  readonly skippedInspections: readonly string[];
  readonly basis: VerdictBasis;
}

/** What the gate tells its metrics (metrics.ts) about each decision. */
export interface GateObserver {
  decided(verdict: GateVerdict, seconds: number): void;
  cache(result: 'hit' | 'miss' | 'stale'): void;
  storeError(): void;
}

export interface GateOptions {
  /** In order: the first that applies decides. */
  readonly policies: readonly GatePolicy[];
  /** Where the evidence is: a StoreClient. */
  readonly store: EvidenceReader;
  /** How long an allowed verdict is given without asking the store again (default 5 minutes). */
  readonly cacheTtlMs?: number;
  /** How long a refused one is (default 10 s: evidence may arrive that changes it). */
  readonly refusedTtlMs?: number;
  /** How long after its verification an allowed verdict may admit while the store cannot be reached (default 24 h; never past the layout's expiry). */
  readonly staleMaxMs?: number;
  /** Admit what cannot be verified because the store cannot be reached (default: refuse, fail closed). */
  readonly failOpen?: boolean;
  /** Most links fetched per verification (the store client's default otherwise). */
  readonly maxLinks?: number;
  readonly observer?: GateObserver;
  readonly log?: (line: string) => void;
  /** The clock of the cache (epoch ms); tests move it. Verification itself checks expiry against the real time. */
  readonly now?: () => number;
}

export const DEFAULT_CACHE_TTL_MS = 5 * 60_000;
export const DEFAULT_REFUSED_TTL_MS = 10_000;
export const DEFAULT_STALE_MAX_MS = 24 * 3600_000;

/**
 * The deployment gate's decision (docs/gate.md): may this digest run here? The first policy whose
 * namespaces and image patterns match decides; the image must be pinned by digest; the chain for that
 * digest is fetched from the evidence store and verified against the policy's layout, without running
 * inspections. Verdicts are cached per (policy, digest); while the store cannot be reached, an allowed
 * verdict keeps admitting until the evidence's validity (the layout's expiry, at most staleMaxMs after
 * the verification) ends, and anything else is refused unless failOpen.
 */
export class Gate {
  private readonly matchers: readonly PolicyMatcher[];
  private readonly cache = new VerdictCache<{ verdict: GateVerdict; at: number }>();
  private readonly now: () => number;
  private readonly cacheTtlMs: number;
  private readonly refusedTtlMs: number;
  private readonly staleMaxMs: number;

  constructor(private readonly options: GateOptions) {
    this.matchers = options.policies.map((p) => new PolicyMatcher(p));
    this.now = options.now ?? Date.now;
    this.cacheTtlMs = options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
    this.refusedTtlMs = options.refusedTtlMs ?? DEFAULT_REFUSED_TTL_MS;
    this.staleMaxMs = options.staleMaxMs ?? DEFAULT_STALE_MAX_MS;
    if (options.failOpen === true) {
      options.log?.('WARNING: --fail-open: images whose evidence cannot be fetched (store unreachable) are ADMITTED unverified');
    }
  }

  get policies(): readonly GatePolicy[] {
    return this.options.policies;
  }

  async decide(image: GateImage, context: { readonly namespace?: string } = {}): Promise<GateVerdict> {
    const started = process.hrtime.bigint();
    const verdict = await this.verdictFor(image, context.namespace);
    this.options.observer?.decided(verdict, Number(process.hrtime.bigint() - started) / 1e9);
    return verdict;
  }

  private async verdictFor(image: GateImage, namespace: string | undefined): Promise<GateVerdict> {
    const name = image.name === '' ? undefined : image.name;
    const index = this.matchers.findIndex((m) => m.applies(name, namespace));
    if (index < 0) {
      const where = namespace === undefined ? 'without a namespace' : `in namespace ${namespace}`;
      return refused(null, [`no policy applies to ${image.text} ${where}: refused`], 'none');
    }
    const policy = this.matchers[index]!.policy;
    if (image.digest === undefined) {
      return refused(
        policy.name,
        [`${image.text} is not pinned by digest: give it as NAME@sha256:HEX (a tag can be moved to other content)`],
        'none',
      );
    }
    const digest = image.digest;
    const key = `${index}\0${digest}`;
    const entry = this.cache.get(key);
    if (entry !== undefined && this.now() < entry.freshUntil) {
      this.options.observer?.cache('hit');
      return { ...entry.verdict.verdict, basis: 'cached' };
    }
    this.options.observer?.cache('miss');
    return this.cache.shared(key, () => this.verify(key, policy, digest)).then((r) => r.verdict);
  }

  /** Verifies and caches; a store that cannot answer leaves the cache as it was. */
  private async verify(key: string, policy: GatePolicy, digest: StoreDigest): Promise<{ verdict: GateVerdict; at: number }> {
    const at = this.now();
    let report: VerificationReport | undefined;
    let problem: string | undefined;
    try {
      ({ report } = await verifyProduct(this.options.store, policy, digest, {
        runInspections: false,
        ...(this.options.maxLinks !== undefined ? { maxLinks: this.options.maxLinks } : {}),
      }));
    } catch (e) {
      // the store did not answer (ENVIRONMENT): the cache may still speak; anything else (more links than
      // the limit, evidence the store answered with that is not what was asked) is a refusal like a failed check
      if (!(e instanceof EvidentError) || e.code === 'ENVIRONMENT') return { verdict: this.unreachable(key, policy, digest, e), at };
      problem = `${digest} could not be verified: ${e.message}`;
    }
    const allowed = report?.ok === true;
    const verdict: GateVerdict = {
      allowed,
      layout: policy.name,
      reasons: allowed ? [] : report !== undefined ? reasonsOf(report) : [problem!],
      warnings: [],
      skippedInspections: inspectionsOf(policy.layout),
      basis: 'verified',
    };
    const expires = Date.parse(policy.layout.expires);
    const bound = (t: number) => (Number.isFinite(expires) ? Math.min(t, expires) : t);
    this.cache.prune(at);
    this.cache.set(key, {
      verdict: { verdict, at },
      allowed,
      freshUntil: allowed ? bound(at + this.cacheTtlMs) : at + this.refusedTtlMs,
      staleUntil: allowed ? bound(at + this.staleMaxMs) : 0,
    });
    return { verdict, at };
  }

  /** The store could not answer: a cached allowed verdict still valid admits; otherwise refused (or admitted with --fail-open). */
  private unreachable(key: string, policy: GatePolicy, digest: StoreDigest, e: unknown): GateVerdict {
    this.options.observer?.storeError();
    const why = e instanceof Error ? e.message : String(e);
    const now = this.now();
    const entry = this.cache.get(key);
    if (entry !== undefined && entry.allowed && now < entry.staleUntil) {
      this.options.observer?.cache('stale');
      const since = new Date(entry.verdict.at).toISOString();
      const until = new Date(entry.staleUntil).toISOString();
      return {
        ...entry.verdict.verdict,
        warnings: [`the evidence store could not be asked (${why}); admitted on the verdict verified at ${since}, usable until ${until}`],
        basis: 'stale',
      };
    }
    const reason = `the evidence store cannot be reached, so ${digest} could not be verified (${why})`;
    if (this.options.failOpen === true) {
      this.options.log?.(`WARNING: --fail-open: admitting ${digest} unverified: ${reason}`);
      return {
        allowed: true,
        layout: policy.name,
        reasons: [],
        warnings: [`${reason}; admitted unverified because the gate runs with --fail-open`],
        skippedInspections: inspectionsOf(policy.layout),
        basis: 'fail-open',
      };
    }
    const expired = entry !== undefined && entry.allowed ? "; its cached verdict is past the evidence's validity" : '';
    return refused(policy.name, [`${reason}${expired}: refused (the gate fails closed)`], 'unreachable');
  }
}

function refused(layout: string | null, reasons: string[], basis: VerdictBasis): GateVerdict {
  return { allowed: false, layout, reasons, warnings: [], skippedInspections: [], basis };
}

/** Each failed check of the report as one line: `step: message`. */
function reasonsOf(report: VerificationReport): string[] {
  const failed = (c: Check) => !c.ok && c.skipped !== true && c.warning !== true;
  const checks = report.checks.some(failed) ? report.checks.filter(failed) : report.checks.filter((c) => !c.ok);
  const lines = checks.map((c) => (c.step !== undefined ? `${c.step}: ${c.message}` : c.message));
  return lines.length > 0 ? lines : ['verification failed'];
}
