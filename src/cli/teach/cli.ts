/**
 * `dualrun teach coupling`: the argument for events over a nightly batch on update-in-place tables, told
 * in five short chapters that each run on the real broker and database, measure their figure in this
 * run, and draw a lesson from it. Writes the report to the terminal, and optionally as Markdown and as
 * one self-contained HTML page with a chart per chapter.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { redactUrl } from '../../db.ts';
import { ExitCode, UsageError } from '../../errors.ts';
import { resolveBrokers } from '../brokers.ts';
import type { CommandContext } from '../command.ts';
import { CHAPTERS, runChapter } from './chapters.ts';
import { renderHtml } from './render-html.ts';
import { renderChapterText, renderMarkdown, type RunInfo } from './render-text.ts';
import { loadShop } from './shop-day.ts';
import type { ChapterResult } from './types.ts';

export const help = `dualrun teach — lessons measured on the real broker and database

Usage: dualrun teach coupling [--chapter N] [--db URL] [--brokers LIST] [--markdown FILE] [--html FILE] [--json]

Why teams move from a nightly batch job on update-in-place tables to events, in short chapters on the
example shop (whatever domain dualrun.config.ts declares: the story is told in the shop's tables). Each chapter makes a database and topics of its own, runs the real batch and streaming jobs,
ends with a figure it measured in this run and a lesson drawn from it, and cleans up after itself:

${CHAPTERS.map((chapter) => `  ${chapter.number}  ${chapter.title}`).join('\n')}

  --chapter N      only chapter N (1-${CHAPTERS.length}); default all of them, in order
  --db URL         the database server the chapters make their databases on: postgres://… or mysql://…
                   (its user must be allowed to CREATE DATABASE); default DATABASE_URL, else embedded PGlite
  --brokers LIST   Kafka brokers host:port,… (default KAFKA_BROKERS, else a local broker started and stopped here)
  --markdown FILE  also write the report as Markdown (for slides or a blog post)
  --html FILE      also write it as one self-contained HTML page, with a chart per chapter
  --json           the chapters' results as JSON on stdout, instead of the report

The report has colour on a terminal and is plain otherwise; a progress line shows what a chapter is doing.
Exit codes: 0 every chapter's figure shows its lesson, 1 a figure does not, 2 usage, 4 a service is unavailable.`;

export async function run(ctx: CommandContext): Promise<number> {
  const { values, positionals } = ctx.parse({
    chapter: { type: 'string' },
    db: { type: 'string' },
    brokers: { type: 'string' },
    markdown: { type: 'string' },
    html: { type: 'string' },
    json: { type: 'boolean' },
    verbose: { type: 'boolean' },
  });
  const [lesson, extra] = positionals;
  if (lesson !== 'coupling') throw new UsageError(lesson === undefined ? 'dualrun teach needs a lesson' : `dualrun teach: no lesson "${lesson}"`, { hint: 'the lesson is coupling: dualrun teach coupling [--chapter N]' });
  if (extra !== undefined) throw new UsageError(`dualrun teach: unexpected argument "${extra}"`, { hint: 'see dualrun teach --help' });
  const numbers = values.chapter === undefined ? CHAPTERS.map((chapter) => chapter.number) : [chapterNumber(values.chapter)];
  const dbUrl = values.db ?? ctx.env.databaseUrl;

  const shop = await loadShop();
  const { brokers, stop } = await brokersFor(ctx, values.brokers);
  const info: RunInfo = { startedAt: new Date().toISOString(), database: dbUrl && !dbUrl.startsWith('pglite:') ? redactUrl(dbUrl) : 'embedded PGlite', brokers: brokers.join(',') };
  const color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined && !values.json;
  const width = Math.min(110, process.stdout.columns ?? 100);
  const results: ChapterResult[] = [];
  try {
    for (const number of numbers) {
      const progress = progressLine(ctx, number, values.json === true);
      try {
        const result = await runChapter(number, { dbUrl, brokers, shop, logger: ctx.logger, cacheDir: ctx.env.cacheDir, connectUrl: ctx.env.connectUrl }, progress.step);
        results.push(result);
        progress.done();
        if (!values.json) ctx.out(`${results.length > 1 ? '\n' : ''}${renderChapterText(result, { color, width })}`);
      } catch (error) {
        progress.done();
        throw error;
      }
    }
  } finally {
    await stop();
  }
  if (values.json) ctx.out(JSON.stringify({ ...info, chapters: results }, null, 2));
  const written: string[] = [];
  if (values.markdown) written.push(await write(values.markdown, renderMarkdown(results, info)));
  if (values.html) written.push(await write(values.html, renderHtml(results, info)));
  if (written.length > 0) ctx.progress(`written: ${written.join(', ')}`);
  const failing = results.filter((result) => !result.claim.holds);
  if (failing.length > 0) ctx.progress(`${failing.length} chapter(s) did not show their lesson in this run: ${failing.map((result) => result.number).join(', ')}`);
  return failing.length === 0 ? ExitCode.ok : ExitCode.failed;
}

function chapterNumber(raw: string): number {
  const number = Number(raw);
  if (!/^\d+$/.test(raw) || !CHAPTERS.some((chapter) => chapter.number === number)) {
    throw new UsageError(`--chapter expects a chapter number from 1 to ${CHAPTERS.length}, got ${JSON.stringify(raw)}`, { hint: 'see the chapters in dualrun teach --help' });
  }
  return number;
}

async function write(path: string, text: string): Promise<string> {
  const file = resolve(path);
  await writeFile(file, text);
  return file;
}

/** --brokers, KAFKA_BROKERS or a running local broker; else one of our own for the run, stopped afterwards. */
async function brokersFor(ctx: CommandContext, flag: string | undefined): Promise<{ brokers: string[]; stop: () => Promise<void> }> {
  const brokers = await resolveBrokers(flag, ctx.env);
  if (brokers) return { brokers, stop: async () => undefined };
  ctx.progress('kafka: starting a local broker (KAFKA_BROKERS / --brokers use an existing cluster)…');
  const { startLocalKafka } = await import('../../../streaming/broker/local-kafka.ts');
  const broker = await startLocalKafka({ cacheDir: ctx.env.cacheDir, kafkaHome: ctx.env.kafkaHome, logger: ctx.logger });
  return { brokers: [broker.brokers], stop: () => broker.stop() };
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** While a chapter runs: one line rewritten in place on a terminal, a line per step otherwise. */
function progressLine(ctx: CommandContext, number: number, quiet: boolean): { step(text: string): void; done(): void } {
  const title = CHAPTERS.find((chapter) => chapter.number === number)!.title;
  if (quiet) return { step: () => undefined, done: () => undefined };
  if (!process.stderr.isTTY) return { step: (text) => ctx.progress(`chapter ${number} (${title}): ${text}`), done: () => undefined };
  const started = Date.now();
  let current = 'starting';
  let frame = 0;
  const draw = (): void => {
    const line = `${SPINNER[frame++ % SPINNER.length]} chapter ${number} · ${title} · ${((Date.now() - started) / 1000).toFixed(1)} s · ${current}`;
    process.stderr.write(`\r\u001b[2K${line.slice(0, (process.stderr.columns ?? 100) - 1)}`);
  };
  const timer = setInterval(draw, 100);
  draw();
  return {
    step: (text) => {
      current = text;
      draw();
    },
    done: () => {
      clearInterval(timer);
      process.stderr.write('\r\u001b[2K');
    },
  };
}
