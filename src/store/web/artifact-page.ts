import type { Check } from '../../intoto/verify/types.js';
import { failuresOf, type ArtifactChain, type ChainLink, type PolicyStep } from './artifact-chain.js';
import { chainGraph, linkAnchor, type NodeState } from './chain-graph.js';
import { chainSvg } from './chain-svg.js';
import { frame, shortDigest } from './frame.js';
import { html, type Html } from './html.js';

/** Artifacts listed per link before "and N more" (a link may name 10⁵ files). */
const MAX_LISTED = 50;

/**
 * The page of one artifact: the verdict of the configured layout, the chain drawn, then one section per
 * step: who signed and when (with the TSA that vouches for the time), the command, what went in and
 * came out, and, where verification failed, the failed checks and the layout's rules with the failing
 * one marked.
 */
export function artifactPage(chain: ArtifactChain): string {
  const hex = chain.artifact.slice('sha256:'.length);
  const names = [...new Set(chain.links.flatMap((l) => [...l.products, ...l.materials].filter(([, d]) => d === hex).map(([n]) => n)))];
  const graph = chainGraph(chain, names);
  const verdict = chain.verdict;
  const byStep = new Map(verdict?.steps.map((s) => [s.name, s]) ?? []);
  const missing = (verdict?.steps ?? []).filter((s) => s.kind === 'step' && !chain.links.some((l) => l.step === s.name));
  const body = html`<h1>${names[0] ?? 'artifact'} <span class="muted digest">${chain.artifact}</span></h1>
    ${names.length > 1 ? html`<p class="muted">also known as ${names.slice(1).join(', ')}</p>` : ''} ${verdictBanner(chain)}
    <h2>Supply chain</h2>
    ${chain.links.length === 0 ? html`<p>The store holds no link that produced this artifact.</p>` : html`<div class="graph">${chainSvg(graph)}</div>`}
    ${chain.links.map((l) => linkSection(l, chain, byStep.get(l.step)))} ${missing.map((s) => missingSection(s, chain))}
    ${
      verdict !== undefined
        ? html`<h2>Verification report</h2>
            <p class="muted">layout ${verdict.policy}, verified at ${verdict.report.verifiedAt}</p>
            ${checkList(verdict.report.checks)}`
        : ''
    }
    ${
      chain.skipped.length > 0
        ? html`<h2>Evidence not used</h2>
            <ul>
              ${chain.skipped.map((s) => html`<li><a href="/evidence/${s.digest}">${shortDigest(s.digest)}</a> ${s.reason}</li>`)}
            </ul>`
        : ''
    }`;
  return frame(names[0] ?? chain.artifact, body);
}

function verdictBanner(chain: ArtifactChain): Html {
  const v = chain.verdict;
  if (v === undefined) {
    return html`<div class="verdict unverified" id="verdict">
      Not verified here: this store has no layout configured (store serve --layout FILE --layout-key KEY). The chain below is what the store
      holds; <code>evident verify --store URL --product ${chain.artifact}</code> decides.
    </div>`;
  }
  if (v.report.ok) {
    return html`<div class="verdict passed" id="verdict">
      PASSED: the supply chain of this artifact followed layout ${v.policy} (inspections are run by <code>evident verify</code>, not by the
      store).
    </div>`;
  }
  const first = v.report.checks.find((c) => !c.ok && c.skipped !== true);
  return html`<div class="verdict failed" id="verdict">
    FAILED against layout
    ${v.policy}${first !== undefined ? html`: ${first.step !== undefined ? html`step ${first.step}: ` : ''}${first.message}` : ''}
  </div>`;
}

function linkSection(l: ChainLink, chain: ArtifactChain, policy: PolicyStep | undefined): Html {
  const failures = chain.verdict === undefined ? [] : failuresOf(chain.verdict.report, l.step);
  const state: NodeState = chain.verdict === undefined ? 'unverified' : failures.length > 0 ? 'failed' : 'passed';
  return html`<section class="step ${state}" id="${linkAnchor(l.path)}" data-step="${l.step}">
    <h3>${l.step}<span class="badge ${state}">${state}</span></h3>
    <table>
      ${l.signatures.map(
        (s) =>
          html`<tr>
              <th>functionary</th>
              <td>
                ${s.spiffeId !== undefined ? html`<code>${s.spiffeId}</code>` : 'a key'}
                <span class="muted">(key <code>${s.keyid.slice(0, 16)}…</code>)</span>
              </td>
            </tr>
            <tr>
              <th>signed</th>
              <td>
                ${s.timestamps.length === 0 ? html`<span class="muted">no time-stamp: the signing time is not attested</span>` : s.timestamps.map((t) => html`${t.genTime.toISOString()} <span class="muted">time-stamped by ${t.tsa ?? 'an unnamed TSA'}</span><br />`)}
              </td>
            </tr>`,
      )}
      <tr>
        <th>command</th>
        <td><code>${l.command.join(' ')}</code></td>
      </tr>
      <tr>
        <th>evidence</th>
        <td><a href="/evidence/${l.evidence}">${l.path}</a> · <a href="/v1/evidence/${l.evidence}">raw</a></td>
      </tr>
    </table>
    ${
      failures.length > 0
        ? html`<p><strong>Failed:</strong></p>
            ${checkList(failures)}`
        : ''
    }
    ${policy !== undefined && failures.length > 0 ? rules(policy, failures) : ''}
    ${artifactTable('materials', l.materials)}${artifactTable('products', l.products)}
  </section>`;
}

function missingSection(s: PolicyStep, chain: ArtifactChain): Html {
  const failures = failuresOf(chain.verdict!.report, s.name);
  return html`<section class="step missing" data-step="${s.name}">
    <h3>${s.name}<span class="badge missing">missing</span></h3>
    <p>The layout requires this step; the store holds no link of it for this artifact's chain.</p>
    ${checkList(failures)}
  </section>`;
}

/** The layout's rules for the step, the one a failed rules check names marked as failing. */
function rules(step: PolicyStep, failures: readonly Check[]): Html {
  const failing = failures.filter((c) => c.id === 'rules').map((c) => ({ type: c.details?.type, rule: c.details?.rule }));
  const list = (type: 'materials' | 'products', texts: readonly string[]) =>
    texts.length === 0
      ? ''
      : html`<p class="muted">expected ${type}:</p>
          <ol class="rules">
            ${texts.map((t) => {
              const bad = failing.some((f) => f.type === type && f.rule === t);
              return html`<li class="${bad ? 'failing-rule' : ''}"><code>${t}</code>${bad ? ' ← failed' : ''}</li>`;
            })}
          </ol>`;
  return html`${list('materials', step.materials)}${list('products', step.products)}`;
}

function artifactTable(title: string, artifacts: ReadonlyMap<string, string>): Html {
  if (artifacts.size === 0) return html`<p class="muted">no ${title}</p>`;
  const rows = [...artifacts].slice(0, MAX_LISTED);
  return html`<details>
    <summary>${artifacts.size} ${title}</summary>
    <table>
      ${rows.map(
        ([name, d]) =>
          html`<tr>
            <td><code>${name}</code></td>
            <td><a class="digest" href="/artifacts/sha256:${d}">sha256:${d.slice(0, 12)}…</a></td>
          </tr>`,
      )}
    </table>
    ${artifacts.size > MAX_LISTED ? html`<p class="muted">and ${artifacts.size - MAX_LISTED} more (see the evidence)</p>` : ''}
  </details>`;
}

function checkList(checks: readonly Check[]): Html {
  return html`<ul class="checks">
    ${checks.map((c) => {
      const cls = c.skipped ? 'skipped' : !c.ok ? 'failed' : c.warning ? 'warning' : 'passed';
      const mark = c.skipped ? '–' : !c.ok ? '✗' : c.warning ? '!' : '✓';
      return html`<li class="${cls}" data-check="${c.id}">
        ${mark} ${c.step !== undefined ? html`<code>${c.step}</code> ` : ''}${c.message}
      </li>`;
    })}
  </ul>`;
}
