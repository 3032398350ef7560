/**
 * The pages' one stylesheet, served at /assets/style.css. Plain CSS, no framework: a colleague changes a
 * colour here without learning a build. Step states: passed (green), failed (red), missing (red, dashed),
 * unverified (grey: no layout was configured to judge them).
 */
export const STYLE_CSS = `
:root { --ok: #1a7f37; --bad: #cf222e; --muted: #57606a; --line: #d0d7de; --bg: #f6f8fa; font-family: system-ui, sans-serif; }
body { margin: 0; color: #1f2328; }
header { display: flex; gap: 1.5rem; align-items: center; padding: .7rem 1.5rem; border-bottom: 1px solid var(--line); background: var(--bg); }
header a.home { font-weight: 700; color: inherit; text-decoration: none; }
header form { display: flex; gap: .4rem; flex: 1; max-width: 46rem; }
header input[type=search] { flex: 1; padding: .35rem .5rem; font: inherit; border: 1px solid var(--line); border-radius: 4px; }
main { padding: 1rem 1.5rem 3rem; max-width: 80rem; }
h1 { font-size: 1.35rem; word-break: break-all; }
h2 { font-size: 1.1rem; margin-top: 2rem; border-bottom: 1px solid var(--line); padding-bottom: .3rem; }
h3 { font-size: 1rem; margin-bottom: .3rem; }
code, pre, .digest { font-family: ui-monospace, monospace; font-size: .85rem; }
pre { background: var(--bg); padding: .8rem; overflow: auto; border-radius: 4px; max-height: 40rem; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { text-align: left; padding: .25rem .7rem .25rem 0; vertical-align: top; border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; }
.muted { color: var(--muted); }
.verdict { padding: .8rem 1rem; border-radius: 6px; font-weight: 600; margin: 1rem 0; }
.verdict.passed { background: #dafbe1; color: var(--ok); }
.verdict.failed { background: #ffebe9; color: var(--bad); }
.verdict.unverified { background: var(--bg); color: var(--muted); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 1rem; font-size: .8rem; font-weight: 600; margin-left: .4rem; }
.badge.passed { background: #dafbe1; color: var(--ok); }
.badge.failed, .badge.missing { background: #ffebe9; color: var(--bad); }
.badge.unverified { background: var(--bg); color: var(--muted); }
ul.checks { list-style: none; padding: 0; }
ul.checks li { padding: .15rem 0; }
ul.checks li.failed { color: var(--bad); font-weight: 600; }
ul.checks li.warning { color: #9a6700; }
ul.checks li.skipped { color: var(--muted); }
ol.rules { padding-left: 1.5rem; }
ol.rules li.failing-rule { background: #ffebe9; color: var(--bad); font-weight: 600; }
section.step { border-left: 4px solid var(--line); padding-left: 1rem; margin: 1.2rem 0; }
section.step.passed { border-color: var(--ok); }
section.step.failed, section.step.missing { border-color: var(--bad); }
.graph { overflow: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
svg.chain { max-width: 100%; height: auto; }
svg.chain text { font-size: 12px; text-anchor: middle; fill: #1f2328; }
svg.chain .node rect { fill: #fff; stroke: var(--muted); stroke-width: 1.5; }
svg.chain .node .title { font-weight: 700; font-size: 13px; }
svg.chain .node .subtitle { fill: var(--muted); font-size: 11px; }
svg.chain .node.passed rect { stroke: var(--ok); fill: #f0fff4; }
svg.chain .node.failed rect { stroke: var(--bad); fill: #fff5f5; stroke-width: 3; }
svg.chain .node.missing rect { stroke: var(--bad); stroke-dasharray: 6 4; fill: #fff5f5; }
svg.chain .node.sources rect { fill: var(--bg); }
svg.chain .node.artifact rect { stroke-width: 2.5; }
svg.chain .edge polyline { fill: none; stroke: #8c959f; stroke-width: 1.5; }
svg.chain .edge text { fill: var(--muted); font-size: 11px; }
svg.chain marker path { fill: #8c959f; }
`;

/** The pages' icon: a check mark on a shield, so a tab of the store is told from others. */
export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path d="M16 2 4 7v8c0 8 5 13 12 15 7-2 12-7 12-15V7z" fill="#1a7f37"/><path d="m10 16 4 4 8-9" stroke="#fff" stroke-width="3" fill="none"/></svg>`;
