import { readFileSync } from 'node:fs';
import { parseSignedMetadataText } from '../src/intoto/verify/metadata.js';
const env = readFileSync('/tmp/build.dsse', 'utf8');
const t = performance.now();
const m = parseSignedMetadataText(env);
console.log(m.format, (performance.now() - t).toFixed(0));
