// Live fan-out against the bare-ws reference, in one run (issue 17). Each measurement is its own
// `node --expose-gc bench/fanout.mjs` process (a fresh gateway, or the bare server), back to back.
//
//   node bench/fanout-suite.mjs compare  [--ns 300,600,1000]  buildgate and bare at each N, with the p99 ratio
//   node bench/fanout-suite.mjs capacity [--server both|gateway|bare]  largest N with p99 exact < --limit ms, by bisection
//
// Before each run it prints the load average (1 min): above ~1 on this 2-core machine the figures
// are indicative only. Common options: --rate 10000 --warmup 2 --seconds 5 --procs 2.
// Capacity probes use --probe-warmup 1 --probe-seconds 3 (shorter, so both searches fit in ~5 min),
// between --lo 100 and --hi 4000, to within --step 5 % of N; a probe fails on p99 ≥ limit, any
// line lost or any subscriber behind.
import { execFile } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: {
  ns: { type: 'string', default: '300,600,1000' }, rate: { type: 'string', default: '10000' }, warmup: { type: 'string', default: '2' },
  seconds: { type: 'string', default: '5' }, procs: { type: 'string', default: '2' }, server: { type: 'string', default: 'both' },
  limit: { type: 'string', default: '100' }, lo: { type: 'string', default: '100' }, hi: { type: 'string', default: '4000' }, step: { type: 'string', default: '5' },
  'probe-warmup': { type: 'string', default: '1' }, 'probe-seconds': { type: 'string', default: '3' },
} });
const mode = positionals[0] ?? 'compare';
const load = () => os.loadavg()[0].toFixed(2);
const started = Date.now();

/** One fanout.mjs run; its JSON report plus the load average before it. */
function fanout(server, n, warmup, seconds) {
  const before = load();
  const args = ['--expose-gc', new URL('./fanout.mjs', import.meta.url).pathname, '--subscribers', String(n), '--rate', values.rate,
    '--warmup', String(warmup), '--seconds', String(seconds), '--procs', values.procs, ...(server === 'bare' ? ['--server', 'bare'] : [])];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { maxBuffer: 1 << 24, timeout: 240_000 }, (err, stdout) => {
      let r = null;
      try { r = JSON.parse(stdout.slice(stdout.indexOf('{'))); } catch { /* reported below */ }
      resolve({ load: before, r, failed: r ? null : (err?.message ?? 'no report').split('\n')[0] });
    });
  });
}
const fmt = (x) => x.r ? `${x.r.latencyExactMs.p50} / ${x.r.latencyExactMs.p99} ms` : `failed (${x.failed})`;
const sound = (x) => x.r && x.r.lost === 0 && x.r.gaps === 0 && x.r.duplicates === 0 && x.r.fellBehind === 0 && x.r.errors === 0;
const notes = (x) => x.r ? `lost ${x.r.lost}, gaps ${x.r.gaps}, dups ${x.r.duplicates}, behind ${x.r.fellBehind}, errors ${x.r.errors}` : '';

if (mode === 'compare') {
  console.log(`fan-out at ${values.rate} lines/s, ${values.warmup} + ${values.seconds} s, ${values.procs} client processes, ${os.cpus().length} CPUs`);
  console.log('| N | load before (gw / bare) | buildgate p50 / p99 exact | gw loop delay p99 | bare p50 / p99 exact | bare loop delay p99 | p99 ratio | CPU ns per delivery (gw / bare) | notes |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const n of values.ns.split(',').map(Number)) {
    const gw = await fanout('gateway', n, values.warmup, values.seconds);
    const bare = await fanout('bare', n, values.warmup, values.seconds);
    const ratio = gw.r && bare.r ? (gw.r.latencyExactMs.p99 / bare.r.latencyExactMs.p99).toFixed(2) : '—';
    console.log(`| ${n} | ${gw.load} / ${bare.load} | ${fmt(gw)} | ${gw.r?.eventLoopDelayMs.p99 ?? '—'} ms | ${fmt(bare)} | ${bare.r?.eventLoopDelayMs.p99 ?? '—'} ms | ${ratio}× | ${gw.r?.cpuNsPerDelivery ?? '—'} / ${bare.r?.cpuNsPerDelivery ?? '—'} | gw: ${notes(gw)}; held ${gw.r?.gatewayRssPerSubscriberKiB} KiB/sub |`);
  }
} else if (mode === 'capacity') {
  const limit = Number(values.limit);
  const servers = values.server === 'both' ? ['gateway', 'bare'] : [values.server];
  const found = {};
  for (const server of servers) {
    // Largest N whose probe passes: double up from lo until one fails (or hi), then bisect.
    const probe = async (n) => {
      const x = await fanout(server, n, values['probe-warmup'], values['probe-seconds']);
      const ok = sound(x) && x.r.latencyExactMs.p99 < limit;
      console.log(`  ${server} N=${n}: load ${x.load}, p50/p99 exact ${fmt(x)}, loop p99 ${x.r?.eventLoopDelayMs.p99 ?? '—'} ms, ${notes(x)} → ${ok ? 'pass' : 'fail'}`);
      return ok;
    };
    let lo = Number(values.lo);
    let hi = Number(values.hi);
    if (!(await probe(lo))) { found[server] = `< ${lo}`; continue; }
    let n = lo;
    for (;;) {
      n = Math.min(hi, n * 2);
      if (!(await probe(n))) { hi = n; break; }
      lo = n;
      if (n >= hi) break;
    }
    while (hi - lo > Math.max(10, lo * Number(values.step) / 100)) {
      const mid = Math.round((lo + hi) / 2);
      if (await probe(mid)) lo = mid; else hi = mid;
    }
    found[server] = lo;
    console.log(`${server}: capacity ${lo} subscribers (p99 exact < ${limit} ms at ${values.rate} lines/s; next failing probe ${hi})`);
  }
  if (typeof found.gateway === 'number' && typeof found.bare === 'number') console.log(`capacity ratio buildgate / bare: ${(found.gateway / found.bare).toFixed(2)}`);
} else {
  console.error(`unknown mode ${mode}: compare | capacity`);
  process.exit(2);
}
console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s, load average now ${load()})`);
