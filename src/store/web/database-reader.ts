import type { EvidenceReader } from '../chain.js';
import type { EvidenceDb, EvidenceSearch } from '../evidence-db.js';
import { MAX_PAGE, evidenceItem } from '../search-query.js';
import { EvidentError } from '../../errors.js';

/**
 * The store's own database as the chain walk reads a store (store/chain.ts): the pages find a chain with
 * the same walk `evident verify --store` makes over HTTP, without a request per search.
 */
export function databaseReader(db: EvidenceDb): EvidenceReader {
  return {
    shown: 'this store',
    get: (digest) => db.get(digest),
    async queryAll(query, max) {
      const search: EvidenceSearch = {
        limit: MAX_PAGE,
        ...(query.digest !== undefined ? { digest: query.digest } : {}),
        ...(query.role !== undefined ? { role: query.role } : {}),
        ...(query.step !== undefined ? { step: query.step } : {}),
        ...(query.signer !== undefined ? { signer: query.signer } : {}),
      };
      const items = [];
      for (let after: EvidenceSearch['after']; ;) {
        const found = await db.search({ ...search, ...(after !== undefined ? { after } : {}) });
        const page = found.slice(0, MAX_PAGE);
        items.push(...page.map(evidenceItem));
        if (items.length > max) throw new EvidentError('TOO_LARGE', `the search found more than ${max} items`);
        if (found.length <= MAX_PAGE) return items;
        after = { storedAt: page[page.length - 1]!.storedAt, digest: page[page.length - 1]!.digest };
      }
    },
  };
}
