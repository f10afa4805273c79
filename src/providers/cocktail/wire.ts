import { z } from 'zod';

/**
 * Cocktail Cloud build API v1 wire shapes (seeds 000/001, upstreams.md §4). Only fields the
 * adapter reads are checked; everything else passes through. Single objects come back as
 * one-element arrays in the seeds, so every reader accepts both (`oneOf`).
 */

const str = z.string().nullish();
const num = z.number().nullish();
const yn = z.enum(['Y', 'N']).nullish();

export const stepConfigWire = z.looseObject({ stepType: z.string() });

export const buildStepWire = z.looseObject({
  stepType: z.string(),
  useFlag: z.boolean().nullish(),
  buildStepSeq: num,
  stepOrder: z.number(),
  buildStepConfig: stepConfigWire.nullish(),
});

export const buildWire = z.looseObject({
  buildSeq: z.number(),
  buildNo: num,
  buildName: z.string(),
  buildDesc: str,
  accountSeq: num,
  registryProjectId: num,
  registryName: str,
  imageName: str,
  autotagUseYn: yn,
  autotagPrefix: str,
  autotagSeqType: z.enum(['DATETIME', 'SEQUENCE']).nullish(),
  tagName: str,
  externalRegistrySeq: num,
  buildServerHost: str,
  buildServerTlsVerify: yn,
  buildServerCacrt: str,
  buildServerClientCert: str,
  buildServerClientKey: str,
  buildSteps: z.array(buildStepWire).nullish(),
  hostUrl: str,
  created: str,
  updated: str,
  buildCount: num,
  runningCount: num,
  doneCount: num,
  errorCount: num,
  pipelineCount: num,
  tagCount: num,
  buildTimeAvg: num,
  imgSizeAvg: num,
  latestBuildTime: num,
  latestImgSize: num,
  latestExecTime: str,
});
export type BuildWire = z.output<typeof buildWire>;

export const stepRunWire = z.looseObject({
  buildStepRunSeq: num,
  buildStepSeq: num,
  buildRunSeq: num,
  stepType: z.string(),
  stepState: z.string(),
  stepOrder: z.number(),
  logId: str,
  log: str,
  beginTime: str,
  endTime: str,
  runTimeBySec: num,
  useFlag: z.boolean().nullish(),
  buildStepConfig: stepConfigWire.nullish(),
});
export type StepRunWire = z.output<typeof stepRunWire>;

export const runWire = z.looseObject({
  buildRunSeq: z.number(),
  buildSeq: z.number(),
  buildNo: num,
  buildName: str,
  runType: z.enum(['BUILD', 'CANCEL', 'REMOVE']),
  runDesc: str,
  runState: z.string(),
  tagName: str,
  callbackUrl: str,
  imageUrl: str,
  imageSize: num,
  imageDigest: str,
  beginTime: str,
  endTime: str,
  created: str,
  runTimeBySec: num,
  buildStepRuns: z.array(stepRunWire).nullish(),
  possibleActions: z.array(z.string()).nullish(),
});
export type RunWire = z.output<typeof runWire>;

export const runLogWire = z.looseObject({
  buildRunSeq: z.number(),
  runState: z.string(),
  buildSeq: z.number(),
  dbLog: z.boolean().nullish(),
  buildStepRuns: z.array(stepRunWire),
});
export type RunLogWire = z.output<typeof runLogWire>;

export const imageTagWire = z.looseObject({
  buildRunSeq: z.number(),
  tag: z.string(),
  runDesc: str,
  imageUrl: str,
  imageSize: num,
  imageDigest: str,
  beginTime: str,
  endTime: str,
});
export const imagesWire = z.array(
  z.looseObject({
    buildSeq: z.number(),
    registryImagePath: str,
    registryName: str,
    imageName: str,
    tags: z.array(imageTagWire),
  }),
);
export type ImagesWire = z.output<typeof imagesWire>;

/** The seeds answer single objects as `[obj]`; a bare object is accepted too. */
export const oneOf = <S extends z.ZodType>(s: S) =>
  z.union([z.array(s).length(1).transform((a) => a[0]!), s]) as unknown as z.ZodType<z.output<S>>;
export const listOf = <S extends z.ZodType>(s: S) => z.array(s);
