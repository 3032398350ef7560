import { validateTrustDomainName } from './validate.js';
import { SpiffeId } from './spiffe-id.js';

/**
 * A trust domain name (`example.org`), valid by construction (SPIFFE-ID §2.1).
 *
 * @example
 * const td = TrustDomain.parse('example.org'); // or TrustDomain.parse('spiffe://example.org/any/path')
 * td.idString(); // 'spiffe://example.org'
 */
export class TrustDomain {
  private constructor(readonly name: string) {}

  /** Accepts a bare name or any SPIFFE ID (whose trust domain is taken). Throws SpiffeIdError. */
  static parse(nameOrId: string): TrustDomain {
    if (nameOrId.includes(':/')) return SpiffeId.parse(nameOrId).trustDomain;
    validateTrustDomainName(nameOrId);
    return new TrustDomain(nameOrId);
  }

  /** For SpiffeId, which has validated the name already. */
  static fromValidatedName(name: string): TrustDomain {
    return new TrustDomain(name);
  }

  /** `spiffe://<name>`: the key of bundle maps in the Workload API and the trust domain's own ID. */
  idString(): string {
    return `spiffe://${this.name}`;
  }

  id(): SpiffeId {
    return SpiffeId.fromPath(this, '');
  }

  equals(other: TrustDomain): boolean {
    return this.name === other.name;
  }

  toString(): string {
    return this.name;
  }

  toJSON(): string {
    return this.name;
  }
}
