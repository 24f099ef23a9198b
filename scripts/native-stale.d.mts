/** The sources (relative to `repo`) newer than its built native addon; empty when current or not built. */
export declare const staleNativeSources: (repo: string) => string[];
