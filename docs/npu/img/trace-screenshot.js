// Opens a `tessera sim --trace` file in the Performance panel of the DevTools that Chromium ships
// (devtools://devtools/bundled/trace_app.html) and saves a screenshot. See README.md in this folder.
// usage: node trace-screenshot.js TRACE.json OUT.png [X,Y of an event to select]
const fs = require('fs');
const { chromium } = require('playwright-core');
(async () => {
  const [trace, out, select] = process.argv.slice(2);
  const queues = new Set(JSON.parse(fs.readFileSync(trace, 'utf8')).traceEvents.filter(e => e.ph === 'X').map(e => e.tid)).size;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  const H = 680;
  const page = await browser.newPage({ viewport: { width: 1400, height: H } });
  await page.goto('devtools://devtools/bundled/trace_app.html');
  await page.waitForTimeout(3000);
  await page.keyboard.press('Escape');                       // "Debugging connection was closed": there is no page to debug
  await page.getByText('Performance', { exact: true }).first().click();
  await page.waitForTimeout(1500);
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Control+O')]);   // "Load profile…"
  await chooser.setFiles(trace);
  await page.waitForTimeout(4000);
  await page.getByRole('button', { name: /close/i }).first().click().catch(() => {});   // keyboard-shortcuts popup
  await page.getByRole('button', { name: /sidebar/i }).first().click().catch(() => {});  // insights sidebar
  await page.waitForTimeout(500);
  await page.mouse.click(30, 129);                            // expand the process ("npu e1")
  await page.waitForTimeout(500);
  for (let k = queues - 1; k >= 0; k--) {                     // expand each queue track, bottom one first
    await page.mouse.click(20, 146 + 21 * k);
    await page.waitForTimeout(300);
  }
  await page.mouse.move(700, H - 199);                        // drag the details pane up to just under the tracks
  await page.mouse.down();
  await page.mouse.move(700, 140 + 38 * queues + 40, { steps: 5 });
  await page.mouse.up();
  if (select) {
    const [x, y] = select.split(',').map(Number);
    await page.mouse.click(x, y);
    await page.mouse.move(700, 450);
    await page.waitForTimeout(800);
  }
  await page.screenshot({ path: out });
  await browser.close();
})();
