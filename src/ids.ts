import { badInput, BuildgateError, ErrorCode } from './errors.js';

/**
 * Global object IDs: opaque to clients, but they encode the provider instance, the
 * type and the provider's own key, so `node(id)` can route to the right provider.
 * Format before encoding: `bg1|<providerId>|<Type>|<key>`, base64url.
 */
export const NODE_TYPES = ['Build', 'BuildStep', 'BuildRun', 'StepRun', 'ImageTag', 'BuildRecord', 'Provider'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

export interface GlobalId { providerId: string; type: NodeType; key: string }

const PREFIX = 'bg1';

export function toGlobalId(providerId: string, type: NodeType, key: string): string {
  return Buffer.from(`${PREFIX}|${providerId}|${type}|${key}`, 'utf8').toString('base64url');
}

/** `field` names the argument or input field the ID came from, for the error. */
export function fromGlobalId(id: string, expected?: NodeType | readonly NodeType[], field = 'id'): GlobalId {
  if (typeof id !== 'string' || id.length === 0 || id.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(id)) {
    throw badInput(`${JSON.stringify(String(id).slice(0, 64))} is not a valid ID`, field);
  }
  const parts = Buffer.from(id, 'base64url').toString('utf8').split('|');
  if (parts.length < 4 || parts[0] !== PREFIX || !(NODE_TYPES as readonly string[]).includes(parts[2]!)) {
    throw badInput(`${JSON.stringify(id.slice(0, 64))} is not a valid ID`, field);
  }
  const gid: GlobalId = { providerId: parts[1]!, type: parts[2] as NodeType, key: parts.slice(3).join('|') };
  const allowed = expected === undefined ? null : Array.isArray(expected) ? expected : [expected];
  if (allowed && !allowed.includes(gid.type)) {
    throw new BuildgateError(
      ErrorCode.BAD_USER_INPUT,
      `ID ${id.slice(0, 64)} is a ${gid.type}, expected a ${allowed.join(' or ')}`,
      { field, actualType: gid.type },
    );
  }
  return gid;
}
