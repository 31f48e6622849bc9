#!/usr/bin/env node
/**
 * `npx quiverdb <command>`: a tiny dispatcher; each command lives in its own module, loaded on use.
 */
const COMMANDS: Record<string, () => Promise<{ run(args: string[]): Promise<number> }>> = {
  backup: async () => ({ run: (await import("./backup.js")).backupCommand }),
  restore: async () => ({ run: (await import("./backup.js")).restoreCommand }),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = name === undefined ? undefined : COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`usage: quiverdb <${Object.keys(COMMANDS).join("|")}> …   (quiverdb <command> --help)\n`);
    return name === undefined || name === "--help" ? 0 : 2;
  }
  return (await command()).run(args);
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error: unknown) => {
  const e = error as { code?: string; message?: string };
  process.stderr.write(`quiverdb: ${e.code ? `${e.code}: ` : ""}${e.message ?? String(error)}\n`);
  process.exitCode = 1;
});
