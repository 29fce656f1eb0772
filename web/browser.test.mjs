// Browser tests of the API page (/docs) and the live view (/_stub/ui):
// the stub binary on 127.0.0.1, Debian's Chromium driven headless by
// playwright-core. Run from the repository root with `make test-browser`
// (which builds bin/osm-stub); screenshots go to web/test-output/.
//
// Every page must load only from the stub's own origin (any other request
// is aborted and fails the test) and log no error to the console.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(here, 'test-output');
const stubBin = process.env.OSM_STUB_BIN || path.join(here, '..', 'bin', 'osm-stub');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

const DEMO_TOKEN = 'demo-token'; // internal/fixtures/demo.yaml
// The contract's operations by tag, in the order of its tags (openapi.yaml).
const OPERATIONS = {
  Tickets: ['CreateCases', 'ListCases', 'ShowCaseDetail', 'ShowCaseStatus', 'UpdateCases', 'CreateScores'],
  Messages: ['CreateMessages', 'ListMessages'],
  Attachments: ['UploadJsonAccessories', 'ShowAccessoryLimits'],
  Catalogue: ['ListProductCategories', 'ListProblemTypes'],
  Relations: ['CreateRelations', 'ListRelation', 'DeleteRelation'],
};
// Credentials of the demo data that no page may show.
const SECRETS = ['demo-token', 'teammate-token', 'outsider-token', 'demo-secret-key', 'outsider-secret-key'];

// startStub runs the stub on a free port of 127.0.0.1 and resolves with its
// URL once it logs that it listens.
function startStub(...args) {
  const proc = spawn(stubBin, ['-addr', '127.0.0.1:0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const log = [];
  return new Promise((resolve, reject) => {
    proc.on('error', reject);
    proc.on('exit', (code) => reject(new Error(`osm-stub exited (${code}) before listening:\n${log.join('\n')}`)));
    createInterface({ input: proc.stderr }).on('line', (line) => {
      log.push(line);
      const m = /msg="osm-stub listening".* url=(\S+)/.exec(line);
      if (m) resolve({ url: m[1], stop: () => stopStub(proc) });
    });
  });
}

function stopStub(proc) {
  if (proc.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.removeAllListeners('exit');
    proc.on('exit', resolve);
    proc.kill('SIGTERM');
  });
}

let browser;

before(async () => {
  assert.ok(existsSync(stubBin), `${stubBin} is missing: run 'make build' (make test-browser does)`);
  assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing: apt-get install chromium, or set CHROMIUM`);
  await mkdir(outDir, { recursive: true });
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close();
});

// openPage returns a page of a fresh context that aborts and records any
// request outside origin, and records console errors and page errors.
async function openPage(t, origin) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  t.after(() => context.close());
  const page = await context.newPage();
  const problems = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin || url.startsWith('data:')) return route.continue();
    problems.push(`request outside the stub: ${url}`);
    return route.abort();
  });
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`); });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return { page, problems };
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(outDir, name), fullPage: true });
}

// api sends a contract request as user demo and returns the answer's body,
// failing on any status but 200 and on a business refusal (error_code).
async function api(base, method, target, body) {
  const res = await fetch(base + target, {
    method,
    headers: { 'X-Auth-Token': DEMO_TOKEN, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `${method} ${target}: ${text}`);
  const out = text ? JSON.parse(text) : {};
  assert.ok(!out.error_code, `${method} ${target}: refused: ${text}`);
  return out;
}

async function assertNoSecret(page) {
  const html = await page.content();
  for (const s of SECRETS) assert.ok(!html.includes(s), `the page shows the credential ${s}`);
}

test('the API page runs CreateRelations against the stub and the live view draws it', async (t) => {
  const stub = await startStub();
  t.after(stub.stop);
  const { page, problems } = await openPage(t, stub.url);

  await t.test('/docs shows the 15 operations under their five tags', async () => {
    const res = await page.goto(`${stub.url}/docs`);
    assert.equal(res.status(), 200);
    for (const [tag, ops] of Object.entries(OPERATIONS)) {
      for (const op of ops) await page.locator(`#operations-${tag}-${op}`).waitFor();
    }
    const tags = await page.locator('h3.opblock-tag').evaluateAll((hs) => hs.map((h) => h.dataset.tag));
    assert.deepEqual(tags, Object.keys(OPERATIONS));
    assert.equal(await page.locator('.opblock').count(), Object.values(OPERATIONS).flat().length);
    const servers = await page.locator('.servers select option').allTextContents();
    assert.deepEqual(servers.map((s) => s.trim().split(' ')[0]), ['/'], 'Try it out must call the stub only');
    await shot(page, 'docs.png');
  });

  await t.test('Authorize with the demo token', async () => {
    await page.locator('.scheme-container button.authorize').click();
    const token = page.locator('.modal-ux .auth-container', { hasText: 'X-Auth-Token' });
    await token.locator('input').fill(DEMO_TOKEN);
    await token.locator('button.authorize').click();
    await token.locator('button', { hasText: 'Logout' }).waitFor();
    await shot(page, 'docs-authorize.png');
    await page.locator('.modal-ux button.close-modal').click();
  });

  await t.test('CreateRelations through Try it out answers {}', async () => {
    const op = page.locator('#operations-Relations-CreateRelations');
    await op.locator('.opblock-summary-control').click();
    await op.locator('button.try-out__btn').click();
    await op.locator('tr[data-param-name="case_id"] input').fill('DEMO-1');
    await op.locator('textarea.body-param__text').fill(
      JSON.stringify({ related_id_list: ['DEMO-3'], group_id: 'team' }, null, 2));
    await op.locator('button.execute').click();
    const live = op.locator('.live-responses-table');
    await live.locator('.response-col_status', { hasText: '200' }).waitFor();
    const body = (await live.locator('.response-col_description pre').first().textContent()).trim();
    assert.equal(body, '{}');
    await op.locator('.live-responses-table').scrollIntoViewIfNeeded();
    await shot(page, 'docs-try-it-out.png');
  });

  await t.test('/_stub/ui draws the association, redraws on a change and shows no credential', async () => {
    const res = await page.goto(`${stub.url}/_stub/ui`);
    assert.equal(res.status(), 200);
    await page.locator('#graph g.relation[data-a="DEMO-1"][data-b="DEMO-3"]').waitFor();
    await page.locator('#graph g.ticket[data-id="TEAM-1"][data-owner="teammate"]').waitFor();
    await page.locator('#graph g.owner[data-owner="outsider"]').waitFor();
    assert.equal(await page.locator('#graph g.relation').count(), 1);
    await shot(page, 'live.png');

    // A change made elsewhere appears without reloading the page.
    const made = await fetch(`${stub.url}/_stub/relations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ case_id: 'DEMO-2', related_ids: ['TEAM-1'] }),
    });
    assert.equal(made.status, 204);
    await page.locator('#graph g.relation[data-a="DEMO-2"][data-b="TEAM-1"]').waitFor();
    assert.match(await page.locator('#status').textContent(), /^updated /);
    await assertNoSecret(page);
    await shot(page, 'live-redrawn.png');
  });

  assert.deepEqual(problems, []);
});

// A ticket opened, messaged and related through the API appears in the
// live view with its status, its number of messages and its associations,
// newest first; a later change of status and a new message redraw it.
test('the live view shows a ticket created through the API', async (t) => {
  const stub = await startStub();
  t.after(stub.stop);
  const { page, problems } = await openPage(t, stub.url);

  const { incident_id: id } = await api(stub.url, 'POST', '/v2/servicerequest/cases', {
    business_type_id: 'ECS-CONSULT',
    simple_description: 'from the browser test',
    source_id: '83aeb0f2834c4df49826c781d32a963e',
  });
  assert.match(id, /^CS\d{14}$/);
  const MESSAGE = 'first message from the browser test';
  await api(stub.url, 'POST', `/v2/servicerequest/cases/${id}/message`, { message: { content: MESSAGE } });
  await api(stub.url, 'POST', `/v2/servicerequest/cases/${id}/relations`, { related_id_list: ['DEMO-2'] });

  const res = await page.goto(`${stub.url}/_stub/ui`);
  assert.equal(res.status(), 200);
  const row = page.locator(`#tickets tbody tr[data-id="${id}"]`);
  await row.waitFor();
  assert.equal(await page.locator('#tickets tbody tr').first().getAttribute('data-id'), id, 'the newest ticket is not first');
  assert.equal(await row.locator('td.status').textContent(), '0 to be processed');
  assert.equal(await row.locator('td.status .st').textContent(), 'to be processed');
  // The description is the ticket's first message, then ours.
  assert.equal(await row.locator('td.messages').textContent(), '2');
  assert.equal(await row.locator('td.relations').textContent(), 'DEMO-2');
  assert.equal(await row.locator('.account').count(), 0, 'the default account is shown');
  const demo2 = page.locator('#tickets tbody tr[data-id="DEMO-2"]');
  assert.equal(await demo2.locator('td.relations').textContent(), id);
  // The demo data's DEMO-6 has two messages, one of them an engineer's.
  assert.equal(await page.locator('#tickets tbody tr[data-id="DEMO-6"] td.messages').textContent(), '2');
  await page.locator(`#graph g.ticket[data-id="${id}"][data-status="0"]`).waitFor();
  await page.locator(`#graph g.relation[data-a="${id}"][data-b="DEMO-2"]`).waitFor();
  assert.ok(!(await page.content()).includes(MESSAGE), 'the page shows a message\'s text');
  await shot(page, 'live-ticket.png');

  await api(stub.url, 'POST', `/v2/servicerequest/cases/${id}/message`, { message: { content: 'a second one' } });
  await api(stub.url, 'POST', `/v2/servicerequest/cases/${id}/action?action_id=cancel`, {});
  // The cancel came last: the state that shows it shows the message too.
  await row.locator('td.status', { hasText: 'canceled' }).waitFor();
  assert.equal(await row.locator('td.status').textContent(), '4 canceled');
  assert.equal(await row.locator('td.messages').textContent(), '3');
  await page.locator(`#graph g.ticket[data-id="${id}"][data-status="4"]`).waitFor();
  await assertNoSecret(page);
  await shot(page, 'live-ticket-canceled.png');
  assert.deepEqual(problems, []);
});

// Accounts other than the default one are named next to their users and
// tickets; the default one is not.
test('the live view names a ticket\'s account when it is not the default one', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'osm-stub-browser-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const fixtures = path.join(dir, 'accounts.json');
  await writeFile(fixtures, JSON.stringify({
    users: [
      { name: 'alice', account: 'acme', tokens: ['alice-token-for-the-browser-test'] },
      { name: 'bob', tokens: ['bob-token-for-the-browser-test'] },
    ],
    tickets: [
      { id: 'ACME-1', owner: 'alice', simple_description: 'an acme ticket', status: 17, create_time: '2026-12-01T08:00:00Z' },
      { id: 'BOB-1', owner: 'bob', simple_description: 'a ticket of the default account', status: 5, create_time: '2026-12-02T08:00:00Z' },
    ],
  }));
  const stub = await startStub('-fixtures', fixtures);
  t.after(stub.stop);
  const { page, problems } = await openPage(t, stub.url);

  await page.goto(`${stub.url}/_stub/ui`);
  const acme = page.locator('#tickets tbody tr[data-id="ACME-1"]');
  await acme.waitFor();
  assert.deepEqual(await page.locator('#tickets tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.id)), ['BOB-1', 'ACME-1']);
  assert.equal(await acme.locator('.account').textContent(), 'acme');
  assert.equal(await acme.locator('td.status').textContent(), '17 pending feedback');
  assert.equal(await acme.locator('td.created').textContent(), '2026-12-01 08:00');
  const bob = page.locator('#tickets tbody tr[data-id="BOB-1"]');
  assert.equal(await bob.locator('.account').count(), 0);
  assert.equal(await bob.locator('td.status').textContent(), '5 paused');
  assert.equal(await page.locator('#owners tbody .account').allTextContents().then((a) => a.join()), 'acme');
  await page.locator('#graph g.owner[data-owner="alice"] text', { hasText: 'alice (acme)' }).waitFor();
  await shot(page, 'live-accounts.png');
  assert.deepEqual(problems, []);
});

test('with -control=false the API page shows only the contract and there is no live view', async (t) => {
  const stub = await startStub('-control=false');
  t.after(stub.stop);
  const { page, problems } = await openPage(t, stub.url);

  await page.goto(`${stub.url}/docs`);
  await page.locator('#operations-Relations-CreateRelations').waitFor();
  assert.deepEqual(await page.locator('#spec option').allTextContents(), ['OSM service tickets (the contract)']);
  assert.equal(await page.locator('a[href="/_stub/ui"]').count(), 0);
  assert.deepEqual(problems, []);

  const res = await page.goto(`${stub.url}/_stub/ui`);
  assert.equal(res.status(), 404); // which Chromium logs as a console error
});

test('the control API document opens on the API page', async (t) => {
  const stub = await startStub();
  t.after(stub.stop);
  const { page, problems } = await openPage(t, stub.url);

  await page.goto(`${stub.url}/docs`);
  await page.locator('#operations-Relations-CreateRelations').waitFor();
  assert.ok(await page.locator('#hint').isVisible());
  await page.locator('#spec').selectOption('/docs/control.openapi.yaml');
  assert.ok(await page.locator('#hint').isHidden(), 'the contract\'s demo token hint stays');
  await page.locator('#operations-State-GetState').waitFor();
  await page.locator('#operations-Views-GetLiveView').waitFor();
  await shot(page, 'docs-control.png');
  assert.deepEqual(problems, []);
});

// A stub started with -control-token: the live view's page opens without
// the token, and its data requests carry it as a bearer header, taken from
// the fragment or the input box, never kept in the address bar or the page.
test('the live view sends the control token from the fragment or its input box', async (t) => {
  const TOKEN = 'real-control-token-1';
  const stub = await startStub('-control-token', TOKEN);
  t.after(stub.stop);
  const { page, problems } = await openPage(t, stub.url);

  const seen = [];
  page.on('request', (req) => {
    if (req.url().endsWith('/_stub/state')) seen.push(req.headers().authorization ?? '');
  });

  // The fragment's token works at once.
  await page.goto(`${stub.url}/_stub/ui#token=${TOKEN}`);
  await page.locator('#graph g.ticket[data-id="DEMO-1"]').waitFor();
  assert.equal(seen[0], `Bearer ${TOKEN}`);
  assert.equal(await page.evaluate(() => location.hash), '', 'the token stays in the address bar');
  assert.ok(!(await page.content()).includes(TOKEN), 'the page shows the token');

  // A wrong one is refused by the stub (401 STUB.0003): the page asks for
  // the token, and uses the one typed.
  const { page: second } = await openPage(t, stub.url);
  await second.goto(`${stub.url}/_stub/ui#token=wrong-token`);
  await second.locator('#auth:not([hidden])').waitFor();
  await shot(second, 'live-token-refused.png');
  await second.locator('#token').fill(TOKEN);
  await second.locator('#auth button').click();
  await second.locator('#auth[hidden]').waitFor({ state: 'attached' });
  await second.locator('#graph g.ticket[data-id="DEMO-1"]').waitFor();
  assert.ok(!(await second.content()).includes(TOKEN), 'the page shows the typed token');
  assert.deepEqual(problems.filter((p) => !p.includes('401')), []);
});
