import { readFile } from 'node:fs/promises';
import type { X509Certificate } from '../../crypto/x509/x509.js';
import type { TrustDomain } from '../spiffeid/trust-domain.js';
import { certificatesToPem } from '../../crypto/x509/pem.js';
import { certDer, certsToDer, parseCertificates } from '../internal/certs.js';
import { NOT_TRUSTED, SpiffeError } from '../errors.js';
import { BundleError } from './errors.js';

/** Anything that can hand out the X.509 bundle of a trust domain: a file, a set, the Workload API. */
export interface X509BundleSource {
  /** Throws BundleError `NOT_FOUND` when the source has no bundle for `td`. */
  getX509BundleForTrustDomain(td: TrustDomain): X509Bundle;
}

/**
 * The X.509 authorities (root CA certificates) of one trust domain. Immutable.
 *
 * @example
 * const bundle = X509Bundle.parse(TrustDomain.parse('example.org'), await readFile('bundle.pem'));
 */
export class X509Bundle implements X509BundleSource {
  readonly authorities: readonly X509Certificate[];

  private constructor(
    readonly trustDomain: TrustDomain,
    authorities: readonly X509Certificate[],
  ) {
    this.authorities = Object.freeze([...authorities]);
  }

  static fromAuthorities(td: TrustDomain, authorities: readonly X509Certificate[]): X509Bundle {
    return new X509Bundle(td, authorities);
  }

  /** PEM text or concatenated DER; empty input is a bundle with no authorities. */
  static parse(td: TrustDomain, data: Uint8Array | string): X509Bundle {
    if (data.length === 0) return new X509Bundle(td, []);
    return new X509Bundle(td, parseCertificates(data, 'x509bundle'));
  }

  static async load(td: TrustDomain, path: string): Promise<X509Bundle> {
    try {
      return X509Bundle.parse(td, await readFile(path));
    } catch (e) {
      throw e instanceof SpiffeError ? e.inFile(path) : e;
    }
  }

  hasAuthority(cert: X509Certificate): boolean {
    const der = certDer(cert);
    return this.authorities.some((a) => certDer(a).equals(der));
  }

  withAuthorities(authorities: readonly X509Certificate[]): X509Bundle {
    return new X509Bundle(this.trustDomain, authorities);
  }

  /** PEM, one CERTIFICATE block per authority. */
  marshal(): string {
    return certificatesToPem(this.authorities);
  }

  /** Concatenated DER, as the Workload API carries bundles. */
  marshalDer(): Buffer {
    return certsToDer(this.authorities);
  }

  equals(other: X509Bundle): boolean {
    return this.trustDomain.equals(other.trustDomain) && this.marshalDer().equals(other.marshalDer());
  }

  getX509BundleForTrustDomain(td: TrustDomain): X509Bundle {
    if (!td.equals(this.trustDomain)) {
      throw new BundleError('x509bundle', 'NOT_FOUND', `no X.509 bundle for trust domain "${td}"`, { code: NOT_TRUSTED });
    }
    return this;
  }
}
