// CSS side-effect imports are bundled by esbuild; TypeScript only needs to know they exist.
declare module '*.css';

// Monaco's worker entry ships without types; the GraphQL worker only calls initialize().
declare module 'monaco-editor/esm/vs/editor/editor.worker.js' {
  export function initialize(factory: (ctx: any, createData: any) => unknown): void;
}
