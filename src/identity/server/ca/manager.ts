import { createHash, createPublicKey, randomUUID, webcrypto, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { EvidentError, badInput } from '../../../errors.js';
import type { X509Certificate } from '../../../crypto/x509/x509.js';
import { certificatesToPem, issuedBy, parseCertificateDer, pemCertificates } from '../../../crypto/x509/index.js';
import { SpiffeId, TrustDomain } from '../../../spiffe/spiffeid/index.js';
import { BACKDATE_MS } from '../../../spiffe/x509svid/index.js';
import type { Clock } from '../../../util/clock.js';
import type { CaKey, CaKeyKind, Datastore } from '../datastore/index.js';
import type { CaAuthority } from './authority.js';
import type { TrustBundle } from './bundle.js';
import { DEFAULT_ROOT_TTL_SECONDS, type CaKeyType } from './constants.js';
import { generateSigningKey, keyIdOf, loadSigningKey, type SigningKey } from './keys.js';
import { rootStep, rotationStep, type RotationStep } from './rotation.js';
import type { UpstreamCa } from './upstream.js';
import { createCaCert, createRootCert, createTsaCert, LeafSigner } from './x509.js';

export interface CaOptions {
  trustDomain: string;
  datastore: Datastore;
  clock: Clock;
  /** Lifetimes in seconds. */
  caTtl: number;
  /** The lifetime of the trust domain's own root (unused with an upstream CA); ten years when not given. */
  rootTtl?: number;
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

interface LoadedRoot {
  record: CaKey;
  key: SigningKey;
  cert: X509Certificate;
}

/** A root of the trust domain as `server root list` shows it. */
export interface RootInfo {
  id: string;
  status: CaKey['status'];
  subject: string;
  /** SHA-256 of the certificate (DER), hex: what an operator compares with the PEM a layout pins. */
  fingerprint: string;
  notBefore: number;
  notAfter: number;
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
 * The server's CA: a long-lived root (its own, or an upstream CA), X.509 signing CAs under it and JWT
 * signing keys, all kept in the datastore; the signing CAs and JWT keys rotate with overlap (rotation.ts),
 * the root only when an operator says so (`prepareRoot`, `activateRoot`, `retireRoot`). The bundle holds
 * the roots, so what pins it (a layout's rootcas, an agent) outlives every rotation of the signing CAs.
 * Several servers sharing one PostgreSQL datastore share the keys; `rotate()` re-reads them so each sees
 * what the others did.
 */

const STATUS_ORDER = { active: 0, prepared: 1, old: 2 } as const;

export class CaManager {
  private roots: LoadedRoot[] = [];
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
    const rootTtl = opts.rootTtl ?? DEFAULT_ROOT_TTL_SECONDS;
    if (!opts.upstream && rootTtl <= opts.caTtl) {
      throw badInput(`root TTL (${rootTtl}s) must be longer than the CA TTL (${opts.caTtl}s)`);
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
    const before = this.fingerprint();
    if (!this.opts.upstream) await this.converge('root', (keys) => rootStep(keys, now), now);
    await this.load(); // the signing CAs below are made under the active root
    const authority = this.authority();
    // the loaded signing CAs are parsed already; only one another server made since needs parsing
    const parsed = new Map(this.x509.map((k) => [k.record.id, k.cert]));
    const underAuthority = (k: CaKey): boolean =>
      issuedBy(parsed.get(k.id) ?? parseCertificateDer(pemCertificates(k.certPem)[0]!), authority.cert);
    await this.converge('x509', (keys) => rotationStep(keys, now, underAuthority), now);
    await this.converge('jwt', (keys) => rotationStep(keys, now), now);
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

  /** Runs the steps `next` asks for on the keys of one kind until it asks for none (a few at most). */
  private async converge(kind: CaKeyKind, next: (keys: CaKey[]) => RotationStep, now: number): Promise<void> {
    const ds = this.opts.datastore;
    for (let attempt = 0; attempt < 4; attempt++) {
      const step = next(await ds.caKeys.list(kind));
      if (step.action === 'none') return;
      if (step.action === 'activate') await ds.caKeys.activate(kind, step.id);
      else if (step.action === 'drop') await ds.caKeys.delete(step.id);
      else await ds.caKeys.create(await this.newKey(kind, step.action === 'create-active' ? 'active' : 'prepared', now));
      // a create that lost a race to another server returns undefined: the next pass sees its key
    }
  }

  private fingerprint(): string {
    return [...this.roots, ...this.x509, ...this.jwt].map((k) => `${k.record.id}:${k.record.status}`).join(',');
  }

  private bundleKeys(): { x509: string[]; jwt: string[] } {
    return { x509: this.bundle().x509Authorities.map((d) => d.toString('base64')), jwt: this.jwt.map((k) => k.kid) };
  }

  private async newKey(kind: CaKeyKind, status: 'active' | 'prepared', now: number): Promise<CaKey> {
    const notBefore = now - BACKDATE_MS;
    let notAfter = now + (kind === 'root' ? (this.opts.rootTtl ?? DEFAULT_ROOT_TTL_SECONDS) : this.opts.caTtl) * 1000;
    const authority = kind === 'x509' ? this.authority() : undefined;
    // a signing CA never outlives what signed it: its SVIDs would outlive their chain
    if (authority) notAfter = Math.min(notAfter, authority.cert.notAfter.getTime());
    if (notAfter <= now) throw this.authorityExpired();
    const key = await generateSigningKey(kind === 'jwt' ? 'ec-p256' : this.opts.keyType);
    const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', key.publicKey));
    const jwk = createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'jwk' }) as Record<string, unknown>;
    const validity = { trustDomain: this.opts.trustDomain, key, notBefore: new Date(notBefore), notAfter: new Date(notAfter) };
    let certPem = '';
    if (kind === 'root') certPem = certificatesToPem([await createRootCert(validity)]);
    if (authority) certPem = certificatesToPem([await createCaCert({ ...validity, issuer: authority }), ...authority.chain]);
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

  /** What signs the signing CAs: the upstream CA, or the active root. */
  private authority(): CaAuthority {
    if (this.opts.upstream) return this.opts.upstream;
    const root = this.roots.find((r) => r.record.status === 'active');
    if (!root) throw new EvidentError('INTERNAL', 'ca: no active root (rotation has not run)');
    return { cert: root.cert, key: root.key, chain: [] };
  }

  private authorityExpired(): EvidentError {
    return new EvidentError('ENVIRONMENT', `the ${this.opts.upstream ? 'upstream CA' : 'root'} certificate has expired`);
  }

  /** Refreshes the loaded keys from the datastore, parsing only keys not seen before. */
  private async load(): Promise<void> {
    const now = this.opts.clock.now();
    const rows = (await this.opts.datastore.caKeys.list()).filter((k) => k.notAfter > now);
    const oldR = new Map(this.roots.map((k) => [k.record.id, k]));
    const oldX = new Map(this.x509.map((k) => [k.record.id, k]));
    const oldJ = new Map(this.jwt.map((k) => [k.record.id, k]));
    const roots: LoadedRoot[] = [];
    const x: LoadedX509[] = [];
    const j: LoadedJwt[] = [];
    for (const r of rows) {
      if (r.kind === 'root') {
        const prev = oldR.get(r.id);
        roots.push(
          prev
            ? { ...prev, record: r }
            : { record: r, key: await loadSigningKey(r.privateKeyPem), cert: parseCertificateDer(pemCertificates(r.certPem)[0]!) },
        );
      } else if (r.kind === 'x509') {
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
    this.roots = roots.sort((a, b) => STATUS_ORDER[a.record.status] - STATUS_ORDER[b.record.status]);
    this.x509 = x;
    this.jwt = j;
  }

  private activeX509(): LoadedX509 {
    const a = this.x509.find((k) => k.record.status === 'active');
    if (!a) throw new EvidentError('INTERNAL', 'ca: no active X.509 CA (rotation has not run)');
    return a;
  }

  /** The signing CAs the server knows (active first): the anchors its own agents' SVIDs chain to. */
  caCertificates(): X509Certificate[] {
    return [...this.x509].sort((a, b) => STATUS_ORDER[a.record.status] - STATUS_ORDER[b.record.status]).map((k) => k.cert);
  }

  /** Status and lifetime of every published key (for `bundle show --json` and tests). */
  keys(): { id: string; kind: CaKeyKind; status: CaKey['status']; notBefore: number; notAfter: number; kid?: string }[] {
    return [
      ...[...this.roots, ...this.x509].map((k) => ({
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

  /**
   * The trust bundle: the roots (the upstream CA's, or every unexpired root of the trust domain: active,
   * prepared, and old ones not yet retired), any self-signed signing CA still alive from before the server
   * kept a root (they were their own roots then), and the JWT keys.
   */
  bundle(): TrustBundle {
    const roots = this.opts.upstream ? this.opts.upstream.roots : this.roots.map((r) => Buffer.from(r.cert.rawData));
    const legacy = this.x509.filter((k) => k.cert.subject === k.cert.issuer).map((k) => Buffer.from(k.cert.rawData));
    return {
      trustDomain: this.opts.trustDomain,
      x509Authorities: [...roots, ...legacy],
      jwtAuthorities: this.jwt.map((k) => ({ kid: k.kid, jwk: k.jwk, expiresAt: k.record.notAfter })),
      sequence: this.sequence,
      refreshHint: Math.max(60, Math.floor(this.opts.caTtl / 12)),
    };
  }

  /** The trust domain's roots, active first; empty with an upstream CA (its roots are the upstream's business). */
  rootInfo(): RootInfo[] {
    return this.roots.map((r) => ({
      id: r.record.id,
      status: r.record.status,
      subject: r.cert.subject,
      fingerprint: createHash('sha256').update(Buffer.from(r.cert.rawData)).digest('hex'),
      notBefore: r.record.notBefore,
      notAfter: r.record.notAfter,
    }));
  }

  /**
   * Root rotation, step 1: a new root, published in the bundle next to the active one but signing nothing
   * yet, so agents and layouts can learn it first. Refused with an upstream CA, or while one is prepared.
   */
  async prepareRoot(): Promise<RootInfo> {
    this.refuseWithUpstream();
    const now = this.opts.clock.now();
    if (this.roots.some((r) => r.record.status === 'prepared'))
      throw badInput('a prepared root already exists: activate it (server root activate) or retire it first');
    const created = await this.opts.datastore.caKeys.create(await this.newKey('root', 'prepared', now));
    if (!created) throw badInput('another server prepared a root at the same moment: list the roots and try again');
    await this.rotate();
    return this.rootInfo().find((r) => r.id === created.id)!;
  }

  /**
   * Root rotation, step 2: the prepared root becomes the active one; the signing CA is replaced at once by
   * one under it. The old root stays in the bundle, so what it signed keeps verifying, until it is retired.
   */
  async activateRoot(id: string): Promise<RootInfo> {
    this.refuseWithUpstream();
    await this.rotate();
    const root = this.roots.find((r) => r.record.id === id);
    if (!root) throw new EvidentError('NOT_FOUND', `no root ${id}`);
    if (root.record.status !== 'prepared') throw badInput(`root ${id} is ${root.record.status}, not prepared`);
    if (!(await this.opts.datastore.caKeys.activate('root', id))) throw badInput(`root ${id} is no longer prepared`);
    await this.rotate();
    return this.rootInfo().find((r) => r.id === id)!;
  }

  /**
   * Root rotation, step 3: an old (or an abandoned prepared) root leaves the bundle for good. Refused for
   * the active root, and while a signing CA it signed is still alive (SVIDs under it would stop verifying).
   */
  async retireRoot(id: string): Promise<void> {
    this.refuseWithUpstream();
    await this.rotate();
    const root = this.roots.find((r) => r.record.id === id);
    if (!root) throw new EvidentError('NOT_FOUND', `no root ${id}`);
    if (root.record.status === 'active') throw badInput(`root ${id} is the active root: prepare and activate its successor first`);
    const alive = this.x509.filter((k) => issuedBy(k.cert, root.cert));
    if (alive.length > 0) {
      const until = new Date(Math.max(...alive.map((k) => k.record.notAfter))).toISOString();
      throw badInput(`root ${id} still signs a live signing CA: retire it after ${until}, when the last SVID under it has expired`);
    }
    await this.opts.datastore.caKeys.delete(id);
    await this.rotate();
  }

  private refuseWithUpstream(): void {
    if (this.opts.upstream)
      throw badInput("the trust domain's root is the upstream CA's: rotate it there, then give the server the new one");
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

  /**
   * A certificate for the server's time-stamping authority over `publicKey`, signed by the root (or the
   * upstream CA) rather than a signing CA, so tokens chain to the bundle's roots. NotBefore a few seconds
   * back; NotAfter (ms) never past the authority's. Returns the DER chain a token carries: the TSA
   * certificate, then the authority's chain without the root (an upstream's intermediates, if any).
   *
   * @throws EvidentError ENVIRONMENT when the authority has expired
   */
  async issueTsaCertificate(publicKey: KeyObject, notAfter: number): Promise<Buffer[]> {
    const authority = this.authority();
    const now = this.opts.clock.now();
    const until = Math.min(notAfter, authority.cert.notAfter.getTime());
    if (until <= now) throw this.authorityExpired();
    const cert = await createTsaCert({ publicKey, issuer: authority, notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(until) });
    return [Buffer.from(cert.rawData), ...authority.chain];
  }

  /**
   * Whether `cert` was issued by what issues certificates under the roots now (the active root, or the
   * upstream CA): false once a root rotation made another root the active one.
   */
  issuedByAuthority(cert: X509Certificate): boolean {
    return issuedBy(cert, this.authority().cert);
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
