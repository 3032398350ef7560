import { createPublicKey, randomUUID, webcrypto } from 'node:crypto';
import { SignJWT } from 'jose';
import { EvidentError, badInput } from '../../../errors.js';
import type { X509Certificate } from '../../../crypto/x509/x509.js';
import { certificatesToPem, parseCertificateDer, pemCertificates } from '../../../crypto/x509/index.js';
import { SpiffeId, TrustDomain } from '../../../spiffe/spiffeid/index.js';
import { BACKDATE_MS } from '../../../spiffe/x509svid/index.js';
import type { Clock } from '../../../util/clock.js';
import type { CaKey, CaKeyKind, Datastore } from '../datastore/index.js';
import type { TrustBundle } from './bundle.js';
import { generateSigningKey, keyIdOf, loadSigningKey, type CaKeyType, type SigningKey } from './keys.js';
import { rotationStep } from './rotation.js';
import type { UpstreamCa } from './upstream.js';
import { createCaCert, LeafSigner } from './x509.js';

/** How far back NotBefore goes, so a peer whose clock is a little behind accepts a fresh cert. */

export interface CaOptions {
  trustDomain: string;
  datastore: Datastore;
  clock: Clock;
  /** Lifetimes in seconds. */
  caTtl: number;
  x509SvidTtl: number;
  jwtSvidTtl: number;
  keyType: CaKeyType;
  upstream?: UpstreamCa;
}

interface LoadedX509 {
  record: CaKey;
  key: SigningKey;
  cert: X509Certificate;
  /** The CA cert and any upstream intermediates, DER, as they follow a leaf. */
  chain: Buffer[];
  signer: LeafSigner;
}

interface LoadedJwt {
  record: CaKey;
  key: SigningKey;
  kid: string;
  jwk: Record<string, unknown>;
}

export interface IssuedX509Svid {
  spiffeId: SpiffeId;
  /** Leaf first, then the CA and any upstream intermediates. */
  chain: Buffer[];
  serial: string;
  notAfter: number;
}

export interface IssuedJwtSvid {
  token: string;
  expiresAt: number;
}

/**
 * The server's CA: X.509 and JWT signing keys kept in the datastore, rotated with overlap
 * (see rotation.ts), signing SVIDs with the active keys. Several servers sharing one PostgreSQL
 * datastore share the keys; `rotate()` re-reads them so each sees what the others did.
 */
export class CaManager {
  private x509: LoadedX509[] = [];
  private jwt: LoadedJwt[] = [];
  private readonly listeners: (() => void)[] = [];
  private sequence = 0;

  private readonly td: TrustDomain;

  private constructor(private readonly opts: CaOptions) {
    this.td = TrustDomain.parse(opts.trustDomain);
  }

  static async open(opts: CaOptions): Promise<CaManager> {
    if (opts.caTtl <= opts.x509SvidTtl) {
      throw badInput(`CA TTL (${opts.caTtl}s) must be longer than the X509-SVID TTL (${opts.x509SvidTtl}s)`);
    }
    const ca = new CaManager(opts);
    await ca.rotate();
    return ca;
  }

  get trustDomain(): string {
    return this.opts.trustDomain;
  }

  get defaults(): { x509SvidTtl: number; jwtSvidTtl: number } {
    return { x509SvidTtl: this.opts.x509SvidTtl, jwtSvidTtl: this.opts.jwtSvidTtl };
  }

  /** Called after the set of published keys changed (a key prepared, activated, or dropped). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * One rotation step at the clock's now, for both kinds of key; returns whether the published keys
   * changed. Safe to call often (the server calls it on a timer) and from several servers at once.
   */
  async rotate(): Promise<boolean> {
    const ds = this.opts.datastore;
    const now = this.opts.clock.now();
    await ds.caKeys.prune(now + 1); // a key whose NotAfter is now is already unusable
    for (const kind of ['x509', 'jwt'] as const) {
      for (let attempt = 0; attempt < 3; attempt++) {
        const step = rotationStep(await ds.caKeys.list(kind), now);
        if (step.action === 'none') break;
        if (step.action === 'activate') await ds.caKeys.activate(kind, step.id);
        else await ds.caKeys.create(await this.newKey(kind, step.action === 'create-active' ? 'active' : 'prepared', now));
        // a create that lost a race to another server returns undefined: the next pass sees its key
      }
    }
    const before = this.fingerprint();
    await this.load();
    const changed = before !== this.fingerprint();
    if (changed) {
      const stored = await ds.bundles.update(this.opts.trustDomain, JSON.stringify(this.bundleKeys()), now);
      this.sequence = stored.sequence;
      for (const l of this.listeners) l();
    } else if (this.sequence === 0) {
      this.sequence = (await ds.bundles.fetch(this.opts.trustDomain))?.sequence ?? 0;
    }
    return changed;
  }

  private fingerprint(): string {
    return [...this.x509, ...this.jwt].map((k) => `${k.record.id}:${k.record.status}`).join(',');
  }

  private bundleKeys(): { x509: string[]; jwt: string[] } {
    return { x509: this.bundle().x509Authorities.map((d) => d.toString('base64')), jwt: this.jwt.map((k) => k.kid) };
  }

  private async newKey(kind: CaKeyKind, status: 'active' | 'prepared', now: number): Promise<CaKey> {
    const up = this.opts.upstream;
    const notBefore = now - BACKDATE_MS;
    let notAfter = now + this.opts.caTtl * 1000;
    if (up) notAfter = Math.min(notAfter, up.cert.notAfter.getTime());
    if (notAfter <= now) throw new EvidentError('ENVIRONMENT', 'upstream CA certificate has expired');
    const key = await generateSigningKey(kind === 'jwt' ? 'ec-p256' : this.opts.keyType);
    const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', key.publicKey));
    const jwk = createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'jwk' }) as Record<string, unknown>;
    let certPem = '';
    if (kind === 'x509') {
      const cert = await createCaCert({
        trustDomain: this.opts.trustDomain,
        key,
        notBefore: new Date(notBefore),
        notAfter: new Date(notAfter),
        ...(up ? { upstream: { cert: up.cert, key: up.key } } : {}),
      });
      certPem = certificatesToPem([cert, ...(up?.chain ?? [])]);
    }
    return {
      id: randomUUID(),
      kind,
      status,
      notBefore,
      notAfter,
      certPem,
      privateKeyPem: key.pkcs8Pem,
      publicJwk: JSON.stringify(kind === 'jwt' ? { ...jwk, kid: keyIdOf(spki) } : jwk),
      createdAt: now,
    };
  }

  /** Refreshes the loaded keys from the datastore, parsing only keys not seen before. */
  private async load(): Promise<void> {
    const now = this.opts.clock.now();
    const rows = (await this.opts.datastore.caKeys.list()).filter((k) => k.notAfter > now);
    const oldX = new Map(this.x509.map((k) => [k.record.id, k]));
    const oldJ = new Map(this.jwt.map((k) => [k.record.id, k]));
    const x: LoadedX509[] = [];
    const j: LoadedJwt[] = [];
    for (const r of rows) {
      if (r.kind === 'x509') {
        const prev = oldX.get(r.id);
        if (prev) {
          x.push({ ...prev, record: r });
          continue;
        }
        const chain = pemCertificates(r.certPem);
        const cert = parseCertificateDer(chain[0]!);
        const key = await loadSigningKey(r.privateKeyPem);
        x.push({ record: r, key, cert, chain, signer: LeafSigner.forCa(cert, key) });
      } else {
        const prev = oldJ.get(r.id);
        if (prev) {
          j.push({ ...prev, record: r });
          continue;
        }
        const { kid, ...jwk } = JSON.parse(r.publicJwk) as Record<string, unknown> & { kid: string };
        j.push({ record: r, key: await loadSigningKey(r.privateKeyPem), kid, jwk });
      }
    }
    this.x509 = x;
    this.jwt = j;
  }

  private activeX509(): LoadedX509 {
    const a = this.x509.find((k) => k.record.status === 'active');
    if (!a) throw new EvidentError('INTERNAL', 'ca: no active X.509 CA (rotation has not run)');
    return a;
  }

  /** The X.509 CA certs the server knows (active first), for verifying agents' client certs. */
  caCertificates(): X509Certificate[] {
    const order = { active: 0, prepared: 1, old: 2 } as const;
    return [...this.x509].sort((a, b) => order[a.record.status] - order[b.record.status]).map((k) => k.cert);
  }

  /** Status and lifetime of every published key (for `bundle show --json` and tests). */
  keys(): { id: string; kind: CaKeyKind; status: CaKey['status']; notBefore: number; notAfter: number; kid?: string }[] {
    return [
      ...this.x509.map((k) => ({
        id: k.record.id,
        kind: k.record.kind,
        status: k.record.status,
        notBefore: k.record.notBefore,
        notAfter: k.record.notAfter,
      })),
      ...this.jwt.map((k) => ({
        id: k.record.id,
        kind: k.record.kind,
        status: k.record.status,
        notBefore: k.record.notBefore,
        notAfter: k.record.notAfter,
        kid: k.kid,
      })),
    ];
  }

  /** The trust bundle: every unexpired CA (prepared, active, old) or the upstream roots, and JWT keys. */
  bundle(): TrustBundle {
    const x509Authorities = this.opts.upstream ? this.opts.upstream.roots : this.caCertificates().map((c) => Buffer.from(c.rawData));
    return {
      trustDomain: this.opts.trustDomain,
      x509Authorities,
      jwtAuthorities: this.jwt.map((k) => ({ kid: k.kid, jwk: k.jwk, expiresAt: k.record.notAfter })),
      sequence: this.sequence,
      refreshHint: Math.max(60, Math.floor(this.opts.caTtl / 12)),
    };
  }

  /**
   * Signs an X.509-SVID for `spiffeId` (of this trust domain) over the public key (SPKI DER). TTL in
   * seconds (0: the default); NotBefore a few seconds back, NotAfter never past the CA's.
   */
  async signX509Svid(
    spiffeId: SpiffeId | string,
    publicKeySpki: Uint8Array,
    ttl = 0,
    dnsNames: readonly string[] = [],
  ): Promise<IssuedX509Svid> {
    const id = this.ownId(spiffeId);
    const ca = this.activeX509();
    const now = this.opts.clock.now();
    const notAfter = Math.min(now + (ttl > 0 ? ttl : this.opts.x509SvidTtl) * 1000, ca.record.notAfter);
    let leaf: { der: Buffer; serial: string };
    try {
      leaf = ca.signer.sign({ spiffeId: id, publicKey: publicKeySpki, dnsNames, now: new Date(now), notAfter: new Date(notAfter) });
    } catch (e) {
      throw badInput(`ca: cannot sign for this public key: ${(e as Error).message}`);
    }
    return { spiffeId: id, chain: [leaf.der, ...ca.chain], serial: leaf.serial, notAfter: Math.floor(notAfter / 1000) * 1000 };
  }

  /** A SPIFFE ID this CA may sign for: a SpiffeId, or a string parsed as one, in its trust domain. */
  private ownId(spiffeId: SpiffeId | string): SpiffeId {
    let id: SpiffeId;
    try {
      id = typeof spiffeId === 'string' ? SpiffeId.parse(spiffeId) : spiffeId;
    } catch (e) {
      throw badInput(`ca: cannot sign for '${spiffeId}': ${(e as Error).message}`);
    }
    if (!id.memberOf(this.td)) throw badInput(`ca: ${id} is not in trust domain ${this.td}`);
    return id;
  }

  /** Signs a JWT-SVID with the active JWT key (ES256, `kid` header, `typ: JWT`). */
  async signJwtSvid(spiffeId: SpiffeId | string, audience: string[], ttl = 0): Promise<IssuedJwtSvid> {
    const id = this.ownId(spiffeId);
    if (audience.length === 0) throw badInput('ca: a JWT-SVID needs at least one audience');
    const k = this.jwt.find((x) => x.record.status === 'active');
    if (!k) throw new EvidentError('INTERNAL', 'ca: no active JWT key (rotation has not run)');
    const now = this.opts.clock.now();
    const exp = Math.floor(Math.min(now + (ttl > 0 ? ttl : this.opts.jwtSvidTtl) * 1000, k.record.notAfter) / 1000);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: k.key.jwtAlg, kid: k.kid, typ: 'JWT' })
      .setSubject(id.toString())
      .setAudience(audience.length === 1 ? audience[0]! : audience)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(exp)
      .sign(k.key.privateKey);
    return { token, expiresAt: exp * 1000 };
  }
}
