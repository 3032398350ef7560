import { closeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { loadPeercred, socketFd, type PeerCredentials } from '../peercred/peercred.js';
import { WorkloadAttestationError } from '../workloadattest/errors.js';
import { HeldProcess, type ConnectedProcess } from '../workloadattest/process.js';

/** What the kernel told us about one accepted connection, held until the connection closes. */
export interface PeerConnection {
  readonly id: number;
  readonly cred: PeerCredentials;
  /** Pins the connecting process; valid while the connection is in use (see `acquire`). */
  readonly pidfd: number;
  /**
   * The connecting process as read at accept, before any request: every call must come while it still
   * runs that executable. When it could not be read (gone, or not ours to read), why: calls are refused with it.
   */
  readonly origin: ConnectedProcess | WorkloadAttestationError;
}

/** `remoteAddress` given to our accepted sockets; gRPC's `call.getPeer()` then reads `workload:<id>`. */
const PEER_ADDRESS = 'workload';

/**
 * The connections of the Workload API socket, each labelled at accept() with its kernel credentials.
 * A Unix socket has no remote address of its own, so we give each one a unique `remoteAddress`/
 * `remotePort`, which is what @grpc/grpc-js reports as the call's peer: every call maps back to the
 * connection it came on, and to nothing the client sent. A call whose peer is not ours maps to nothing.
 */
export class PeerConnections {
  private nextId = 1;
  private readonly byId = new Map<number, PeerConnection & { refs: number; closed: boolean }>();

  /**
   * Reads SO_PEERCRED (and a pidfd) of a freshly accepted socket, records the connecting process (its
   * executable) and labels the socket. Throws if the kernel cannot say who connected.
   *
   * Called synchronously from the accept callback, so the record is taken before any request can be
   * read. What it cannot see: an exec in the short window between the client's connect() and this
   * accept; and who writes on the socket: any process holding the descriptor (a child forked after
   * connect) speaks for the process that connected. A child that shares the socket with its unchanged
   * parent gets the parent's identity (as in SPIRE); one whose parent exec'd another binary after the
   * accept gets nothing, the parent no longer running the executable recorded here.
   */
  accept(socket: Socket): PeerConnection {
    const addon = loadPeercred();
    const fd = socketFd(socket);
    const cred = addon.getPeerCred(fd);
    // SO_PEERPIDFD names the process that connected, race-free; older kernels: pidfd_open right now.
    const pidfd = addon.getPeerPidfd(fd) ?? addon.pidfdOpen(cred.pid);
    let origin: ConnectedProcess | WorkloadAttestationError;
    try {
      origin = HeldProcess.record(cred, pidfd);
    } catch (e) {
      if (!(e instanceof WorkloadAttestationError)) {
        closeSync(pidfd);
        throw e;
      }
      origin = e; // refused at the call, with PermissionDenied and a log line, like any failed attestation
    }
    const id = this.nextId++;
    const conn = { id, cred, pidfd, origin, refs: 0, closed: false };
    this.byId.set(id, conn);
    Object.defineProperty(socket, 'remoteAddress', { value: PEER_ADDRESS, configurable: true });
    Object.defineProperty(socket, 'remotePort', { value: id, configurable: true });
    socket.once('close', () => {
      conn.closed = true;
      this.free(conn);
    });
    return conn;
  }

  /**
   * The connection a gRPC call came on (from `call.getPeer()`), with its pidfd kept open until
   * `release`; undefined for an unknown or closed connection.
   */
  acquire(peer: string): PeerConnection | undefined {
    const m = /^workload:(\d+)$/.exec(peer);
    const conn = m ? this.byId.get(Number(m[1])) : undefined;
    if (!conn || conn.closed) return undefined;
    conn.refs++;
    return conn;
  }

  release(conn: PeerConnection): void {
    const c = this.byId.get(conn.id);
    if (!c) return;
    c.refs--;
    this.free(c);
  }

  /** The pidfd is closed only once no call uses it, so its number cannot be reused under a call. */
  private free(c: { id: number; pidfd: number; refs: number; closed: boolean }): void {
    if (!c.closed || c.refs > 0 || !this.byId.has(c.id)) return;
    this.byId.delete(c.id);
    closeSync(c.pidfd);
  }

  get size(): number {
    return this.byId.size;
  }
}
