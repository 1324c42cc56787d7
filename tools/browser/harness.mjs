// What the browser scripts (check.mjs, referrals.mjs) share, written once: the server's
// address from the command line, one line per check with a count of the failures, tabs that
// keep every request on the machine, axe-core, and moving between pages.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
/** WCAG 2.0, 2.1 and 2.2, levels A and AA. */
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];

/** The server checked: the script's first argument, without a trailing slash. */
export const base = (process.argv[2] || '').replace(/\/$/, '');
if (!/^https?:\/\//.test(base)) {
  console.error(`usage: node ${basename(process.argv[1] || 'check.mjs')} BASE_URL   (e.g. http://127.0.0.1:8080)`);
  process.exit(2);
}

/** How many checks failed so far. */
export let failures = 0;
/** The requests to other sites the tabs answered locally (each one a failure to report). */
export const offsite = [];

export function pass(what) {
  console.log(`ok    ${what}`);
}
export function fail(what, detail) {
  failures += 1;
  console.log(`FAIL  ${what}${detail ? `\n      ${detail.replace(/\n/g, '\n      ')}` : ''}`);
}
/** Runs one named check; an exception fails it (and the run goes on). */
export async function check(what, body) {
  try {
    const detail = await body();
    if (detail) fail(what, detail);
    else pass(what);
  } catch (e) {
    fail(what, String(e && e.stack ? e.stack : e));
  }
}

/**
 * A tab that answers every request to another site locally (recorded in `offsite`, unless
 * `answer(request)` answered it and returned true), and records console errors.
 */
export async function newPage(context, { javascript = true, answer = () => false } = {}) {
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  await page.setJavaScriptEnabled(javascript);
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    const url = request.url();
    if (url.startsWith(base) || url.startsWith('data:') || url.startsWith('blob:')) {
      request.continue();
    } else if (!answer(request)) {
      offsite.push(url);
      request.respond({ status: 204, body: '' });
    }
  });
  page.consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') page.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => page.consoleErrors.push(String(e)));
  return page;
}

/** Opens `path` of the server; its HTTP status (0 when there was no response). */
export async function go(page, path) {
  const response = await page.goto(base + path, { waitUntil: 'load' });
  return response ? response.status() : 0;
}

/** axe on the page as it is now; a description of the violations, or '' when none. */
export async function axe(page) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    // Injected through the DevTools protocol: works with the page's JavaScript off too.
    await page.setJavaScriptEnabled(true);
    await page.evaluate(AXE_SOURCE);
  }
  const result = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
    AXE_TAGS,
  );
  return result.violations
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n` + v.nodes.slice(0, 5).map((n) => `  at ${n.target.join(' ')}: ${n.failureSummary.split('\n').slice(1).join(' ').trim()}`).join('\n'))
    .join('\n');
}

/** The page's visible text. */
export async function text(page) {
  return page.evaluate(() => document.body.innerText);
}

/** Clicks a submit button and waits for the page it leads to; its HTTP status. */
export async function submit(page, selector) {
  const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(selector)]);
  return response ? response.status() : 0;
}
