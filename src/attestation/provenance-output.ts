import { dirname, join } from 'node:path';
import type { Signer } from '../crypto/signer.js';
import type { SignatureTimestamping } from '../intoto/runlib/timestamp-signatures.js';
import type { Link } from '../intoto/models/types.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { provenanceFileName, provenanceStatement } from './provenance.js';
import { envelopeText, signerUri, signStatement } from './sign-statement.js';

/**
 * Writes the SLSA provenance of a step beside its link (`<step>.<keyid[:8]>.provenance.json`), signed by
 * the link's signer and time-stamped as the link is. builder.id is the signer's SPIFFE ID, or
 * `urn:evident:keyid:<keyid>` for a key.
 */
export async function writeStepProvenance(options: {
  link: Link;
  linkPath: string;
  signer: Signer;
  startedOn: Date;
  finishedOn: Date;
  workdir: string;
  evidentVersion: string;
  timestamps?: SignatureTimestamping;
}): Promise<string> {
  const { link, signer } = options;
  const statement = provenanceStatement({
    step: link.name,
    command: link.command,
    materials: link.materials,
    products: link.products,
    builderId: signerUri(signer),
    startedOn: options.startedOn,
    finishedOn: options.finishedOn,
    workdir: options.workdir,
    evidentVersion: options.evidentVersion,
  });
  const envelope = await signStatement(statement, signer, {
    timestamps: options.timestamps,
    consequence: 'the link was written, its provenance was not',
  });
  const path = join(dirname(options.linkPath), provenanceFileName(link.name, signer.keyid));
  await writeFileAtomic(path, envelopeText(envelope), 0o644);
  return path;
}
