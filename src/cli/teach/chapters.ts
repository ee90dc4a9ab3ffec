/**
 * The chapters of `dualrun teach coupling`, in order, and how one is run: in a workspace of its own
 * (database, topics, consumer groups), cleaned up whether it ends or fails, with its wall time.
 */
import type { ChapterResult } from './types.ts';
import { Workspace, type TeachEnvironment } from './workspace.ts';

type Run = (ws: Workspace, step: (text: string) => void) => Promise<Omit<ChapterResult, 'seconds' | 'ran'>>;

export interface Chapter {
  number: number;
  title: string;
  load(): Promise<Run>;
}

export const CHAPTERS: readonly Chapter[] = [
  { number: 1, title: 'Load on the source', load: async () => (await import('./chapter-1-load.ts')).chapterLoad },
  { number: 2, title: 'Freshness', load: async () => (await import('./chapter-2-freshness.ts')).chapterFreshness },
  { number: 3, title: 'Schema coupling', load: async () => (await import('./chapter-3-schema.ts')).chapterSchema },
  { number: 4, title: 'Fan-out', load: async () => (await import('./chapter-4-fanout.ts')).chapterFanOut },
  { number: 5, title: 'What polling misses', load: async () => (await import('./chapter-5-polling.ts')).chapterPolling },
];

export async function runChapter(number: number, env: TeachEnvironment, step: (text: string) => void = () => undefined): Promise<ChapterResult> {
  const chapter = CHAPTERS.find((candidate) => candidate.number === number);
  if (!chapter) throw new Error(`there is no chapter ${number}`);
  const run = await chapter.load();
  const started = Date.now();
  step('preparing its own database and topics');
  const ws = await Workspace.open(number, env);
  step(`its database ${ws.databaseName} and topics ${ws.prefix}.*`);
  // Interrupted, the chapter still removes its database and topics before the process ends.
  const onSignal = (signal: NodeJS.Signals): void => {
    void ws.close().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await run(ws, step);
    return { ...result, seconds: (Date.now() - started) / 1000, ran: { engine: ws.engine, database: ws.databaseName, topicPrefix: ws.prefix } };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    step('cleaning up its database and topics');
    await ws.close();
  }
}
