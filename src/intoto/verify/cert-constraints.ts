import type { CertificateAttributes } from '../../crypto/x509/index.js';
import type { CertificateConstraint } from '../models/types.js';

/** in-toto-golang's AllowAllConstraint: the attribute may hold anything. */
export const ALLOW_ALL = '*';

/**
 * Why the certificate does not satisfy `constraint`, or undefined when it does, with in-toto-golang's
 * rule for each attribute: `"*"` alone allows anything; an empty list (or `""`) requires the certificate
 * to have none; otherwise the certificate's values and the listed ones must be the same set (every
 * listed value present, nothing else). `roots` is satisfied when a verified chain ends at a listed root
 * CA (by keyid) — in-toto-golang compares the list to all of the layout's roots instead, which lets a
 * constraint name a root its chain does not end at.
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
  const want = allowed.filter((v) => v !== '');
  const have = actual.filter((v) => v !== '');
  const unmet = new Set(want);
  const same = have.every((v) => unmet.delete(v)) && unmet.size === 0;
  if (same) return undefined;
  if (want.length === 0) return `${name} must be empty, not ${show(have)}`;
  // the identity (a URI) is already named in the message; other attributes show what the certificate has
  return name === 'uris' ? `${name} must be ${show(want)}` : `${name} must be ${show(want)}, not ${show(have)}`;
}

function rootsProblem(allowed: readonly string[], chainRoots: readonly string[]): string | undefined {
  if (allowed.length === 1 && allowed[0] === ALLOW_ALL) return undefined;
  if (chainRoots.some((keyid) => allowed.includes(keyid))) return undefined;
  const short = (ids: readonly string[]) => `[${ids.map((k) => k.slice(0, 8)).join(', ')}]`;
  return `roots must include the root it chains to (${short(chainRoots)}), but are ${short(allowed)}`;
}

function show(values: readonly string[]): string {
  return `[${values.join(', ')}]`;
}
