import { Arg, Authorized, Ctx, Field, InputType, Mutation, ObjectType, Resolver } from 'type-graphql';
import { BuildgateError, ErrorCode } from '../../errors.js';
import type { ZadigBuildModules } from '../../providers/types.js';
import { Build } from '../build/build.type.js';
import { MutationInput, MutationPayload, payload } from '../common/mutation.js';
import type { Context } from '../context.js';
import { ZadigBuildInput, ZadigTemplateBuildInput } from './zadig.inputs.js';

abstract class ZadigModuleInput extends MutationInput {
  providerId!: string;
  projectKey!: string;
}

@InputType({ description: 'Input of createZadigBuild.' })
class CreateZadigBuildInput extends MutationInput {
  @Field({ description: 'ZADIG provider instance id.' }) providerId!: string;
  @Field({ description: 'Zadig project key (project_key); the project must be configured.' }) projectKey!: string;
  @Field(() => ZadigBuildInput, { description: 'The build module.' }) build!: ZadigBuildInput;
}

@InputType({ description: 'Input of updateZadigBuild.' })
class UpdateZadigBuildInput extends MutationInput {
  @Field({ description: 'ZADIG provider instance id.' }) providerId!: string;
  @Field({ description: 'Zadig project key (project_key).' }) projectKey!: string;
  @Field(() => ZadigBuildInput, { description: 'The new build module; build.name names the module to replace.' }) build!: ZadigBuildInput;
}

@InputType({ description: 'Input of createZadigBuildFromTemplate.' })
class CreateZadigBuildFromTemplateInput extends MutationInput {
  @Field({ description: 'ZADIG provider instance id.' }) providerId!: string;
  @Field({ description: 'Zadig project key (project_key).' }) projectKey!: string;
  @Field(() => ZadigTemplateBuildInput, { description: 'The template build.' }) build!: ZadigTemplateBuildInput;
}

@InputType({ description: 'Input of updateZadigBuildFromTemplate.' })
class UpdateZadigBuildFromTemplateInput extends MutationInput {
  @Field({ description: 'ZADIG provider instance id.' }) providerId!: string;
  @Field({ description: 'Zadig project key (project_key).' }) projectKey!: string;
  @Field(() => ZadigTemplateBuildInput, { description: 'The new template build; build.name names the module to replace.' }) build!: ZadigTemplateBuildInput;
}

@ObjectType({ description: 'Result of createZadigBuild.' })
class CreateZadigBuildPayload extends MutationPayload {
  @Field(() => Build, { nullable: true, description: 'The new build (null when errors is not empty).' }) build!: Build | null;
}
@ObjectType({ description: 'Result of updateZadigBuild.' })
class UpdateZadigBuildPayload extends MutationPayload {
  @Field(() => Build, { nullable: true, description: 'The build as stored now (null when errors is not empty).' }) build!: Build | null;
}
@ObjectType({ description: 'Result of createZadigBuildFromTemplate.' })
class CreateZadigBuildFromTemplatePayload extends MutationPayload {
  @Field(() => Build, { nullable: true, description: 'The new build (null when errors is not empty).' }) build!: Build | null;
}
@ObjectType({ description: 'Result of updateZadigBuildFromTemplate.' })
class UpdateZadigBuildFromTemplatePayload extends MutationPayload {
  @Field(() => Build, { nullable: true, description: 'The build as stored now (null when errors is not empty).' }) build!: Build | null;
}

type ModuleCall = keyof ZadigBuildModules;

/** Every Zadig mutation: the provider's zadigBuildModules extension, the module converted and checked there. */
function callZadig<P extends MutationPayload & { build: Build | null }>(
  ctx: Context, Cls: new () => P, input: ZadigModuleInput & { build: object }, call: ModuleCall, operation: string, kind: 'CREATED' | 'UPDATED',
): Promise<P> {
  return payload(Cls, input, async () => {
    const modules = ctx.services.registry.extension(input.providerId, 'zadigBuildModules', operation);
    const data = await modules[call](input.projectKey, input.build as { name: string }).catch((e: unknown) => {
      // The provider names fields relative to the module; the module is input.build here.
      const field = e instanceof BuildgateError ? e.extensions.field : undefined;
      if (!(e instanceof BuildgateError) || e.code !== ErrorCode.BAD_USER_INPUT || typeof field !== 'string' || field === 'projectKey') throw e;
      throw new BuildgateError(ErrorCode.BAD_USER_INPUT, `input.build.${e.message}`, { ...e.extensions, field: `build.${field}` });
    });
    ctx.services.live.buildChanged({ kind, providerId: input.providerId, buildKey: data.key });
    return { build: Build.from(input.providerId, data) } as Partial<P>;
  });
}

/** Zadig-only build operations: Zadig's build body (services, OS, script...) does not fit the generic BuildInput. */
@Resolver()
export class ZadigResolver {
  @Authorized('admin') // changes build definitions, like createBuild
  @Mutation(() => CreateZadigBuildPayload, { description: 'Creates a Zadig build module (POST /openapi/build). Only for ZADIG provider instances; the project must be configured.' })
  createZadigBuild(@Ctx() ctx: Context, @Arg('input', () => CreateZadigBuildInput, { description: 'Provider, project and module.' }) input: CreateZadigBuildInput) {
    return callZadig(ctx, CreateZadigBuildPayload, input, 'create', 'createZadigBuild', 'CREATED');
  }

  @Authorized('admin')
  @Mutation(() => UpdateZadigBuildPayload, { description: 'Replaces the Zadig build module named input.build.name (PUT /openapi/build).' })
  updateZadigBuild(@Ctx() ctx: Context, @Arg('input', () => UpdateZadigBuildInput, { description: 'Provider, project and module.' }) input: UpdateZadigBuildInput) {
    return callZadig(ctx, UpdateZadigBuildPayload, input, 'update', 'updateZadigBuild', 'UPDATED');
  }

  @Authorized('admin')
  @Mutation(() => CreateZadigBuildFromTemplatePayload, { description: 'Creates a Zadig build module from a build template (POST /openapi/build?source=template; needs a Zadig professional licence upstream).' })
  createZadigBuildFromTemplate(@Ctx() ctx: Context, @Arg('input', () => CreateZadigBuildFromTemplateInput, { description: 'Provider, project and template build.' }) input: CreateZadigBuildFromTemplateInput) {
    return callZadig(ctx, CreateZadigBuildFromTemplatePayload, input, 'createFromTemplate', 'createZadigBuildFromTemplate', 'CREATED');
  }

  @Authorized('admin')
  @Mutation(() => UpdateZadigBuildFromTemplatePayload, { description: 'Replaces a template-based Zadig build module named input.build.name (PUT /openapi/build/{name}/template).' })
  updateZadigBuildFromTemplate(@Ctx() ctx: Context, @Arg('input', () => UpdateZadigBuildFromTemplateInput, { description: 'Provider, project and template build.' }) input: UpdateZadigBuildFromTemplateInput) {
    return callZadig(ctx, UpdateZadigBuildFromTemplatePayload, input, 'updateFromTemplate', 'updateZadigBuildFromTemplate', 'UPDATED');
  }
}
