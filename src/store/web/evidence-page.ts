import type { EvidenceFacts } from '../evidence.js';
import { frame } from './frame.js';
import { html } from './html.js';

/** What the page of one piece of evidence shows besides its bytes. */
export interface EvidenceRecordView {
  readonly digest: string;
  readonly body: Buffer;
  readonly facts: EvidenceFacts;
}

/**
 * One piece of evidence, readable: what the store indexed of it, each artifact linking to its own page,
 * and the content itself, indented (the exact bytes stay at /v1/evidence/DIGEST, for verification).
 */
export function evidencePage(e: EvidenceRecordView): string {
  const f = e.facts;
  const artifacts = f.artifacts.filter((a) => a.digest.startsWith('sha256:'));
  const body = html`<h1>${f.kind}${f.step !== undefined ? html` of step <code>${f.step}</code>` : ''}</h1>
    <table>
      <tr>
        <th>content digest</th>
        <td class="digest">${e.digest}</td>
      </tr>
      ${
        f.predicateType !== undefined
          ? html`<tr>
              <th>predicate type</th>
              <td><code>${f.predicateType}</code></td>
            </tr>`
          : ''
      }
      ${f.signers.map(
        (s) =>
          html`<tr>
            <th>signed by</th>
            <td>${s.spiffeId !== undefined ? html`<code>${s.spiffeId}</code> · ` : ''}key <code>${s.keyid}</code></td>
          </tr>`,
      )}
      <tr>
        <th>time-stamp tokens</th>
        <td>${f.timestamps}</td>
      </tr>
      <tr>
        <th>exact bytes</th>
        <td><a href="/v1/evidence/${e.digest}">/v1/evidence/${e.digest}</a> (${e.body.length} bytes)</td>
      </tr>
    </table>
    ${
      artifacts.length > 0
        ? html`<h2>Artifacts</h2>
            <table>
              <tr>
                <th>role</th>
                <th>digest</th>
              </tr>
              ${artifacts.map(
                (a) =>
                  html`<tr>
                    <td>${a.role}</td>
                    <td><a class="digest" href="/artifacts/${a.digest}">${a.digest}</a></td>
                  </tr>`,
              )}
            </table>`
        : ''
    }
    <h2>Content</h2>
    <pre>${readable(e.body)}</pre>`;
  return frame(`${f.kind} ${e.digest.slice(0, 19)}`, body);
}

/** JSON indented for reading; a DSSE payload is shown decoded below the envelope. */
function readable(bytes: Buffer): string {
  const value = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  const text = JSON.stringify(value, null, 2);
  if (typeof value.payload !== 'string') return text;
  const payload = Buffer.from(value.payload, 'base64').toString('utf8');
  try {
    return `${text}\n\n// payload, decoded:\n${JSON.stringify(JSON.parse(payload), null, 2)}`;
  } catch {
    return text;
  }
}
