import type { BuildAction, Capability, RunState } from './types.js';

/** The capability an action needs from the run's provider (VIEW needs none). */
const NEEDS: Record<BuildAction, Capability | null> = { VIEW: null, BUILD: 'RUN_START', LOG: 'LOGS', REMOVE: 'RUN_REMOVE', CANCEL: 'RUN_CANCEL' };

/**
 * What a user may do with a run in a state (Cocktail's RunState.possibleActions, except that a
 * queued run cannot be removed — cancel it first — as no provider removes one).
 */
export function actionsFor(state: RunState): BuildAction[] {
  switch (state) {
    case 'QUEUED': return ['VIEW', 'BUILD', 'CANCEL'];
    case 'RUNNING': return ['VIEW', 'LOG', 'CANCEL'];
    default: return ['VIEW', 'BUILD', 'LOG', 'REMOVE'];
  }
}

/** Of `actions` (the provider's own list, or the state rule), those the provider can carry out. */
export function possibleActions(actions: readonly BuildAction[], capabilities: ReadonlySet<Capability>): BuildAction[] {
  return actions.filter((a) => NEEDS[a] === null || capabilities.has(NEEDS[a]!));
}
