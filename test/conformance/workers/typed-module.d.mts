// The types of typed-module.mjs, as a TypeScript thread module would have them.
export declare const functions: {
  scale(v: number, by: number): number;
  join(parts: string[]): Promise<string>;
};
