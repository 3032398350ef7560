import type { TrustDomain } from '../spiffeid/trust-domain.js';
import { NOT_TRUSTED } from '../errors.js';
import { BundleError } from './errors.js';
import type { JwtBundle, JwtBundleSource } from './jwt-bundle.js';
import type { X509Bundle, X509BundleSource } from './x509-bundle.js';

interface HasTrustDomain {
  readonly trustDomain: TrustDomain;
}

/** Bundles keyed by trust domain name; a later bundle for the same trust domain replaces an earlier one. */
abstract class BundleSet<B extends HasTrustDomain> {
  protected readonly byName: ReadonlyMap<string, B>;

  protected constructor(bundles: Iterable<B>) {
    this.byName = new Map([...bundles].map((b) => [b.trustDomain.name, b]));
  }

  get(td: TrustDomain): B | undefined {
    return this.byName.get(td.name);
  }

  has(td: TrustDomain): boolean {
    return this.byName.has(td.name);
  }

  bundles(): B[] {
    return [...this.byName.values()].sort((a, b) => a.trustDomain.name.localeCompare(b.trustDomain.name));
  }

  get size(): number {
    return this.byName.size;
  }
}

/** X.509 bundles of several trust domains (own and federated). Immutable. */
export class X509BundleSet extends BundleSet<X509Bundle> implements X509BundleSource {
  static of(bundles: Iterable<X509Bundle>): X509BundleSet {
    return new X509BundleSet(bundles);
  }

  with(bundle: X509Bundle): X509BundleSet {
    return new X509BundleSet([...this.byName.values(), bundle]);
  }

  getX509BundleForTrustDomain(td: TrustDomain): X509Bundle {
    const b = this.get(td);
    if (b === undefined)
      throw new BundleError('x509bundle', 'NOT_FOUND', `no X.509 bundle for trust domain "${td}"`, { code: NOT_TRUSTED });
    return b;
  }
}

/** JWT bundles of several trust domains. Immutable. */
export class JwtBundleSet extends BundleSet<JwtBundle> implements JwtBundleSource {
  static of(bundles: Iterable<JwtBundle>): JwtBundleSet {
    return new JwtBundleSet(bundles);
  }

  with(bundle: JwtBundle): JwtBundleSet {
    return new JwtBundleSet([...this.byName.values(), bundle]);
  }

  getJwtBundleForTrustDomain(td: TrustDomain): JwtBundle {
    const b = this.get(td);
    if (b === undefined) throw new BundleError('jwtbundle', 'NOT_FOUND', `no JWT bundle for trust domain "${td}"`, { code: NOT_TRUSTED });
    return b;
  }
}
