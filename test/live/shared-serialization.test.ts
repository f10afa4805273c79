import { describe, expect, it } from '@jest/globals';
import { buildSchema, parse } from 'graphql';
import { sharedSerialization, sharedSubscribe } from '../../src/live/shared-execution.js';

const schema = buildSchema('type Query { x: String } type Subscription { tick: String }');

function socket() {
  const sent: string[] = [];
  const s = { send: (d: unknown) => { sent.push(String(d)); } };
  sharedSerialization.patchSocket(s);
  return { s, sent };
}
const message = (payload: unknown) => JSON.stringify({ id: '1', type: 'next', payload }, sharedSerialization.jsonMessageReplacer);

describe('shared serialisation of subscription results', () => {
  it('sends a shared result as its JSON to every socket, and leaves other messages (even ones quoting the marker) alone', async () => {
    const event = { tick: 'hello' };
    async function* source() { yield event; }
    const rootValue = { tick: () => source() };
    const sub = sharedSubscribe(() => 'viewer');
    const a = (await sub({ schema, document: parse('subscription { tick }'), rootValue })) as AsyncGenerator<any>;
    const b = (await sub({ schema, document: parse('subscription { tick }'), rootValue })) as AsyncGenerator<any>;
    const ra = (await a.next()).value;
    const rb = (await b.next()).value;
    expect(ra).toBe(rb); // one execution for both
    const x = socket();
    const y = socket();
    x.s.send(message(sharedSerialization.onNext(null, '1', null, null, ra) ?? ra));
    y.s.send(message(sharedSerialization.onNext(null, '1', null, null, rb) ?? rb));
    for (const out of [x.sent[0]!, y.sent[0]!]) expect(JSON.parse(out)).toEqual({ id: '1', type: 'next', payload: { data: { tick: 'hello' } } });
    // A payload of its own whose text is the marker itself goes out unchanged.
    const own = { data: { tick: '__buildgate_shared_payload__' } };
    x.s.send(message(own));
    expect(JSON.parse(x.sent[1]!)).toEqual({ id: '1', type: 'next', payload: own });
  });
});
