// What sealing the secrets columns costs on reads: (1) per value, opening a sealed
// `build_steps.secrets` value vs parsing the plain JSON it replaced; (2) end to end, the
// builds list with every step's config (100 builds × 6 steps, all with secrets) over HTTP,
// and the share of that time spent opening sealed values.
// Run: npm run build:server && node bench/secrets.mjs [--iterations 20000] [--queries 200]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { parseConfig } from '../dist/src/config/index.js';
import { startServer } from '../dist/src/server/index.js';
import { SecretBox } from '../dist/src/store/crypto.js';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '20000' }, queries: { type: 'string', default: '200' } } });
const N = Number(values.iterations);
const Q = Number(values.queries);

// (1) Per value: a typical step's secrets (password + two headers + two env values).
const plain = JSON.stringify({ fields: { password: 'p'.repeat(24) }, headers: { authorization: `Bearer ${'t'.repeat(40)}`, 'x-api-key': 'k'.repeat(32) }, envs: { TOKEN: 'e'.repeat(32), KEY: 'f'.repeat(40) } });
const box = new SecretBox(Buffer.alloc(32, 1));
const sealed = box.seal(plain, 'build_steps.secrets');
const time = (fn) => {
  for (let i = 0; i < 2000; i++) fn();
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn();
  return Number(process.hrtime.bigint() - t) / N / 1000; // µs per call
};
const parseUs = time(() => JSON.parse(plain));
const openUs = time(() => JSON.parse(box.open(sealed, 'build_steps.secrets'))); // opened once, then from the box's cache
// First reads: distinct sealed values, each opened once (every call deciphers).
const distinct = Array.from({ length: N + 2000 }, () => box.seal(plain, 'build_steps.secrets'));
let next = 0;
const coldUs = time(() => JSON.parse(box.open(distinct[next++], 'build_steps.secrets')));
const sealUs = time(() => box.seal(plain, 'build_steps.secrets'));

// (2) End to end.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-secrets-bench-'));
const server = await startServer(parseConfig({
  server: { port: 0, playground: false }, database: { url: `sqlite:${dir}/db.sqlite` }, log: { level: 'silent' }, demo: { seed: false },
  auth: { anonymous: 'admin' }, limits: { mutationsPerMinute: 0, wsConnectsPerMinute: 0, maxCost: 10_000_000 }, engine: { workDir: `${dir}/ws` },
}), { logger: pino({ level: 'silent' }) });
const gql = async (query, variables) => {
  const r = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const b = await r.json();
  if (b.errors) throw new Error(JSON.stringify(b.errors));
  return b.data;
};
const steps = [
  { stepOrder: 1, stepType: 'CODE_DOWN', codeDown: { repositoryUrl: 'https://git.example/x.git', branchName: 'main', commonType: 'PRIVATE', protocolType: 'HTTPS', userId: 'u', password: 'git-pw-123456' } },
  { stepOrder: 2, stepType: 'USER_TASK', userTask: { cmd: ['env'], imageName: 'busybox', imageTag: '1', envs: [{ key: 'TOKEN', value: 'env-secret-1234' }, { key: 'MODE', value: 'x', secret: false }] } },
  { stepOrder: 3, stepType: 'FTP', ftp: { url: 'ftp.example:21', ftpType: 'FTP', username: 'f', password: 'ftp-pw-123456', sourceFiles: 'out', remoteDirectory: '/', ftpExecType: 'DIR_FTP_UPLOAD' } },
  { stepOrder: 4, stepType: 'HTTP', http: { url: 'https://hook.example/x?token=url-token-123', httpMode: 'GET', timeout: 5, password: 'http-pw-1234', customHeaders: [{ name: 'Authorization', value: 'Bearer header-token-1234' }] } },
  { stepOrder: 5, stepType: 'CREATE_IMAGE', createImage: { dockerFileType: 'CONTENTS', dockerFile: 'FROM scratch', registryName: 'dev', imageName: 'app', loginId: 'r', password: 'reg-pw-123456' } },
  { stepOrder: 6, stepType: 'SHELL', shell: { shellType: 'SCRIPT', command: 'echo hi' } },
];
for (let i = 0; i < 100; i++) {
  await gql('mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', { i: { name: `b${String(i).padStart(3, '0')}`, imageName: 'demo/app', tagName: '1', buildServerClientKey: 'client-key-123456', steps } });
}
const list = `{ builds(first: 100) { edges { node { name hasBuildServerClientKey steps { config { __typename
  ... on CodeDownStepConfig { hasPassword } ... on UserTaskStepConfig { envs { key value hasValue } } ... on HttpStepConfig { url hasPassword customHeaders { name value } } } } } } } }`;
for (let i = 0; i < 20; i++) await gql(list);
const lat = [];
for (let i = 0; i < Q; i++) {
  const t = performance.now();
  await gql(list);
  lat.push(performance.now() - t);
}
lat.sort((a, b) => a - b);
const p50 = lat[Math.floor(lat.length / 2)];
await server.close();
fs.rmSync(dir, { recursive: true, force: true });

const rows = 100 * 7; // 100 builds rows + 600 step rows opened per list
console.log(`| per value (µs) | JSON.parse plain ${parseUs.toFixed(2)} | open+parse, first time ${coldUs.toFixed(2)} (×${(coldUs / parseUs).toFixed(1)}) | again ${openUs.toFixed(2)} (×${(openUs / parseUs).toFixed(1)}) | seal ${sealUs.toFixed(2)} |`);
console.log(`| builds(first: 100), 600 steps | p50 ${p50.toFixed(1)} ms over ${Q} queries | opening ${rows} sealed values: first read ≈ ${((rows * coldUs) / 1000).toFixed(2)} ms, later reads ≈ ${((rows * openUs) / 1000).toFixed(2)} ms = ${((rows * openUs) / 10 / p50).toFixed(1)} % of p50 |`);
