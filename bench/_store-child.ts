/**
 * The server half of bench/store.ts, in its own process so the benchmark's uploaders do not take its CPU:
 * the evidence store (startEvidenceStore, as `evident store serve` runs it) on 127.0.0.1 over the datastore
 * DATASTORE (`sqlite:PATH`), writes needing a token of TOKEN_FILE; one JSON line with its URL, then running
 * until SIGTERM.
 */
import { startEvidenceStore } from '../src/store/server.js';

const [datastore, tokenFile] = process.argv.slice(2) as [string, string];
const store = await startEvidenceStore({ datastore, tokenFile });
process.stdout.write(`${JSON.stringify({ url: store.url })}\n`);
await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
await store.close();
