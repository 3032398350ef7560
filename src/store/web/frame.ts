import { html, type Html } from './html.js';

/**
 * Every page's frame: the search box on top, the content below. No script anywhere: the pages are
 * documents, served with a Content-Security-Policy that allows none (pages.ts).
 */
export function frame(title: string, body: Html, query = ''): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · evident store</title>
        <link rel="stylesheet" href="/assets/style.css" />
        <link rel="icon" href="/assets/icon.svg" type="image/svg+xml" />
      </head>
      <body>
        <header>
          <a class="home" href="/">evident store</a>
          <form action="/search" method="get" role="search">
            <input
              type="search"
              name="q"
              value="${query}"
              aria-label="digest or file name"
              placeholder="sha256:… digest, or a file name (app.tar.gz, src/main.c)"
              required
            /><button type="submit">Search</button>
          </form>
        </header>
        <main>${body}</main>
      </body>
    </html>`.text;
}

/** A short digest that still tells evidence apart on a page (the full one is in its title). */
export function shortDigest(digest: string): Html {
  return html`<span class="digest" title="${digest}">${digest.slice(0, 19)}…</span>`;
}
