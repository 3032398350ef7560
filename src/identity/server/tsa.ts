import { generateKeyPairSync } from 'node:crypto';
import type { Logger } from 'pino';
import { parseCertificateDer } from '../../crypto/x509/index.js';
import type { Clock } from '../../util/clock.js';
import { parseHostPort, startTsaServer, TimestampAuthority, tsaSigner, type TimestampResponder, type TsaServer } from '../../time/index.js';
import { formatHostPort } from '../../util/host-port.js';
import type { CaManager } from './ca/index.js';

/**
 * The identity server's RFC 3161 time-stamping authority (docs/trusted-time.md): `POST /tsa` over HTTP on
 * its own address, signing with a fresh P-256 key held only in memory and a certificate the CA issues under
 * the root (or the upstream CA), so the bundle that checks SVIDs checks its tokens. The certificate lives the
 * CA TTL and is renewed at half life and as soon as another root becomes the active one: each request is
 * answered whole by the authority current when it arrived, so a renewal never splits one.
 */
export class ServerTsa implements TimestampResponder {
  private authority: TimestampAuthority | undefined;
  private notBefore = 0;
  private notAfter = 0;
  private renewing: Promise<void> = Promise.resolve();
  private server: TsaServer | undefined;

  constructor(
    private readonly ca: CaManager,
    private readonly clock: Clock,
    /** Lifetime of its certificates, seconds (the CA TTL). */
    private readonly ttl: number,
    private readonly log: Logger,
  ) {}

  /** `http://HOST:PORT/tsa` once listening. */
  get url(): string | undefined {
    return this.server?.url;
  }

  /** `HOST:PORT` it listens on (the real port when the bind asked for 0). */
  get address(): string | undefined {
    const s = this.server;
    return s && formatHostPort(s.host, s.port);
  }

  /** The certificate new tokens are signed under. */
  get certificate(): TimestampAuthority['certificate'] | undefined {
    return this.authority?.certificate;
  }

  /**
   * Issues its first certificate and listens on `bind`.
   *
   * @throws EvidentError ENVIRONMENT when the address cannot be listened on
   */
  async start(bind: string): Promise<void> {
    await this.renew();
    const { host, port } = parseHostPort(bind);
    this.server = await startTsaServer({ authority: this, host, port });
  }

  respond(request: Uint8Array): Buffer {
    // start() renews before it listens: there is always an authority by the time a request arrives
    return this.authority!.respond(request);
  }

  /** Whether half the certificate's life has passed, or another root (a rotation) now issues under the bundle. */
  needsRenewal(): boolean {
    if (this.authority === undefined) return true;
    if (this.clock.now() >= this.notBefore + (this.notAfter - this.notBefore) / 2) return true;
    return !this.ca.issuedByAuthority(this.authority.certificate);
  }

  /**
   * A new key and certificate for tokens from now on. Renewals run one at a time, and each only if still
   * needed when its turn comes: the CA's change event and the housekeeping tick often ask at once.
   */
  renew(): Promise<void> {
    const next = this.renewing.then(() => (this.needsRenewal() ? this.issue() : undefined));
    this.renewing = next.catch(() => undefined);
    return next;
  }

  private async issue(): Promise<void> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const now = this.clock.now();
    const chain = (await this.ca.issueTsaCertificate(publicKey, now + this.ttl * 1000)).map((der) => parseCertificateDer(der));
    const authority = new TimestampAuthority({
      signer: tsaSigner(privateKey, chain),
      clock: this.clock,
      onError: (e) => this.log.error({ err: e }, 'TSA could not make a token'),
    });
    this.authority = authority;
    this.notBefore = now;
    this.notAfter = authority.certificate.notAfter.getTime();
    this.log.debug(
      { issuer: authority.certificate.issuer, not_after: authority.certificate.notAfter.toISOString() },
      'TSA certificate issued',
    );
  }

  async close(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }
}
