/**
 * `dualrun generate`: writes a synthetic scenario folder with the domain's own generator (declared in
 * defineDomain: it makes the domain's own entities and events). Its knobs are flags: the
 * generator declares them (counts, shares, dates), this command parses and checks them, with progress
 * on stderr.
 * The files go to a hidden sibling folder renamed to --out at the end, so an interrupted run leaves
 * nothing a rerun would refuse: Ctrl-C removes it, and a rerun removes what a kill -9 left.
 */
import { existsSync, readdirSync } from 'node:fs';
import { rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { CommandContext } from '../cli/command.ts';
import { ExitCode, UsageError } from '../errors.ts';
import type { GeneratorOption } from '../model/domain.ts';
import { isDate } from '../model/fields.ts';
import { progressBar } from '../replay/cli.ts';

export const help = `dualrun generate — write a synthetic scenario of the domain (its scenario format), deterministic by seed

Usage: dualrun generate --out DIR --seed S [the generator's flags]

  --out DIR      the scenario folder to write (must be empty or absent); written as .DIR.partial beside it
                 and renamed when complete, so an interrupted run leaves nothing a rerun would refuse
  --seed S       any text: the same seed and flags give byte-identical files
  --json         print the summary as JSON
  --list-options print the flags of this project's generator, with their defaults, and exit

The other flags are the generator's of dualrun.config.ts's domain (the built-in example's without a config): each domain
declares its own counts, shares and dates, so this page cannot know them; --list-options prints them.

Its expected-differences.json is {}: the differences of generated data are not worked out by hand.
Replay it with: dualrun replay --scenario DIR`;

/** How a generator option's value is written, for the messages about a flag without one. */
const VALUE_SHAPES: Record<GeneratorOption['kind'], string> = { count: 'N', rate: 'R', date: 'YYYY-MM-DD' };

function parseValue(flag: string, option: GeneratorOption, raw: string): number | string {
  switch (option.kind) {
    case 'count':
      if (!/^[1-9]\d*$/.test(raw)) throw new UsageError(`--${flag} expects a whole number of at least 1, got ${JSON.stringify(raw)}`, { hint: `${option.description}; for example --${flag} 1000` });
      return Number(raw);
    case 'rate':
      if (!/^(0(\.\d+)?|1(\.0+)?)$/.test(raw)) throw new UsageError(`--${flag} expects a share from 0 to 1, like 0.05, got ${JSON.stringify(raw)}`, { hint: `${option.description}; for example --${flag} 0.05` });
      return Number(raw);
    case 'date':
      if (!isDate(raw)) throw new UsageError(`--${flag} expects a calendar date written YYYY-MM-DD, like 2024-06-03, got ${JSON.stringify(raw)}`, { hint: `${option.description}; for example --${flag} 2024-06-03` });
      return raw;
  }
}

export async function run(ctx: CommandContext): Promise<number> {
  const { domain } = ctx.project;
  if (!domain.generate) throw new UsageError(`the ${domain.name} domain has no scenario generator`, { hint: 'declare generate in defineDomain, or write the scenario CSV files yourself' });
  const generator = await domain.generate();
  const own = Object.fromEntries(Object.keys(generator.options).map((flag) => [flag, { type: 'string' as const }]));
  const usage = Object.entries(generator.options).map(([flag, option]) => `--${flag} ${VALUE_SHAPES[option.kind]}`).join(' ');
  const { values } = ctx.parse({ ...own, out: { type: 'string' }, seed: { type: 'string' }, 'list-options': { type: 'boolean' }, json: { type: 'boolean' }, verbose: { type: 'boolean' } }, usage);
  if (values['list-options']) {
    ctx.out([`${domain.name}: ${generator.description}`, ...Object.entries(generator.options).map(([flag, option]) => `  --${flag.padEnd(16)} ${option.kind.padEnd(5)} ${option.description}${option.default === undefined ? ' (required)' : ` (default ${option.default})`}`)].join('\n'));
    return ExitCode.ok;
  }
  const example = `dualrun generate --out /tmp/big --seed 1 ${Object.entries(generator.options).filter(([, option]) => option.default === undefined).map(([flag]) => `--${flag} 1000`).join(' ')}`;
  for (const flag of ['out', 'seed'] as const) if (values[flag] === undefined) throw new UsageError(`dualrun generate needs --${flag}`, { hint: `for example: ${example}` });
  const parsed: Record<string, number | string> = {};
  for (const [flag, option] of Object.entries(generator.options)) {
    const raw = (values as Record<string, unknown>)[flag] as string | undefined;
    if (raw === undefined && option.default === undefined) throw new UsageError(`dualrun generate needs --${flag} (${option.description})`, { hint: `for example: ${example}` });
    parsed[flag] = raw === undefined ? option.default! : parseValue(flag, option, raw);
  }
  const out = values.out as string;
  if (existsSync(out) && readdirSync(out).length > 0) throw new UsageError(`--out ${out} is not empty`, { hint: 'choose a new folder, or remove this one first' });
  const partial = join(dirname(resolve(out)), `.${basename(resolve(out))}.partial`);
  // Ours by its name: what an interrupted run left is started over.
  await rm(partial, { recursive: true, force: true });
  const onSignal = (signal: NodeJS.Signals): void => {
    ctx.progress(`${signal}: stopped; nothing was written to ${out}. Run the same command again to generate it.`);
    void rm(partial, { recursive: true, force: true }).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = Date.now();
  let summary: Awaited<ReturnType<typeof generator.run>>;
  try {
    summary = await generator.run({ out: partial, seed: values.seed as string, values: parsed, onProgress: progressBar(ctx, 'rows') });
    // An empty --out folder gives way to the finished one.
    if (existsSync(out)) await rmdir(out);
    await rename(partial, out);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const seconds = (Date.now() - started) / 1000;
  ctx.out(values.json ? JSON.stringify({ out, seconds, ...summary }) : `wrote ${out}: ${summary.events} events (${Object.entries(summary.rows).map(([file, rows]) => `${file} ${rows}`).join(', ')} rows) in ${seconds.toFixed(1)} s`);
  return ExitCode.ok;
}
