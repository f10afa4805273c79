import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { BuildgateError, ErrorCode } from '../../errors.js';

/**
 * The one mutation shape (docs/schema-conventions.md): one `input` argument, a payload with
 * the affected object and `errors: [UserError!]!`. Expected failures of the caller's input are
 * data in the payload; failures that are not the input's fault (credential, role, rate
 * limit, upstream outage, bugs) stay top-level errors with `extensions.code`.
 */
export const UserErrorCodeEnum = {
  VALIDATION: 'VALIDATION',
  NOT_FOUND: 'NOT_FOUND',
  ACTION_NOT_ALLOWED: 'ACTION_NOT_ALLOWED',
  CONFLICT: 'CONFLICT',
  UNSUPPORTED_BY_PROVIDER: 'UNSUPPORTED_BY_PROVIDER',
} as const;
export type UserErrorCode = keyof typeof UserErrorCodeEnum;
registerEnumType(UserErrorCodeEnum, {
  name: 'UserErrorCode',
  description: 'Why a mutation refused its input.',
  valuesConfig: {
    VALIDATION: { description: 'A field of the input is invalid (see `path`).' },
    NOT_FOUND: { description: 'An object the input names does not exist (or is not visible to the credential).' },
    ACTION_NOT_ALLOWED: { description: 'The object is in a state that does not allow the action now (e.g. canceling a finished run).' },
    CONFLICT: { description: 'The input conflicts with the stored state (e.g. a name already taken upstream).' },
    UNSUPPORTED_BY_PROVIDER: { description: "The object's provider does not offer this operation." },
  },
});

/** Error codes whose failures are the input's fault, and the UserErrorCode each becomes. */
const USER_ERROR_OF: Partial<Record<ErrorCode, UserErrorCode>> = {
  [ErrorCode.BAD_USER_INPUT]: 'VALIDATION',
  [ErrorCode.NOT_FOUND]: 'NOT_FOUND',
  [ErrorCode.UPSTREAM_NOT_FOUND]: 'NOT_FOUND',
  [ErrorCode.ACTION_NOT_ALLOWED]: 'ACTION_NOT_ALLOWED',
  [ErrorCode.UNSUPPORTED_BY_PROVIDER]: 'UNSUPPORTED_BY_PROVIDER',
};

@ObjectType({ description: 'An expected failure of a mutation, caused by its input: returned as data in the payload, not as a GraphQL error.' })
export class UserError {
  @Field(() => UserErrorCodeEnum, { description: 'Stable code for programs.' }) code!: UserErrorCode;
  @Field({ description: 'What is wrong, for people.' }) message!: string;
  @Field(() => [String], { nullable: true, description: 'Path of the input field at fault, from the mutation\'s arguments (e.g. ["input", "build", "steps", "0", "shell"]); null when the failure is not about one field.' }) path!: string[] | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Machine-readable particulars (e.g. state and possibleActions for ACTION_NOT_ALLOWED, providerId and operation for UNSUPPORTED_BY_PROVIDER).' }) details!: Record<string, unknown> | null;
}

@InputType('MutationInputBase', { description: 'Fields every mutation input has (not itself used).' })
export abstract class MutationInput {
  @Field(() => String, { nullable: true, description: 'Any string; returned unchanged in the payload (Relay).' }) clientMutationId?: string | null;
}

@ObjectType('MutationPayloadBase', { description: 'Fields every mutation payload has (not itself used).' })
export abstract class MutationPayload {
  @Field(() => String, { nullable: true, description: 'The clientMutationId of the input.' }) clientMutationId!: string | null;
  @Field(() => [UserError], { description: 'Why the input was refused; empty when the mutation succeeded.' }) errors!: UserError[];
}

/** "input.build.steps[0].shell" or "steps[0].shell" → ["input", "build", "steps", "0", "shell"]. */
function inputPath(field: string, base: readonly string[]): string[] {
  const parts = field.replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean);
  return parts[0] === 'input' ? parts : [...base, ...parts];
}

/** The UserError for an expected failure, or null for one that stays a top-level error. */
export function asUserError(e: unknown, base: readonly string[] = ['input']): UserError | null {
  if (!(e instanceof BuildgateError)) return null;
  const code = USER_ERROR_OF[e.code];
  if (!code) return null;
  const { code: _c, field, ...rest } = e.extensions as Record<string, unknown>;
  return Object.assign(new UserError(), {
    code, message: e.message, path: typeof field === 'string' ? inputPath(field, base) : null,
    details: Object.keys(rest).length ? rest : null,
  });
}

export function userError(code: UserErrorCode, message: string, path: string[] | null, details: Record<string, unknown> | null = null): UserError {
  return Object.assign(new UserError(), { code, message, path, details });
}

/**
 * Runs a mutation's work and builds its payload: the work's fields with `errors: []`, or,
 * when the work fails for a reason of the input, the payload without object and with the
 * failure as a UserError. `base` is where field paths of the input start (`field` in an
 * error's extensions is relative to it unless it starts with "input").
 */
export async function payload<P extends MutationPayload>(
  Cls: new () => P, input: MutationInput, work: () => Promise<Partial<P>>, base: readonly string[] = ['input'],
): Promise<P> {
  const out = Object.assign(new Cls(), { clientMutationId: input.clientMutationId ?? null, errors: [] as UserError[] });
  try {
    return Object.assign(out, await work());
  } catch (e) {
    const ue = asUserError(e, base);
    if (!ue) throw e;
    out.errors = [ue];
    return out;
  }
}
