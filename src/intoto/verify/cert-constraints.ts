import type { CertificateAttributes } from '../../crypto/x509/index.js';
import type { CertificateConstraint } from '../models/types.js';

/** in-toto-golang's AllowAllConstraint: the attribute may hold anything. */
export const ALLOW_ALL = '*';

/**
 * Why the certificate does not satisfy `constraint`, or undefined when it does, with in-toto-golang's
 * rule for each attribute (checkCertConstraint): `"*"` alone allows anything; an empty list, or a list of
 * one `""`, requires the certificate to have none; otherwise the certificate's values and the listed ones
 * must be the same set (every listed value present, nothing else). A `""` beside other values is a value
 * like any other, which a certificate cannot have: such a constraint is never met, as in in-toto-golang.
 * `roots` is satisfied when a verified chain ends at a listed root CA (by keyid) — in-toto-golang requires
 * the list to be all of the layout's roots instead (docs/interop.md).
 *
 * @param rootKeyids the keyids of the roots the certificate's verified chains end at
 */
export function constraintProblem(
  constraint: CertificateConstraint,
  cert: CertificateAttributes,
  rootKeyids: readonly string[],
): string | undefined {
  return (
    attributeProblem('common_name', [constraint.common_name], [cert.commonName]) ??
    attributeProblem('dns_names', constraint.dns_names, cert.dnsNames) ??
    attributeProblem('emails', constraint.emails, cert.emails) ??
    attributeProblem('organizations', constraint.organizations, cert.organizations) ??
    rootsProblem(constraint.roots, rootKeyids) ??
    attributeProblem('uris', constraint.uris, cert.uris)
  );
}

function attributeProblem(name: string, allowed: readonly string[], actual: readonly string[]): string | undefined {
  if (allowed.length === 1 && allowed[0] === ALLOW_ALL) return undefined;
  const want = noneIfBlank(allowed);
  const have = noneIfBlank(actual);
  const unmet = new Set(want);
  const same = have.every((v) => unmet.delete(v)) && unmet.size === 0;
  if (same) return undefined;
  if (want.length === 0) return `${name} must be empty, not ${show(have)}`;
  // the identity (a URI) is already named in the message; other attributes show what the certificate has
  return name === 'uris' ? `${name} must be ${show(want)}` : `${name} must be ${show(want)}, not ${show(have)}`;
}

/** `[""]` is in-toto-golang's spelling of "none" (a missing common name is `""` too); `""` among other values is kept. */
function noneIfBlank(values: readonly string[]): readonly string[] {
  return values.length === 1 && values[0] === '' ? [] : values;
}

function rootsProblem(allowed: readonly string[], chainRoots: readonly string[]): string | undefined {
  if (allowed.length === 1 && allowed[0] === ALLOW_ALL) return undefined;
  if (chainRoots.some((keyid) => allowed.includes(keyid))) return undefined;
  const short = (ids: readonly string[]) => `[${ids.map((k) => k.slice(0, 8)).join(', ')}]`;
  return `roots must include the root it chains to (${short(chainRoots)}), but are ${short(allowed)}`;
}

function show(values: readonly string[]): string {
  return `[${values.map((v) => (v === '' ? '""' : v)).join(', ')}]`;
}
