import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { EvidentError } from '../errors.js';
import { EVIDENT_BIN_DIR, stopProcess } from './evident-process.js';
import { admissionAnswerOf, podAdmissionReview, type AdmissionAnswer, type PodRequest } from './pod-admission-review.js';

/** How long `evident gate serve` may take to load its policies and listen. */
const READY_WITHIN_MS = 30_000;

/**
 * The deployer's gate as a cluster runs it: `evident gate serve` in a process of its own, on 127.0.0.1,
 * asked what the Kubernetes API server asks a validating webhook (POST /validate with an AdmissionReview).
 */
export class DemoGate {
  private constructor(
    private readonly child: ChildProcess,
    /** `http://127.0.0.1:PORT`. */
    readonly url: string,
  ) {}

  /** Starts `evident gate serve --bind 127.0.0.1:0 ARGS…` in `cwd`; resolved once it serves. */
  static start(args: readonly string[], cwd: string): Promise<DemoGate> {
    const child = spawn(process.execPath, [join(EVIDENT_BIN_DIR, 'evident'), 'gate', 'serve', '--bind', '127.0.0.1:0', ...args], {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let log = '';
    return new Promise((resolve, reject) => {
      const exited = (code: number | null) => fail(`exited with ${code}`);
      const fail = (why: string) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new EvidentError('ENVIRONMENT', `demo: evident gate serve ${why}: ${log.trim().split('\n').slice(-3).join(' | ')}`));
      };
      const timer = setTimeout(() => fail(`did not serve within ${READY_WITHIN_MS / 1000} s`), READY_WITHIN_MS);
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        log = (log + chunk).slice(-32768);
        const serving = /evident gate: serving (http:\/\/127\.0\.0\.1:\d+) /.exec(log);
        if (serving) {
          clearTimeout(timer);
          child.off('exit', exited);
          resolve(new DemoGate(child, serving[1]!));
        }
      });
      child.once('exit', exited);
    });
  }

  /** What the gate answers the API server for creating this Pod. */
  async admit(pod: PodRequest): Promise<AdmissionAnswer> {
    const review = podAdmissionReview(pod);
    const reply = await fetch(`${this.url}/validate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(review),
    });
    const body: unknown = await reply.json().catch(() => null);
    if (reply.status !== 200) {
      throw new EvidentError('ENVIRONMENT', `demo: the gate answered POST /validate with HTTP ${reply.status}: ${JSON.stringify(body)}`);
    }
    return admissionAnswerOf(review, body);
  }

  /** SIGTERM, as a cluster stops it; resolved once the process is gone. */
  stop(): Promise<void> {
    return stopProcess(this.child);
  }
}
