import { describe, expect, it } from '@jest/globals';
import { redactInputEcho } from '../../src/auth/error-redaction.js';

// graphql-js 16's own wording of variable coercion errors: the value must go wherever it is quoted.
describe('redactInputEcho', () => {
  it.each([
    ['Variable "$afterSeq" got invalid value "pw-Hunter2"; Float cannot represent non numeric value: "pw-Hunter2"', 'Variable "$afterSeq" got an invalid value; Float cannot represent non numeric value'],
    ['Variable "$i" got invalid value { password: "pw-Hunter2" } at "i.steps[0]"; Field "password" is not defined by type "X".', 'Variable "$i" got an invalid value at "i.steps[0]"; Field "password" is not defined by type "X".'],
    ['Variable "$t" got invalid value "pw-Hunter2"; Value "pw-Hunter2" does not exist in "StepType" enum.', 'Variable "$t" got an invalid value; The value does not exist in "StepType" enum.'],
    ['Variable "$i" got invalid value "pw-Hunter2" at "i.n"; Int cannot represent non-integer value: "pw-Hunter2"', 'Variable "$i" got an invalid value at "i.n"; Int cannot represent non-integer value'],
    ['Variable "$x" of required type "ID!" was not provided.', 'Variable "$x" of required type "ID!" was not provided.'],
  ])('%s', (message, expected) => {
    expect(redactInputEcho(message)).toBe(expected);
    expect(redactInputEcho(message)).not.toContain('Hunter2');
  });
});
