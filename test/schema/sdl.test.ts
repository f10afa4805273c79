import fs from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { printSchema } from 'graphql';
import { LiveHub } from '../../src/live/hub.js';
import { createSchema } from '../../src/schema/index.js';

describe('schema/schema.graphql', () => {
  it('is exactly what the code emits (run `npm run schema:emit` after changing types)', async () => {
    const emitted = printSchema(await createSchema(new LiveHub().pubSub)) + '\n';
    const checkedIn = fs.readFileSync(new URL('../../schema/schema.graphql', import.meta.url), 'utf8');
    expect(checkedIn).toBe(emitted);
  });

  it('describes every type and field a playground user reads', async () => {
    const schema = await createSchema(new LiveHub().pubSub);
    const missing: string[] = [];
    for (const t of Object.values(schema.getTypeMap())) {
      if (t.name.startsWith('__') || ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(t.name)) continue;
      if (!t.description) missing.push(t.name);
      if ('getFields' in t) {
        for (const f of Object.values(t.getFields())) if (!f.description) missing.push(`${t.name}.${f.name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
