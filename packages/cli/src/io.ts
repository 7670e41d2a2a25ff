/** The streams a command talks through: the process's own, or a test's. */
export interface Io {
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

export const say = (io: Io, text: string): void => {
  io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
};

export const json = (io: Io, value: unknown): void => say(io, JSON.stringify(value, null, 2));
