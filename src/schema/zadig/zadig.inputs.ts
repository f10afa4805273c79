import { Field, InputType, Int, registerEnumType } from 'type-graphql';

/**
 * Typed inputs mirroring Zadig's build create/update bodies (seed 003), in the schema's
 * camelCase. The Zadig provider's zadigBuildModules extension turns them into the
 * snake_case bodies and validates them with its own zod schemas.
 */

export const ZadigInfrastructureEnum = { KUBERNETES: 'kubernetes', VM: 'vm' } as const;
registerEnumType(ZadigInfrastructureEnum, {
  name: 'ZadigInfrastructure',
  description: 'Where a Zadig build runs (infrastructure).',
  valuesConfig: { KUBERNETES: { description: 'A Kubernetes cluster.' }, VM: { description: 'A host (virtual machine).' } },
});
export const ZadigScriptTypeEnum = { SHELL: 'shell', BATCH_FILE: 'batch_file', POWERSHELL: 'powershell' } as const;
registerEnumType(ZadigScriptTypeEnum, {
  name: 'ZadigScriptType',
  description: 'Language of the build script (script_type).',
  valuesConfig: { SHELL: { description: 'Shell script.' }, BATCH_FILE: { description: 'Windows batch file.' }, POWERSHELL: { description: 'PowerShell script.' } },
});
export const ZadigParameterTypeEnum = { STRING: 'string', CHOICE: 'choice', MULTI_SELECT: 'multi-select' } as const;
registerEnumType(ZadigParameterTypeEnum, {
  name: 'ZadigParameterType',
  description: 'Type of a custom build variable.',
  valuesConfig: { STRING: { description: 'Free text.' }, CHOICE: { description: 'One of choiceOption.' }, MULTI_SELECT: { description: 'Several of choiceOption.' } },
});
export const ZadigDockerfileSourceEnum = { LOCAL: 'local', TEMPLATE: 'template' } as const;
registerEnumType(ZadigDockerfileSourceEnum, {
  name: 'ZadigDockerfileSource',
  description: 'Where the Dockerfile of the image build step comes from.',
  valuesConfig: { LOCAL: { description: 'From the code repository.' }, TEMPLATE: { description: 'From the Dockerfile template library.' } },
});

@InputType({ description: 'A Zadig service bound to a build (ServiceWithModule).' })
export class ZadigServiceInput {
  @Field({ description: 'Service name (service_name).' }) serviceName!: string;
  @Field({ description: 'Service module name (service_module).' }) serviceModule!: string;
}

@InputType({ description: 'A code repository of a Zadig build (RepoInfo).' })
export class ZadigRepoInfoInput {
  @Field({ description: 'Code source identifier (codehost_name).' }) codehostName!: string;
  @Field({ description: 'Repository namespace: organization or user (repo_namespace).' }) repoNamespace!: string;
  @Field({ description: 'Repository name (repo_name).' }) repoName!: string;
  @Field({ description: 'Branch.' }) branch!: string;
}

@InputType({ description: 'A software package installed for the build.' })
export class ZadigInstallInput {
  @Field({ description: 'Package name (e.g. go).' }) name!: string;
  @Field({ description: 'Package version (e.g. 1.22).' }) version!: string;
}

@InputType({ description: 'A key/value pair (Zadig Input).' })
export class ZadigKeyValueInput {
  @Field({ description: 'Key.' }) key!: string;
  @Field({ description: 'Value.' }) value!: string;
}

@InputType({ description: 'A custom build variable (Parameter).' })
export class ZadigParameterInput {
  @Field({ description: 'Variable key.' }) key!: string;
  @Field(() => ZadigParameterTypeEnum, { description: 'Variable type.' }) type!: string;
  @Field(() => Boolean, { nullable: true, description: 'The value is sensitive (is_credential): it is sent, never returned.' }) isCredential?: boolean | null;
  @Field(() => String, { nullable: true, description: 'Description.' }) description?: string | null;
  @Field({ description: 'Default value (default_value).' }) defaultValue!: string;
  @Field(() => [String], { nullable: true, description: 'Selected values of a MULTI_SELECT variable (choice_value).' }) choiceValue?: string[] | null;
  @Field(() => [String], { nullable: true, description: 'Values to choose from (choice_option).' }) choiceOption?: string[] | null;
}

@InputType({ description: 'The image build step of a Zadig build (DockerBuildStep).' })
export class ZadigDockerBuildStepInput {
  @Field(() => ZadigDockerfileSourceEnum, { description: 'Dockerfile source.' }) dockerfileSource!: string;
  @Field({ description: 'Build context directory (build_context_dir).' }) buildContextDir!: string;
  @Field({ description: 'Dockerfile absolute path (dockerfile_directory).' }) dockerfileDirectory!: string;
  @Field(() => String, { nullable: true, description: 'Build arguments (build_args).' }) buildArgs?: string | null;
  @Field(() => String, { nullable: true, description: 'Dockerfile template name, for TEMPLATE.' }) templateName?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'Build with BuildKit.' }) enableBuildkit?: boolean | null;
  @Field(() => String, { nullable: true, description: 'BuildKit platforms (e.g. linux/amd64).' }) platforms?: string | null;
}

@InputType({ description: 'Cluster resources of a build (ResourceSpec).' })
export class ZadigResourceSpecInput {
  @Field(() => Int, { description: 'CPU request (millicores).' }) cpuReq!: number;
  @Field(() => Int, { description: 'CPU limit (millicores).' }) cpuLimit!: number;
  @Field(() => Int, { description: 'Memory request (MiB).' }) memoryReq!: number;
  @Field(() => Int, { description: 'Memory limit (MiB).' }) memoryLimit!: number;
  @Field(() => String, { nullable: true, description: 'GPU limit.' }) gpuLimit?: string | null;
}

@InputType({ description: 'Build cache (CacheSetting).' })
export class ZadigCacheSettingInput {
  @Field({ description: 'Cache enabled.' }) enabled!: boolean;
  @Field({ description: 'Cache directory (cache_dir).' }) cacheDir!: string;
}

@InputType({ description: 'One storage volume (StoragesProperty).' })
export class ZadigStoragePropertyInput {
  @Field(() => String, { nullable: true, description: 'ReadWriteOnce, ReadOnlyMany, ReadWriteMany (default) or ReadWriteOncePod.' }) accessMode?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'Temporary storage.' }) isTemporary?: boolean | null;
  @Field({ description: 'Mount path.' }) mountPath!: string;
  @Field({ description: 'dynamic (new volume) or static (existing PVC).' }) provisionType!: string;
  @Field(() => String, { nullable: true, description: 'PVC name, for static.' }) pvc?: string | null;
  @Field(() => String, { nullable: true, description: 'Storage class, for dynamic.' }) storageClass?: string | null;
  @Field(() => Int, { description: 'Size in GiB, for dynamic (storage_size_in_gib).' }) storageSizeInGib!: number;
  @Field({ description: 'Sub path of the volume.' }) subpath!: string;
}

@InputType({ description: 'Storage of a build (StorageSetting).' })
export class ZadigStorageSettingInput {
  @Field({ description: 'Storage enabled.' }) enabled!: boolean;
  @Field(() => [ZadigStoragePropertyInput], { description: 'Volumes (storages_properties).' }) storagesProperties!: ZadigStoragePropertyInput[];
}

@InputType({ description: 'Advanced settings of a Zadig build (AdvancedSettings).' })
export class ZadigAdvancedSettingsInput {
  @Field(() => String, { nullable: true, description: 'Cluster name.' }) clusterName?: string | null;
  @Field(() => String, { nullable: true, description: 'Scheduling strategy name.' }) strategyName?: string | null;
  @Field(() => Int, { nullable: true, description: 'Build timeout (minutes).' }) timeout?: number | null;
  @Field(() => ZadigResourceSpecInput, { nullable: true, description: 'Cluster resources.' }) resourceSpec?: ZadigResourceSpecInput | null;
  @Field(() => Boolean, { nullable: true, description: "Use the host's docker daemon." }) useHostDockerDaemon?: boolean | null;
  @Field(() => Boolean, { nullable: true, description: 'Privileged mode.' }) privilegedMode?: boolean | null;
  @Field(() => ZadigCacheSettingInput, { nullable: true, description: 'Cache settings.' }) cacheSetting?: ZadigCacheSettingInput | null;
  @Field(() => ZadigStorageSettingInput, { nullable: true, description: 'Storage settings.' }) storages?: ZadigStorageSettingInput | null;
  @Field(() => [ZadigKeyValueInput], { nullable: true, description: 'Custom pod annotations.' }) customAnnotations?: ZadigKeyValueInput[] | null;
  @Field(() => [ZadigKeyValueInput], { nullable: true, description: 'Custom pod labels.' }) customLabels?: ZadigKeyValueInput[] | null;
  @Field(() => [String], { nullable: true, description: 'Output variables.' }) outputs?: string[] | null;
}

@InputType({ description: 'A Zadig build module (seed 003 "Create Build" / "Update Build" body).' })
export class ZadigBuildInput {
  @Field({ description: 'Build name; on update it names the module to replace.' }) name!: string;
  @Field(() => ZadigInfrastructureEnum, { description: 'Where the build runs.' }) infrastructure!: string;
  @Field({ description: 'Build operating system image (build_os, e.g. "ubuntu 20.04").' }) buildOs!: string;
  @Field(() => [ZadigInstallInput], { description: 'Software packages to install.' }) installs!: ZadigInstallInput[];
  @Field(() => ZadigScriptTypeEnum, { description: 'Script language.' }) scriptType!: string;
  @Field({ description: 'The build script.' }) buildScript!: string;
  @Field(() => [ZadigRepoInfoInput], { nullable: true, description: 'Code repositories.' }) repoInfo?: ZadigRepoInfoInput[] | null;
  @Field(() => [ZadigParameterInput], { nullable: true, description: 'Custom variables.' }) parameters?: ZadigParameterInput[] | null;
  @Field(() => [ZadigServiceInput], { description: 'Services the build builds (at least one).' }) services!: ZadigServiceInput[];
  @Field(() => ZadigDockerBuildStepInput, { nullable: true, description: 'Image build step.' }) dockerBuildStep?: ZadigDockerBuildStepInput | null;
  @Field(() => ZadigAdvancedSettingsInput, { nullable: true, description: 'Cluster, resources, cache, storage.' }) advancedSettings?: ZadigAdvancedSettingsInput | null;
}

@InputType({ description: 'A service of a template build, with its repositories and template variables.' })
export class ZadigTemplateServiceInput {
  @Field({ description: 'Service name (service_name).' }) serviceName!: string;
  @Field({ description: 'Service module name (service_module).' }) serviceModule!: string;
  @Field(() => [ZadigRepoInfoInput], { description: 'Code repositories (repo_info).' }) repoInfo!: ZadigRepoInfoInput[];
  @Field(() => [ZadigKeyValueInput], { description: 'Template variables (inputs).' }) inputs!: ZadigKeyValueInput[];
}

@InputType({ description: 'A Zadig build module made from a build template (seed 003 "Create/Update Build from Template").' })
export class ZadigTemplateBuildInput {
  @Field({ description: 'Build name; on update it names the module to replace.' }) name!: string;
  @Field({ description: 'Build template name (template_name).' }) templateName!: string;
  @Field(() => [ZadigTemplateServiceInput], { description: 'Services and their settings (target_services, at least one).' }) targetServices!: ZadigTemplateServiceInput[];
}
