// Opens the echo_server page in headless Chromium, waits for the data
// channel, sends one message and checks the echo; prints one JSON line.
// Uses the Playwright install of interop/browser; run it in a
// loopback-only namespace like the interop tests:
//
//   cargo build --release -p rtcwire-examples --example echo_server
//   cd interop/browser && ./netns-run.sh sh -c '
//     ../../target/release/examples/echo_server --listen 127.0.0.1:8080 & s=$!; sleep 0.5
//     NODE_PATH=$PWD/node_modules node ../../examples/echo_check.js http://127.0.0.1:8080/; kill $s'
//
// (`--tls` and https:// work the same; the certificate error is ignored.)
// Chromium hides host addresses behind mDNS names unless the page has
// media permission; in a namespace without multicast it then gathers
// nothing, so mDNS hiding is switched off here.
const { chromium } = require('playwright-core');
(async () => {
  const url = process.argv[2];
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--allow-loopback-in-peer-connection', '--ignore-certificate-errors', '--disable-features=WebRtcHideLocalIpsWithMdns'],
  });
  const page = await browser.newPage();
  page.on('console', (m) => console.error('page:', m.text()));
  const t0 = Date.now();
  await page.goto(url);
  try {
    await page.waitForFunction(() => window.echo.state === 'open' || window.echo.error, null, { timeout: 8000 });
  } catch (e) {
    console.error('state', JSON.stringify(await page.evaluate(() => window.echo)), await page.evaluate(() => document.getElementById('log').innerText));
    throw e;
  }
  const state = await page.evaluate(() => window.echo);
  if (state.error) throw new Error(state.error);
  const opened = Date.now() - t0;
  await page.evaluate(() => window.echoSend('hello from chromium'));
  await page.waitForFunction(() => window.echo.received.length > 0, null, { timeout: 5000 });
  const got = await page.evaluate(() => window.echo.received);
  console.log(JSON.stringify({ url, ok: got[0] === 'echo: hello from chromium', opened_ms: opened, got }));
  await browser.close();
})().catch((e) => { console.error('FAILED', e.message); process.exit(1); });
