import { cp, lstat, mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describeError } from '../../errors.js';
import { collectArtifacts } from '../record/collect.js';
import { runCommand } from '../record/run-command.js';
import { indexArtifacts } from '../rules/apply.js';
import type { LinkArtifacts } from '../rules/types.js';
import type { ArtifactMap } from '../record/types.js';
import { refuseEscapingSymlinks } from './contained-symlinks.js';
import type { DeferredInspections, VerifyContext } from './level.js';
import { checkItemRules } from './level-checks.js';

/**
 * The folder inspections run in: a scratch copy of the work folder, made when the first inspection
 * runs and shared by all of them in order (the reference runs them one after another in one folder, so
 * a later inspection sees what an earlier one unpacked). The user's files are never touched.
 *
 * Symlinks are copied as they are, so the delivery decides where they lead: one leading out of the
 * workspace (`rootfs -> /root/.ssh`) would let an inspection's command write outside it, and make the
 * recorder hash a file outside it. Such a workspace is refused whenever what it holds is recorded: after
 * the copy, before the first command runs, and after every command (which may have unpacked such a link).
 */
export class InspectionWorkspace {
  private dir: string | undefined;
  /** What the folder holds, as last recorded; undefined until the copy is recorded and after a command. */
  private recorded: ArtifactMap | undefined;

  constructor(private readonly workDir: string) {}

  async path(): Promise<string> {
    if (this.dir === undefined) {
      // real paths: the symlink checks compare absolute targets with it, and a symlinked work folder is copied as a folder
      const dir = await realpath(await mkdtemp(join(tmpdir(), 'evident-inspect-')));
      this.dir = dir;
      const source = await realpath(resolve(this.workDir));
      await cp(source, dir, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true, filter: copyable });
    }
    return this.dir;
  }

  /**
   * Everything the folder holds, recorded as the reference's inspections record it (default excludes; never
   * through a symlinked folder: the delivery would choose what the verifier hashes). Recorded again only
   * after a command ran, so the products of one inspection are the materials of the next.
   */
  async artifacts(): Promise<ArtifactMap> {
    if (this.recorded === undefined) {
      const dir = await this.path();
      await refuseEscapingSymlinks(dir, 'inspection workspace');
      this.recorded = await collectArtifacts(['.'], { basePath: dir, followSymlinkDirs: false });
    }
    return this.recorded;
  }

  /** A command ran in the folder: what it holds is recorded anew when asked. */
  changed(): void {
    this.recorded = undefined;
  }

  async dispose(): Promise<void> {
    if (this.dir !== undefined) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

/** FIFOs, sockets and devices are not copied (recording skips them as well); reading a FIFO could hang. */
async function copyable(source: string): Promise<boolean> {
  const info = await lstat(source);
  return info.isFile() || info.isDirectory() || info.isSymbolicLink();
}

export interface InspectionSettings {
  readonly workspace: InspectionWorkspace;
  readonly timeoutMs: number;
}

/**
 * Runs one level's inspections, as the reference's `run_all_inspections` does (materials and products
 * are everything under the folder, default excludes applied; a non-zero exit fails), then applies the
 * rules of every inspection against the step links and the inspections' own links, and the attestations
 * each expects (attestations.ts).
 */
export async function runInspections(ctx: VerifyContext, level: DeferredInspections, settings: InspectionSettings): Promise<boolean> {
  const links = new Map<string, LinkArtifacts>(level.stepLinks);
  for (const inspection of level.inspections) {
    const shown = `${level.prefix}${inspection.name}`;
    const command = JSON.stringify(inspection.run);
    ctx.progress(`running inspection ${shown}`);
    try {
      const cwd = await settings.workspace.path();
      const materials = await settings.workspace.artifacts();
      const byproducts = await runCommand(inspection.run, {
        recordStreams: true,
        cwd,
        timeout: settings.timeoutMs,
        tee: { stdout: sink, stderr: sink },
      });
      settings.workspace.changed();
      const code = byproducts['return-value'];
      if (code !== 0) {
        ctx.report.add({
          id: 'inspection',
          ok: false,
          step: shown,
          message: `${command} exited with ${code}${lastLine(byproducts.stderr)}`,
          details: {
            run: inspection.run,
            returnValue: code,
            stdout: byproducts.stdout.slice(-4096),
            stderr: byproducts.stderr.slice(-4096),
          },
        });
        return false;
      }
      // what the command made is checked as the delivery was: recording follows a symlink to a file, and
      // one leading out (`tar xf` of `hello -> /etc/shadow`) would put a digest of that file in the report
      const products = await settings.workspace.artifacts();
      links.set(inspection.name, { materials: indexArtifacts(materials), products: indexArtifacts(products) });
      ctx.report.add({
        id: 'inspection',
        ok: true,
        step: shown,
        message: `${command} ran and exited with 0`,
        details: { run: inspection.run },
      });
    } catch (e) {
      ctx.report.add({
        id: 'inspection',
        ok: false,
        step: shown,
        message: `${command} failed: ${describeError(e)}`,
        details: { run: inspection.run },
      });
      return false;
    }
  }
  let ok = true;
  for (const inspection of level.inspections) ok = checkItemRules(ctx, `${level.prefix}${inspection.name}`, inspection, links) && ok;
  const expecting = level.inspections.filter((i) => i.expected_predicates !== undefined);
  if (expecting.length > 0) {
    // an inspection's attestations are about what it found in the workspace: its materials and products
    const { checkAttestations } = await import('./attestations.js');
    const items = expecting.map((i) => ({ item: i, shown: `${level.prefix}${i.name}`, artifacts: links.get(i.name)! }));
    ok = (await checkAttestations(ctx, level.layout, level.dir, items)) && ok;
  }
  return ok;
}

const sink = { write: () => true };

function lastLine(stderr: string): string {
  const line = stderr.trimEnd().split('\n').pop()?.trim();
  return line ? `: ${line.slice(0, 200)}` : '';
}
