// Types of packed.mjs, for the packages' packed.test.ts files.

export interface PackedProject {
  /** The empty project's directory, with the packed packages installed. */
  readonly dir: string;
  /** Runs an ES module script inside the project with Node, resolving its stdout. */
  node(script: string, args?: string[]): Promise<string>;
  /** Writes `source` to `name` inside the project (for scripts that child processes run). */
  write(name: string, source: string): Promise<string>;
  remove(): Promise<void>;
}

/** Packs one workspace package into `dest`; resolves with the tarball's path. */
export function pack(packageDir: string, dest: string): Promise<string>;

/** Packs workspace packages and installs them with npm, and `extra` from the registry, into a new project; rejects when `npm ls` fails. */
export function installPacked(
  packageDirs: readonly string[],
  extra?: readonly string[],
): Promise<PackedProject>;
