// The most bytes per second this machine moves over 127.0.0.1 TCP between two processes
// (8 connections, 64 KiB writes, nothing parsed): the bound for any fan-out measured here,
// since N subscribers × R lines/s × bytes per line must cross it.
// Run: node bench/loopback.mjs [--seconds 3 --connections 8]
import { fork } from 'node:child_process';
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { seconds: { type: 'string', default: '3' }, connections: { type: 'string', default: '8' } } });
const SECONDS = Number(values.seconds);
if (positionals[0] === 'send') {
  const chunk = Buffer.alloc(64 * 1024, 97);
  const end = Date.now() + SECONDS * 1000;
  for (let i = 0; i < Number(values.connections); i++) {
    const c = net.connect(Number(positionals[1]), '127.0.0.1');
    const pump = () => { while (Date.now() < end) { if (!c.write(chunk)) { c.once('drain', pump); return; } } c.end(); };
    c.on('connect', pump);
  }
} else {
  let received = 0;
  const server = net.createServer((s) => s.on('data', (d) => { received += d.length; }));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const sender = fork(new URL(import.meta.url), ['send', String(server.address().port), '--seconds', String(SECONDS), '--connections', values.connections]);
  await new Promise((r) => sender.on('exit', r));
  console.log(JSON.stringify({ bench: 'loopback', connections: Number(values.connections), seconds: SECONDS, gbPerSecond: +(received / SECONDS / 1e9).toFixed(2) }));
  server.close();
}
