import { parsePurl, type PackageUrl } from '../sbom/purl.js';
import type { OsvAffected } from './osv.js';

/** OSV ecosystem names of purl types (purl-spec types, OSV ecosystem list); `generic` is ours. */
const ECOSYSTEM_OF_PURL_TYPE: Record<string, string> = {
  npm: 'npm',
  pypi: 'PyPI',
  golang: 'Go',
  cargo: 'crates.io',
  maven: 'Maven',
  gem: 'RubyGems',
  nuget: 'NuGet',
  composer: 'Packagist',
  hex: 'Hex',
  pub: 'Pub',
  apk: 'Alpine',
  generic: 'generic',
};

/** The name OSV uses for a purl's package in its ecosystem (scoped npm, Maven group:artifact, Go paths). */
function osvName(p: PackageUrl): string {
  if (p.namespace === undefined) return p.name;
  if (p.type === 'maven') return `${p.namespace}:${p.name}`;
  if (p.type === 'npm' || p.type === 'golang' || p.type === 'composer') return `${p.namespace}/${p.name}`;
  return p.name;
}

function ecosystemOf(p: PackageUrl): string | undefined {
  if (p.type === 'deb') return p.namespace === 'ubuntu' ? 'Ubuntu' : 'Debian';
  return ECOSYSTEM_OF_PURL_TYPE[p.type];
}

/** A component without a purl is taken as pkg:generic/<name>. */
export function componentPurl(name: string, purl: string | undefined): PackageUrl {
  return (purl !== undefined ? parsePurl(purl) : undefined) ?? { type: 'generic', name };
}

/**
 * Whether an advisory's `affected` entry is about this package: by purl (type, namespace and name; the
 * version and qualifiers are not part of the identity) when the entry has one, else by ecosystem (the
 * part before any `:` suffix such as `Debian:12`) and name, case-insensitively for PyPI as PEP 503 does.
 */
export function packageMatches(entry: OsvAffected, pkg: PackageUrl): boolean {
  const p = entry.package;
  if (!p) return false;
  if (p.purl !== undefined) {
    const a = parsePurl(p.purl);
    if (!a) return false;
    return a.type === pkg.type && (a.namespace ?? '') === (pkg.namespace ?? '') && a.name === pkg.name;
  }
  const eco = ecosystemOf(pkg);
  if (eco === undefined || (p.ecosystem.split(':')[0] ?? '') !== eco) return false;
  if (eco === 'PyPI') return normalizePypi(p.name) === normalizePypi(osvName(pkg));
  return p.name === osvName(pkg);
}

function normalizePypi(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}
