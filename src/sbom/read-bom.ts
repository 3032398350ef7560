import { EvidentError } from '../errors.js';
import { parsePurl } from './purl.js';

/** A component of a BOM as a scanner needs it. */
export interface BomPackage {
  name: string;
  version: string;
  purl?: string;
}

export interface BomSummary {
  serialNumber?: string;
  /** What the BOM describes (metadata.component): a name and, for images, the manifest digest. */
  subject: { name: string; digest?: { sha256: string } };
  packages: BomPackage[];
}

type Raw = Record<string, unknown>;

/**
 * Reads a CycloneDX JSON BOM (any 1.x specVersion): the subject from metadata.component (its digest from
 * an oci purl's version or a SHA-256 hash) and every component with a version, nested ones included.
 */
export function readCycloneDx(text: string, file?: string): BomSummary {
  const bad = (msg: string) => new EvidentError('BAD_INPUT', `sbom: ${msg}`, { file });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw bad(`malformed JSON: ${(e as Error).message}`);
  }
  if (!isObj(doc) || doc.bomFormat !== 'CycloneDX') throw bad("not a CycloneDX BOM (bomFormat must be 'CycloneDX')");
  if (typeof doc.specVersion !== 'string' || !/^1\.\d+$/.test(doc.specVersion))
    throw bad(`specVersion '${String(doc.specVersion)}' is not a CycloneDX 1.x version`);
  const meta = isObj(doc.metadata) ? doc.metadata : {};
  const mc = isObj(meta.component) ? meta.component : undefined;
  const subject: BomSummary['subject'] = { name: typeof mc?.name === 'string' ? mc.name : 'unknown' };
  if (mc) {
    const fromPurl = typeof mc.purl === 'string' ? parsePurl(mc.purl) : undefined;
    const hash = Array.isArray(mc.hashes)
      ? mc.hashes.find((h): h is Raw => isObj(h) && h.alg === 'SHA-256' && typeof h.content === 'string')
      : undefined;
    const m = /^sha256:([0-9a-f]{64})$/.exec(fromPurl?.version ?? '');
    if (m) subject.digest = { sha256: m[1] as string };
    else if (hash && /^[0-9a-f]{64}$/.test(hash.content as string)) subject.digest = { sha256: hash.content as string };
  }
  const packages: BomPackage[] = [];
  const walk = (list: unknown, where: string) => {
    if (list === undefined) return;
    if (!Array.isArray(list)) throw bad(`${where} must be a list`);
    list.forEach((c, i) => {
      if (!isObj(c) || typeof c.name !== 'string') throw bad(`${where}[${i}] must be a component with a name`);
      if (typeof c.version === 'string' && c.type !== 'file')
        packages.push({ name: c.name, version: c.version, ...(typeof c.purl === 'string' ? { purl: c.purl } : {}) });
      walk(c.components, `${where}[${i}].components`);
    });
  };
  walk(doc.components, 'components');
  return { ...(typeof doc.serialNumber === 'string' ? { serialNumber: doc.serialNumber } : {}), subject, packages };
}

function isObj(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
