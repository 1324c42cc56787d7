// The referral journey of issue 17 by hand, in headless Chromium (puppeteer-core, axe-core):
// the referrer makes a referral through the form; the receiving service opens it and accepts
// it; a third organisation's user is refused the referral ("not found", no person on the
// page); a Board member is refused it and sees the figures only. axe-core runs on each
// page seen.
//
//   node referrals.mjs BASE_URL
//
// Environment: ALLIANCE_REFERRER_EMAIL, ALLIANCE_RECEIVER_EMAIL, ALLIANCE_THIRD_EMAIL,
// ALLIANCE_BOARD_EMAIL (users of that server, all with the password ALLIANCE_PASSWORD),
// ALLIANCE_REFERRAL_SERVICE (the id of a service taking referrals, run by the receiver's
// organisation, asking for initials, age, sex, district and contact), ALLIANCE_INITIALS and
// ALLIANCE_PHONE (the personal values typed, looked for where they must not be),
// ALLIANCE_CHROMIUM. Prints one line per check, then `referral ID` and exits 1 when any
// check failed. Nothing leaves the machine: every request to another site is refused.

import puppeteer from 'puppeteer-core';
import { axe, check, failures, go, newPage, offsite, submit, text } from './harness.mjs';

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return v;
};
const password = env('ALLIANCE_PASSWORD');
const users = {
  referrer: env('ALLIANCE_REFERRER_EMAIL'),
  receiver: env('ALLIANCE_RECEIVER_EMAIL'),
  third: env('ALLIANCE_THIRD_EMAIL'),
  board: env('ALLIANCE_BOARD_EMAIL'),
};
const service = env('ALLIANCE_REFERRAL_SERVICE');
const initials = env('ALLIANCE_INITIALS');
const phone = env('ALLIANCE_PHONE');
const chromium = process.env.ALLIANCE_CHROMIUM || '/usr/bin/chromium';

/** A browser context signed in as `email` (each user its own cookies). */
async function signedIn(browser, email) {
  const context = await browser.createBrowserContext();
  const page = await newPage(context);
  await go(page, '/sign-in');
  await page.type('#email', email);
  await page.type('#password', password);
  await submit(page, 'form button[type=submit]');
  if (new URL(page.url()).pathname === '/sign-in') throw new Error('could not sign in as ' + email);
  return page;
}

function hasPerson(body) {
  return body.includes(initials) || body.includes(phone);
}

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'],
});
let referral = null;
try {
  const referrer = await signedIn(browser, users.referrer);
  await check('the referrer makes a referral through the form', async () => {
    const status = await go(referrer, `/referrals/new?service=${encodeURIComponent(service)}`);
    if (status !== 200) return `form: status ${status}`;
    const violations = await axe(referrer);
    if (violations) return `the form: ${violations}`;
    await referrer.select('#source', 'school');
    await referrer.select('#reason', 'carrying-weapon');
    await referrer.click('#other-needs-school-exclusion');
    await referrer.type('#initials', initials);
    await referrer.type('#age', '15');
    await referrer.select('#sex', 'male');
    await referrer.type('#postcode-district', 'ST4');
    await referrer.select('#contact-route', 'phone');
    await referrer.type('#contact-detail', phone);
    await referrer.select('#consent-given-by', 'parent-or-carer');
    const d = new Date();
    const today = `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
    await referrer.type('#consent-date', today);
    await referrer.select('#consent-method', 'verbal');
    await referrer.select('#lawful-basis', 'public-task');
    await referrer.type('#lawful-basis-reason', 'Safeguarding under the Children Act 2004 and the Serious Violence Duty');
    const sent = await submit(referrer, 'form[action="/referrals"] button[type=submit]');
    const match = new URL(referrer.url()).pathname.match(/^\/referrals\/(\d+)$/);
    if (sent !== 200 || !match) return `after sending: status ${sent} at ${referrer.url()}\n${(await text(referrer)).slice(0, 800)}`;
    referral = match[1];
    const body = await text(referrer);
    if (!body.includes(initials)) return 'the referrer does not see the person it referred';
    return axe(referrer);
  });
  if (referral === null) throw new Error('no referral was made: the other checks need one');

  const receiver = await signedIn(browser, users.receiver);
  await check('the receiving service sees it in its queue, opens it and accepts it', async () => {
    if ((await go(receiver, '/referrals')) !== 200) return 'its list did not open';
    const list = await text(receiver);
    if (hasPerson(list)) return 'the list shows personal data';
    if (!(await receiver.$(`a[href="/referrals/${referral}"]`))) return 'the referral is not in its queue';
    if ((await go(receiver, `/referrals/${referral}`)) !== 200) return 'the referral did not open';
    if (!(await text(receiver)).includes(initials)) return 'the receiving service does not see the person';
    const violations = await axe(receiver);
    if (violations) return violations;
    const status = await submit(receiver, 'button[name="event"][value="accept"]');
    if (status !== 200) return `accepting: status ${status}`;
    const body = await text(receiver);
    return body.includes('Accepted') ? '' : `no "Accepted" status after accepting:\n${body.slice(0, 800)}`;
  });

  await check('the referrer sees the new status', async () => {
    await go(referrer, `/referrals/${referral}`);
    return (await text(referrer)).includes('Accepted') ? '' : 'the status is not shown to the referrer';
  });

  const third = await signedIn(browser, users.third);
  await check("a third organisation's user is refused the referral and sees no person", async () => {
    const status = await go(third, `/referrals/${referral}`);
    if (status !== 404) return `expected 404, got ${status}`;
    if (hasPerson(await text(third))) return 'the refusal page shows personal data';
    await go(third, '/referrals');
    if (hasPerson(await text(third))) return 'its list shows personal data';
    return '';
  });

  const board = await signedIn(browser, users.board);
  await check('a Board member is refused the referral and sees the figures only', async () => {
    const status = await go(board, `/referrals/${referral}`);
    if (status !== 403) return `expected 403 for the referral, got ${status}`;
    if (hasPerson(await text(board))) return 'the refusal page shows personal data';
    if ((await go(board, '/referrals/figures')) !== 200) return 'the figures did not open';
    const figures = await text(board);
    if (hasPerson(figures)) return 'the figures show personal data';
    if (!figures.includes('fewer than')) return 'the single referral is not shown suppressed';
    return axe(board);
  });

  await check('no request left the machine', async () => (offsite.length ? offsite.join('\n') : ''));
} finally {
  await browser.close();
}
if (referral !== null) console.log(`referral ${referral}`);
console.log(failures ? `${failures} check(s) failed` : 'all referral checks passed');
process.exit(failures ? 1 : 0);
