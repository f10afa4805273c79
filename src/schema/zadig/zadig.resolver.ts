import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { BuildgateError, ErrorCode, unsupported } from '../../errors.js';
import type { BuildData } from '../../providers/types.js';
import { Build } from '../build/build.type.js';
import type { Context } from '../context.js';
import { ZadigBuildInput, ZadigTemplateBuildInput } from './zadig.inputs.js';

type ZadigMethod = 'createZadigBuild' | 'updateZadigBuild' | 'createZadigBuildFromTemplate' | 'updateZadigBuildFromTemplate';
type ZadigCall = (projectKey: string, input: unknown) => Promise<BuildData>;

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (k: string) => k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

/** GraphQL input (camelCase, nulls for "not given") -> Zadig body (snake_case, keys left out). */
export function toZadigBody(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toZadigBody);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[snake(k)] = toZadigBody(v);
  return out;
}

/** The provider's own zod check names snake_case paths; say them the way the client wrote them. */
function asInputError(e: unknown): unknown {
  if (!(e instanceof BuildgateError) || e.code !== ErrorCode.BAD_USER_INPUT || typeof e.extensions.field !== 'string') return e;
  const field = e.extensions.field;
  if (field === 'projectKey') return e;
  const path = `input${field.split('.').map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${camel(p)}`)).join('')}`;
  const why = e.message.replace(/^[^:]*: [^:]*: /, '');
  return new BuildgateError(ErrorCode.BAD_USER_INPUT, `${path}: ${why}`, { field: path });
}

async function callZadig(ctx: Context, providerId: string, method: ZadigMethod, projectKey: string, input: object, kind: 'CREATED' | 'UPDATED') {
  const p = ctx.services.registry.get(providerId);
  const fn = (p as unknown as Record<string, unknown>)[method];
  if (p.kind !== 'ZADIG' || typeof fn !== 'function') throw unsupported(p.id, method);
  let data: BuildData;
  try {
    data = await (fn as ZadigCall).call(p, projectKey, toZadigBody(input));
  } catch (e) {
    throw asInputError(e);
  }
  ctx.services.live.buildChanged({ kind, providerId: p.id, buildKey: data.key });
  return Build.from(p.id, data);
}

/** Zadig-only build operations: Zadig's build body (services, OS, script...) does not fit the generic BuildInput. */
@Resolver()
export class ZadigResolver {
  @Authorized('admin') // changes build definitions, like createBuild
  @Mutation(() => Build, { description: 'Creates a Zadig build module (POST /openapi/build). Only for ZADIG provider instances; the project must be configured.' })
  createZadigBuild(
    @Ctx() ctx: Context,
    @Arg('provider', { description: 'ZADIG provider instance id.' }) provider: string,
    @Arg('projectKey', { description: 'Zadig project key (project_key).' }) projectKey: string,
    @Arg('input', () => ZadigBuildInput, { description: 'The build module.' }) input: ZadigBuildInput,
  ) {
    return callZadig(ctx, provider, 'createZadigBuild', projectKey, input, 'CREATED');
  }

  @Authorized('admin') // changes build definitions, like createBuild
  @Mutation(() => Build, { description: 'Replaces the Zadig build module named input.name (PUT /openapi/build).' })
  updateZadigBuild(
    @Ctx() ctx: Context,
    @Arg('provider', { description: 'ZADIG provider instance id.' }) provider: string,
    @Arg('projectKey', { description: 'Zadig project key (project_key).' }) projectKey: string,
    @Arg('input', () => ZadigBuildInput, { description: 'The new build module.' }) input: ZadigBuildInput,
  ) {
    return callZadig(ctx, provider, 'updateZadigBuild', projectKey, input, 'UPDATED');
  }

  @Authorized('admin') // changes build definitions, like createBuild
  @Mutation(() => Build, { description: 'Creates a Zadig build module from a build template (POST /openapi/build?source=template; needs a Zadig professional licence upstream).' })
  createZadigBuildFromTemplate(
    @Ctx() ctx: Context,
    @Arg('provider', { description: 'ZADIG provider instance id.' }) provider: string,
    @Arg('projectKey', { description: 'Zadig project key (project_key).' }) projectKey: string,
    @Arg('input', () => ZadigTemplateBuildInput, { description: 'The template build.' }) input: ZadigTemplateBuildInput,
  ) {
    return callZadig(ctx, provider, 'createZadigBuildFromTemplate', projectKey, input, 'CREATED');
  }

  @Authorized('admin') // changes build definitions, like createBuild
  @Mutation(() => Build, { description: 'Replaces a template-based Zadig build module named input.name (PUT /openapi/build/{name}/template).' })
  updateZadigBuildFromTemplate(
    @Ctx() ctx: Context,
    @Arg('provider', { description: 'ZADIG provider instance id.' }) provider: string,
    @Arg('projectKey', { description: 'Zadig project key (project_key).' }) projectKey: string,
    @Arg('input', () => ZadigTemplateBuildInput, { description: 'The new template build.' }) input: ZadigTemplateBuildInput,
  ) {
    return callZadig(ctx, provider, 'updateZadigBuildFromTemplate', projectKey, input, 'UPDATED');
  }
}
