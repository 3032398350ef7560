/**
 * Sets `key` as an own, enumerable entry of a dictionary built from names an attacker may choose (artifact
 * names, digest algorithms). A plain assignment of `__proto__` would set the object's prototype instead:
 * the entry would vanish from the dictionary (a file named `__proto__` would go unrecorded, and
 * `DISALLOW *` would never see it). JSON.parse makes such keys own properties; this does the same.
 */
export function setOwnEntry<T>(dict: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(dict, key, { value, enumerable: true, writable: true, configurable: true });
  else dict[key] = value;
}
