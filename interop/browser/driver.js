#!/usr/bin/env node
// Drives Debian's headless Chromium (through playwright-core) for rtcwire's
// browser interop. See README.md. Logs go to stderr; the result is one JSON
// line on stdout. Exit status: 0 success, 1 failure, 2 usage error.
'use strict';

const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const USAGE = `usage:
  node driver.js loopback-throughput [--mib N] [--chunk BYTES] [--high-water BYTES] [--timeout S]
  node driver.js signal-files offerer|answerer --offer FILE --answer FILE [--timeout S] [--message TEXT] [--media]
  node driver.js control [--timeout S]
common: [--chromium PATH] [--allow-any-netns]`;

const log = (...a) => console.error(`[driver ${new Date().toISOString().slice(11, 23)}]`, ...a);

function parseArgs(argv) {
  const opts = { positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--allow-any-netns') opts.allowAnyNetns = true;
    else if (a === '--media') opts.media = true;
    else if (a.startsWith('--')) {
      if (i + 1 >= argv.length) usage(`missing value for ${a}`);
      opts[a.slice(2)] = argv[++i];
    } else opts.positional.push(a);
  }
  return opts;
}

function usage(msg) {
  if (msg) console.error(`error: ${msg}`);
  console.error(USAGE);
  process.exit(2);
}

// Chromium must only ever see loopback: outside a loopback-only namespace it
// hides host addresses behind mDNS names and may multicast on real interfaces.
function checkLoopbackOnly() {
  const addrs = Object.entries(os.networkInterfaces())
    .flatMap(([name, list]) => list.map((a) => ({ name, ...a })));
  const external = addrs.filter((a) => !a.internal);
  if (external.length > 0) {
    throw new Error('refusing to run outside a loopback-only network namespace (found ' +
      external.map((a) => `${a.name} ${a.address}`).join(', ') +
      '); use ./netns-run.sh, or --allow-any-netns if you know what you are doing');
  }
  if (!addrs.some((a) => a.address === '127.0.0.1')) {
    throw new Error('no 127.0.0.1 in this network namespace (is lo up? `ip link set lo up`)');
  }
}

function writeFileAtomic(file, text) {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
  log(`wrote ${file} (${text.length} bytes)`);
}

async function readFileWhenExists(file, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
    }
    if (Date.now() >= deadline) throw new Error(`timed out waiting for ${file}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Serves page.html on 127.0.0.1 (an origin that counts as a secure context,
// which getUserMedia needs).
function startServer() {
  const html = fs.readFileSync(path.join(__dirname, 'page.html'));
  const server = http.createServer((req, res) => {
    if (req.url === '/' || req.url === '/page.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
    } else {
      res.writeHead(req.url === '/favicon.ico' ? 204 : 404);
      res.end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
  '--allow-loopback-in-peer-connection',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
];

// Mode c: `control`. The page is driven by another program (rtcwire's
// interop test) through JSON lines: each line on stdin is a command
// {"id": N, "op": ..., ...} run by window.control(cmd) in the page, one at a
// time in arrival order; its reply is {"id": N, "ok": true, "result": ...}
// or {"id": N, "ok": false, "error": "..."} on stdout. Whatever the page
// reports on its own (candidates, channel events, messages) comes as
// {"ev": ...} lines in between. Ends when stdin closes.
async function control(page, browser) {
  const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
  await page.exposeFunction('emit', (obj) => out(obj));
  log(`chromium ${browser.version()}; control`);
  out({ ev: 'ready', version: browser.version() });
  const readline = require('readline');
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let cmd;
    try {
      cmd = JSON.parse(line);
    } catch (e) {
      out({ id: null, ok: false, error: `bad JSON: ${e.message}` });
      continue;
    }
    try {
      const result = await page.evaluate((c) => window.control(c), cmd);
      out({ id: cmd.id, ok: true, result: result ?? null });
    } catch (e) {
      const error = String(e && e.message ? e.message : e).split('\n')[0];
      log(`command ${cmd.op} failed: ${error}`);
      out({ id: cmd.id, ok: false, error });
    }
  }
  log('stdin closed; stopping');
  return 0;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const mode = opts.positional[0];
  let call;
  let timeoutS;
  if (mode === 'loopback-throughput') {
    timeoutS = Number(opts.timeout ?? 300);
    const mib = Number(opts.mib ?? 100);
    const chunk = Number(opts.chunk ?? 65536);
    const highWater = Number(opts['high-water'] ?? 4 * 1024 * 1024);
    if (!(mib > 0) || !(chunk > 0) || !(highWater > 0)) usage('--mib, --chunk and --high-water must be positive');
    call = { fn: 'loopbackThroughput', arg: { mib, chunk, highWater, lowWater: Math.floor(highWater / 2) } };
  } else if (mode === 'signal-files') {
    const role = opts.positional[1];
    if (role !== 'offerer' && role !== 'answerer') usage('role must be offerer or answerer');
    if (!opts.offer || !opts.answer) usage('--offer and --answer are required');
    timeoutS = Number(opts.timeout ?? 30);
    call = {
      fn: 'signalFiles',
      arg: {
        role,
        offerPath: path.resolve(opts.offer),
        answerPath: path.resolve(opts.answer),
        timeoutMs: timeoutS * 1000,
        message: opts.message ?? 'hello from browser',
        media: Boolean(opts.media),
      },
    };
  } else if (mode === 'control') {
    timeoutS = Number(opts.timeout ?? 120);
    call = null;
  } else {
    usage(mode ? `unknown mode ${mode}` : 'missing mode');
  }
  if (!(timeoutS > 0)) usage('--timeout must be positive');
  if (!opts.allowAnyNetns) checkLoopbackOnly();

  const server = await startServer();
  const url = `http://127.0.0.1:${server.address().port}/`;
  const browser = await chromium.launch({
    executablePath: opts.chromium ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
  // A hard stop a little after the page's own deadline, in case the page hangs.
  const watchdog = setTimeout(() => {
    log(`timed out after ${timeoutS} s`);
    process.exit(1);
  }, timeoutS * 1000 + 5000);
  try {
    const page = await browser.newPage();
    page.on('console', (m) => log(`page ${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => log(`page error: ${e.message}`));
    await page.exposeFunction('log', (text) => log(text));
    await page.exposeFunction('writeFileAtomic', writeFileAtomic);
    await page.exposeFunction('readFileWhenExists', readFileWhenExists);
    await page.goto(url);
    if (call === null) return await control(page, browser);
    log(`chromium ${browser.version()}; ${mode} ${JSON.stringify(call.arg)}`);
    const result = await page.evaluate(({ fn, arg }) => window[fn](arg), call);
    process.stdout.write(JSON.stringify(result) + '\n');
    return 0;
  } finally {
    clearTimeout(watchdog);
    await browser.close().catch(() => {});
    server.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    log(`FAILED: ${String(err && err.message ? err.message : err).split('\n')[0]}`);
    process.exit(1);
  },
);
