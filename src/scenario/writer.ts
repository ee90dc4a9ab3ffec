/**
 * What a domain's generator needs to write a large scenario in the domain's own format: a seeded,
 * deterministic random source and buffered CSV writers that respect backpressure (memory stays flat
 * however many rows), each file opened with the header the domain gives it (files.ts).
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DomainModel } from '../model/domain.ts';
import { scenarioFiles } from './files.ts';

/** sfc32 seeded from the seed string by cyrb128: fast, small state, good enough for test data. */
export function seededRandom(seed: string): () => number {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0; i < seed.length; i += 1) {
    const k = seed.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  let [a, b, c, d] = [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
  return () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** Buffers rows and writes in ~64 KiB chunks, waiting for 'drain' when the stream is full. */
export class CsvWriter {
  private buffer: string[] = [];
  private size = 0;
  rows = 0;
  private readonly stream: WriteStream;
  constructor(path: string, header: readonly string[]) {
    this.stream = createWriteStream(path, { encoding: 'utf8' });
    this.buffer.push(`${header.join(',')}\n`);
  }
  async row(fields: readonly (string | number | null)[]): Promise<void> {
    const line = `${fields.map(csvField).join(',')}\n`;
    this.buffer.push(line);
    this.size += line.length;
    this.rows += 1;
    if (this.size >= 65_536) await this.flush();
  }
  async flush(): Promise<void> {
    const chunk = this.buffer.join('');
    this.buffer = [];
    this.size = 0;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }
  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One writer per file of the domain's scenario format, by file name, in `dir` (created). */
export async function openScenarioFiles(domain: DomainModel, dir: string): Promise<Record<string, CsvWriter> & { close(): Promise<Record<string, number>> }> {
  await mkdir(dir, { recursive: true });
  const writers: Record<string, CsvWriter> = {};
  for (const { file, header } of scenarioFiles(domain)) writers[file] = new CsvWriter(join(dir, file), header);
  const files = Object.entries(writers);
  return Object.assign({ ...writers }, {
    close: async () => {
      for (const [, writer] of files) await writer.close();
      return Object.fromEntries(files.map(([file, writer]) => [file, writer.rows]));
    },
  });
}

/** The three small files every scenario has beside its CSVs. */
export async function writeScenarioInfo(dir: string, info: { businessDates: string[]; cutoffTime: string; readme: string }): Promise<void> {
  await writeFile(join(dir, 'scenario.json'), `${JSON.stringify({ businessDates: info.businessDates, cutoffTime: info.cutoffTime })}\n`);
  await writeFile(join(dir, 'expected-differences.json'), '{}\n');
  await writeFile(join(dir, 'README.md'), `${info.readme}\n`);
}
