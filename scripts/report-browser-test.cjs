// Driven by scripts/report-browser-test (which builds the reports and sets OUT,
// CHROMIUM, PROFILE and NODE_PATH). Exits non-zero on the first failed check.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const OUT = process.env.OUT;
const url = (f) => 'file://' + path.join(OUT, f);
const failures = [];
function check(ok, what) {
  if (ok) console.log('  ok   ' + what);
  else { console.log('  FAIL ' + what); failures.push(what); }
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  // no network: every request must be the file itself (or a data: URL)
  const network = [];
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith('file:') || u.startsWith('data:')) return route.continue();
    network.push(u);
    return route.abort();
  });
  context.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith('file:') && !u.startsWith('data:')) network.push(u);
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  const shot = async (name) => {
    const file = path.join(OUT, name);
    await page.mouse.move(1, 1);
    await page.screenshot({ path: file });
    const size = fs.statSync(file).size;
    check(size > 20000, `${name} is not blank (${size} bytes)`);
  };

  // 1. one real Claude Code session with sub-agents
  console.log('session page (Claude Code fixture with sub-agents)');
  const card = JSON.parse(fs.readFileSync(path.join(OUT, 'session.card.json'), 'utf8'));
  await page.goto(url('session.html'));
  await page.waitForSelector('body[data-rendered]');
  const n = card.steps.length;
  const red = card.steps.filter((s) => s.redundant).length;
  const unp = card.steps.filter((s) => s.verdict === 'unproven').length;
  check(await page.locator('#bars rect.st').count() === n, `every step is drawn (${n} bars)`);
  check(await page.locator('#bars rect.st.v1').count() === red, `redundant steps are marked (${red})`);
  check(await page.locator('#bars rect.st.v2').count() === unp, `unproven steps are marked (${unp})`);
  const lanes = 1 + new Set(card.steps.filter((s) => s.parent).map((s) => s.parent)).size;
  check(await page.locator('#lanes > div').count() === lanes + 2, `one lane per agent and sub-agent (${lanes})`);
  const total = await page.getAttribute('#total-cost', 'data-total');
  check(parseFloat(total) === card.total_cost_usd, `total equals the card's ($${total} = ${card.total_cost_usd})`);
  check((await page.textContent('#total-cost')).includes('$' + total), 'the total is shown');
  const firstRed = card.steps.findIndex((s) => s.redundant);
  if (firstRed >= 0) {
    await page.locator(`#bars rect[data-i="${firstRed}"]`).click({ force: true });
    const det = await page.textContent('#details');
    check(det.includes(`Step ${card.steps[firstRed].id}`) && det.includes('redundant'), 'clicking a redundant bar shows its details');
    check(det.includes(card.steps[firstRed].reason), 'the details show the card\'s reason');
    check(det.includes(card.steps[firstRed].confirmed_by), 'the details show confirmed_by');
  }
  await page.focus('#wf-box');
  await page.keyboard.press('Home');
  check((await page.textContent('#details h2')).startsWith('Step 1 '), 'Home selects step 1');
  let drawn = 0;
  for (let k = 0; k < 30 && drawn === 0; k++) {
    await page.keyboard.press('ArrowRight');
    drawn = await page.locator('#edges path').count();
  }
  check(drawn > 0, `arrow keys move the selection and evidence edges are drawn (${drawn})`);
  check((await page.textContent('#details')).includes('Evidence chain'), 'the evidence chain is listed');
  await page.keyboard.press('r');
  check((await page.textContent('#details h2')).includes('redundant') || red === 0, 'R jumps to a redundant step');
  await shot('session.png');
  await page.click('#mode');
  check((await page.textContent('#wf-h')).includes('by step order') && await page.locator('#bars rect.st').count() === n, 'the timeline switches to step order');
  await page.click('#mode');
  check((await page.textContent('#wf-h')).includes('by start time'), 'and back to time');

  // 2. several sessions: overview, sorting, links
  console.log('overview page');
  const cards = JSON.parse(fs.readFileSync(path.join(OUT, 'overview.cards.json'), 'utf8'));
  await page.goto(url('overview.html'));
  await page.waitForSelector('body[data-rendered]');
  check(await page.locator('#overview-table tbody tr').count() === cards.length, `one row per session (${cards.length})`);
  const sum = cards.reduce((a, c) => a + c.total_cost_usd, 0);
  const ototal = parseFloat(await page.getAttribute('[data-total]', 'data-total'));
  check(Math.abs(ototal - sum) < 1e-9, `overview total equals the cards' sum (${ototal})`);
  await page.click('#overview-table th button[data-k="steps"]');
  const firstSteps = await page.textContent('#overview-table tbody tr:first-child td:nth-child(4)');
  const maxSteps = Math.max(...cards.map((c) => c.steps.length));
  check(+firstSteps.replace(/,/g, '') === maxSteps, 'sorting by steps puts the longest session first');
  check(await page.getAttribute('#overview-table th:nth-child(4)', 'aria-sort') === 'descending', 'aria-sort is set');
  check(await page.locator('#hist rect').count() > 0 && await page.locator('#share rect').count() > 0, 'cost distribution and wasted-share charts are drawn');
  await shot('overview.png');
  await page.click(`#overview-table a:text-is("${card.session_id}")`);
  await page.waitForSelector('#bars');
  check(await page.locator('#bars rect.st').count() === n, 'the session link opens its page');
  await page.click('a.back');
  await page.waitForSelector('#overview-table');
  check(true, 'the back link returns to the overview');

  // 3. costcraft: patches and rules on the steps they cite
  console.log('costcraft patches and rules (--patches / --rules, --distill)');
  const patchesYaml = fs.readFileSync(path.join(OUT, 'distill', 'patches.yaml'), 'utf8');
  const rulesYaml = fs.readFileSync(path.join(OUT, 'distill', 'rules.yaml'), 'utf8');
  const ruleCount = (rulesYaml.match(/^- id: /gm) || []).length;
  // the first kept prune patch, read from the YAML (not from the page)
  const kept = patchesYaml.split(/^refused:/m)[0];
  const prune = /- patch_kind: prune\n  session_id: (\S+)\n  target_step: (\d+)[\s\S]*?\n  expected_savings_usd: ([0-9.e-]+)/.exec(kept);
  await page.goto(url('costcraft.html'));
  await page.waitForSelector('body[data-rendered]');
  check(await page.locator('#rules-table tbody tr').count() === ruleCount, `the overview lists every rule of rules.yaml (${ruleCount})`);
  check(await page.locator('#overview-table th button[data-k="patches"]').count() === 1, 'the overview has a patches column');
  check(prune !== null, 'the distillation kept a prune patch');
  if (prune) {
    const [, sid, target, savings] = prune;
    await page.click(`#overview-table a:text-is("${sid}")`);
    await page.waitForSelector('#bars');
    check(await page.locator('#pmarks path').count() > 0, 'patch targets are marked on the timeline');
    await page.locator(`#bars rect[data-i="${+target - 1}"]`).click({ force: true });
    const det = await page.textContent('#details');
    check(det.includes('Patches (') && det.includes('prune') && det.includes('targets this step'), `step ${target} of ${sid} shows its prune patch`);
    check(det.includes('saves $' + savings), `with the patch's savings ($${savings})`);
    check(det.includes('Rules ('), 'and the rules citing it');
    check((await page.textContent('#costcraft')).includes('Patches of this session'), 'the session lists its patches');
    await shot('costcraft.png');
    await page.keyboard.press('p');
    check((await page.textContent('#details')).includes('targets this step'), 'P jumps to a patch target');
  }
  await page.goto(url('distilled.html'));
  await page.waitForSelector('body[data-rendered]');
  check(await page.locator('#patches-table tbody tr').count() > 0, '--distill: the fixture session lists its patches');
  await page.click('button[data-n="p"]');
  check((await page.textContent('#details')).includes('targets this step'), '--distill: a patch shows on its target step');

  // 4. a replayer confirmed the verdicts
  console.log('replay-confirmed verdicts (--replayer)');
  const rcard = JSON.parse(fs.readFileSync(path.join(OUT, 'replay.card.json'), 'utf8'));
  const rstep = rcard.steps.find((x) => (x.confirmed_by || '').startsWith('replay:'));
  check(rstep !== undefined, 'compile --replayer confirms a step by replay');
  if (rstep) {
    await page.goto(url('replay.html'));
    await page.waitForSelector('body[data-rendered]');
    await page.locator(`#bars rect[data-i="${rstep.id - 1}"]`).click({ force: true });
    check((await page.textContent('#details')).includes(rstep.confirmed_by), `the report shows confirmed_by ${rstep.confirmed_by}`);
  }

  // 5. hostile strings stay text
  console.log('hostile session');
  await page.goto(url('hostile.html'));
  await page.waitForSelector('body[data-rendered]');
  check(await page.locator('img').count() === 0, 'no element injected by the session id');
  check((await page.textContent('h1')).includes('</script><img'), 'the hostile id is shown as text');
  check((await page.textContent('#rollups')).includes('</script><script>alert(1)</script>'), 'the hostile tool name is shown as text');
  check(await page.locator('script').count() === 2, 'no script element was added');
  await page.locator('#bars rect.st').nth(4).click({ force: true });
  check(dialogs.length === 0, 'no script ran from the data');

  // 6. 10,000 steps render in under 2 s
  console.log('generated 10,000-step session');
  const t0 = Date.now();
  await page.goto(url('big.html'));
  await page.waitForSelector('body[data-rendered]');
  const ms = await page.evaluate(() => window.tracecardRenderedMs);
  const bars = await page.locator('#bars rect.st').count();
  const want = +(await page.getAttribute('[data-steps]', 'data-steps'));
  check(bars === want && want >= 9990, `every step is drawn (${bars})`);
  check(ms < 2000, `rendered in ${Math.round(ms)} ms (< 2000; ${Date.now() - t0} ms with loading)`);
  const c0 = Date.now();
  await page.locator('#bars rect.st').nth(5000).click({ force: true });
  check(Date.now() - c0 < 1000, `selecting a step takes ${Date.now() - c0} ms`);
  await shot('big.png');

  check(network.length === 0, 'no network request was attempted' + (network.length ? ': ' + network.join(' ') : ''));
  check(errors.length === 0, 'no script error' + (errors.length ? ': ' + errors.join(' | ') : ''));
  await browser.close();
  if (failures.length) { console.log(`report-browser-test: ${failures.length} check(s) failed`); process.exit(1); }
  console.log('report-browser-test: all checks passed; screenshots in ' + OUT);
})().catch((e) => { console.error(e); process.exit(1); });
