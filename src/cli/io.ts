/** What a CLI command may use to talk to the user (tests pass their own). */
export interface CliIO {
  out: (s: string) => void;
  err: (s: string) => void;
}

export const processIO: CliIO = {
  out: (s) => process.stdout.write(s.endsWith('\n') ? s : s + '\n'),
  err: (s) => process.stderr.write(s.endsWith('\n') ? s : s + '\n'),
};

export type Command = (argv: string[], io: CliIO) => Promise<number>;
