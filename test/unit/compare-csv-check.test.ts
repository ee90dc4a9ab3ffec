// The pieces that find the place of a CSV problem (compare/csv-check.ts): the UTF-8 walk, the record
// scanner (fed whole or in pieces), the header check and the search after DuckDB refused a file.
// Lines and columns are counted by hand from the texts below.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordScan, duckFirstReject, locateCsvProblem, readCsvHeader, readCsvOptions, scanRecord, utf8Problem, type CsvHeader } from '../../compare/csv-check.ts';
import { literal, openDuck } from '../../compare/duck.ts';
import type { InputError } from '../../src/errors.ts';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dualrun-csv-check-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(content: string | Buffer): Promise<string> {
  n += 1;
  const path = join(dir, `f${n}.csv`);
  await writeFile(path, content);
  return path;
}

const where = (error: InputError | undefined): string | undefined => (error ? `${error.line}:${error.column}: ${error.message}` : undefined);
async function headerError(content: string | Buffer): Promise<string | undefined> {
  return readCsvHeader(await file(content)).then(
    () => undefined,
    (error: InputError) => where(error),
  );
}
const LF: CsvHeader = { names: ['id', 'amount', 'label'], newline: '\n' };

describe('utf8Problem', () => {
  const bytes = (...values: number[]) => Uint8Array.from(values);
  it('passes UTF-8 of every length', () => {
    expect(utf8Problem(Buffer.from('a é € 😀'), true)).toEqual({ cut: Buffer.from('a é € 😀').length });
  });
  it.each([
    ['a lone continuation byte', bytes(0x61, 0x80), { offset: 1, length: 1 }],
    ['an overlong two-byte form', bytes(0xc0, 0xaf), { offset: 0, length: 1 }],
    ['an overlong three-byte form', bytes(0xe0, 0x80, 0x80), { offset: 0, length: 1 }],
    ['a surrogate', bytes(0xed, 0xa0, 0x80), { offset: 0, length: 1 }],
    ['beyond U+10FFFF', bytes(0xf4, 0x90, 0x80, 0x80), { offset: 0, length: 1 }],
    ['a byte never in UTF-8', bytes(0x61, 0xff), { offset: 1, length: 1 }],
    ['Latin-1 é before ASCII', bytes(0x63, 0xe9, 0x74), { offset: 1, length: 1 }],
    ['a three-byte form broken at its third byte', bytes(0xe2, 0x82, 0x28), { offset: 0, length: 2 }],
  ])('finds %s', (_, input, found) => {
    expect(utf8Problem(input, true)).toEqual(found);
  });
  it('leaves a character cut off by the end for the next piece, unless it is the last', () => {
    expect(utf8Problem(bytes(0x61, 0xe2, 0x82), false)).toEqual({ cut: 1 });
    expect(utf8Problem(bytes(0x61, 0xe2, 0x82), true)).toEqual({ offset: 1, length: 2 });
  });
});

describe('RecordScan', () => {
  it('knows where each field starts, across quoted commas, quotes and line breaks', () => {
    const scan = scanRecord('1,"a,""b""\nc",,x\nnext');
    expect(scan.fields).toEqual([
      { line: 1, column: 1 },
      { line: 1, column: 3 },
      { line: 2, column: 4 },
      { line: 2, column: 5 },
    ]);
    expect(scan.end).toEqual({ line: 2, column: 6 });
    expect(scan.lineEnd).toBe('\n');
  });

  it('skips blank lines before the record and takes CRLF as one line end', () => {
    const scan = new RecordScan(7);
    expect(scan.feed('\r\n\n1,2\r\n3')).toBe(7);
    expect(scan.fields).toEqual([
      { line: 9, column: 1 },
      { line: 9, column: 3 },
    ]);
    expect(scan.end).toEqual({ line: 9, column: 4 });
    expect(scan.lineEnd).toBe('\r\n');
  });

  it('finds text after a closing quote, an unterminated quote, a CR alone and a line end unlike line 1', () => {
    expect(scanRecord('1,"5" screen"\n').badClose).toEqual({ at: { line: 1, column: 6 }, found: ' ' });
    const open = scanRecord('1,"x\n2,y\n');
    expect([open.end, open.openQuote]).toEqual([undefined, { line: 1, column: 3 }]);
    expect(scanRecord('1,x\ry\n').badLineEnd).toEqual({ at: { line: 1, column: 4 }, found: 'CR' });
    expect(scanRecord('1,x\r\n', '\n').badLineEnd).toEqual({ at: { line: 1, column: 4 }, found: 'CRLF' });
    expect(scanRecord('1,x\n', '\r\n').badLineEnd).toEqual({ at: { line: 1, column: 4 }, found: 'LF' });
    // Inside quotes any line end is text; a quote inside an unquoted field is text (as DuckDB reads both).
    expect(scanRecord('1,"a\r\nb",5"\n', '\n')).toMatchObject({ badLineEnd: undefined, badClose: undefined, lineEnd: '\n' });
  });

  it('counts ; and tabs outside quoted fields only', () => {
    const scan = scanRecord('x,"a;b",c;d\te;\n');
    expect(Object.fromEntries(scan.separators)).toEqual({ ';': { at: { line: 1, column: 10 }, count: 2 }, '\t': { at: { line: 1, column: 12 }, count: 1 } });
  });

  it('reads the same fed in pieces as fed whole, wherever the text is cut', () => {
    for (const text of ['1,"a,""b""\r\nc",,x\r\nnext', '1,"5" screen"\n', 'a,"open\n,x', '\n\n1,2,3']) {
      const whole = scanRecord(text, '\r\n');
      for (let cut = 0; cut <= text.length; cut += 1) {
        const scan = new RecordScan(1, 1, '\r\n');
        if (scan.feed(text.slice(0, cut)) < 0 && scan.feed(text.slice(cut)) < 0) scan.finish();
        expect({ ...scan }).toEqual({ ...whole });
      }
    }
  });
});

describe('readCsvHeader', () => {
  it('gives the names and line 1\'s line end; a BOM, quotes and a header longer than one read are fine', async () => {
    expect(await readCsvHeader(await file('\uFEFFid,"a, ""b""",c\r\n1,2,3\r\n'))).toEqual({ names: ['id', 'a, "b"', 'c'], newline: '\r\n' });
    expect(await readCsvHeader(await file('id'))).toEqual({ names: ['id'], newline: '\n' });
    const long = 'x'.repeat(100_000);
    expect((await readCsvHeader(await file(`id,${long}\n1,2\n`))).names).toEqual(['id', long]);
  });

  it.each([
    ['an empty file', '', '1:1: expected a header line naming the columns, found an empty file'],
    ['only blank lines', '\n\r\n', '1:1: expected a header line naming the columns, found only blank lines'],
    ['a blank line before the header', '\nid,a\n', '1:1: expected the header line naming the columns on line 1, found an empty line'],
    ['UTF-16', Buffer.from('\uFEFFid,a\n', 'utf16le'), '1:1: expected UTF-8 text, found a UTF-16 byte order mark (0xFF 0xFE)'],
    ['Latin-1 in the header', Buffer.from('id,é\n', 'latin1'), '1:4: expected UTF-8 text, found the byte 0xE9, which is not UTF-8 here (in Windows-1252 it would be "é")'],
    ['Latin-1 after UTF-8 on line 2 of the first read', Buffer.concat([Buffer.from('id,a\nÄ€,'), Buffer.from('é', 'latin1')]), '2:4: expected UTF-8 text, found the byte 0xE9, which is not UTF-8 here (in Windows-1252 it would be "é")'],
    ['a ;-separated header', 'id;a;b\n', '1:3: expected the column names separated by commas, found 2 ";" and no comma: the file looks ;-separated'],
    ['a ;-separated header of quoted names', '"id";"a"\n', '1:5: expected the column names separated by commas, found ";" after a quoted name: the file looks ;-separated'],
    ['a tab-separated header', 'id\ta\n', '1:3: expected the column names separated by commas, found 1 tab and no comma: the file looks tab-separated'],
    ['an empty name', 'id,,b\n', '1:4: expected a name for column 2, found an empty field'],
    ['a name of spaces', 'id, \n', '1:4: expected a name for column 2, found only white space'],
    ['a duplicate name', 'id,a,b,a\n', '1:8: expected each column name once, found "a" again (column 2 is "a" too)'],
    ['names differing in ASCII case only', 'id,ID\n', '1:4: expected each column name once, found "ID", which DuckDB takes for "id" (column 1): names differing only in case are the same column'],
    ['a quote never closed', 'id,"a\n1,2\n', '1:4: expected a closing " for the header field that opens here, found the end of the file'],
    ['text after a closing quote', 'id,"a"b\n', '1:7: expected , or the end of the line after the closing " of a header field, found "b"'],
    ['old Mac line ends', 'id,a\r1,2\r', '1:5: expected the header line to end with LF (\\n) or CRLF (\\r\\n), found a CR (\\r) alone'],
  ])('refuses %s', async (_, content, message) => {
    expect(await headerError(content)).toBe(message);
  });

  it('accepts names that differ beyond ASCII case (DuckDB keeps É and é apart)', async () => {
    expect((await readCsvHeader(await file('id,É,é\n'))).names).toEqual(['id', 'É', 'é']);
  });

  it('stops at 1 MB when the header never ends', async () => {
    expect(await headerError(`id,"${'x'.repeat(1_100_000)}`)).toBe('1:4: expected the quoted header field that opens here to close, found no closing " in the first 1 MB');
  });
});

describe('locateCsvProblem (after DuckDB refused the file)', () => {
  const locate = async (content: string | Buffer, header = LF) => where(await locateCsvProblem(await file(content), header));

  it('finds nothing in a good file (the caller then reports DuckDB\'s own reason)', async () => {
    expect(await locate('id,amount,label\n1,2,3\n\n4,"5,6",x"y\n')).toBeUndefined();
  });

  it('counts lines across blank lines and quoted line breaks, after a quote DuckDB keeps as text', async () => {
    expect(await locate('id,amount,label\n1,5",x\n\n2,"a\nb",c\n3,4\n')).toBe('6:4: expected 3 fields (id,amount,label), found 2: the row ends before column label');
  });

  it('says when a short row looks ;-separated', async () => {
    const error = await locateCsvProblem(await file('id,amount,label\n1;2;3\n'), LF);
    expect(where(error)).toBe('2:6: expected 3 fields (id,amount,label), found 1: the row ends before column amount');
    expect(error?.hint).toBe('this row looks ;-separated: separate its fields with commas');
  });

  it('finds a CRLF line in an LF file and an LF line in a CRLF file, a BOM not counted', async () => {
    expect(await locate('id,amount,label\n1,2,3\r\n')).toBe('2:6: expected the line to end as line 1 does, with LF (\\n), found CRLF (\\r\\n)');
    expect(await locate('\uFEFFid,amount,label\r\n1,2,3\r\n4,5,6\n', { ...LF, newline: '\r\n' })).toBe('3:6: expected the line to end as line 1 does, with CRLF (\\r\\n), found LF (\\n)');
  });

  it('finds the unterminated quote where it opens, after a closed multi-line field in the same record', async () => {
    expect(await locate('id,amount,label\n1,"a\nb","c\n2,3,4\n')).toBe('3:4: expected a closing " for the quoted field that opens here, found the end of the file');
  });

  it('names where a quoted field opened when its closing quote turns up on a later line', async () => {
    const error = await locateCsvProblem(await file('id,amount,label\n1,"10.00,a\n2,5.50,"b"\n'), LF);
    expect(where(error)).toBe('3:9: expected , or the end of the line after a closing ", found "b"; this quoted field opened at 2:3');
    expect(error?.hint).toBe('close the quote where that field ends on line 2; a " inside a quoted field is written ""');
  });

  it('finds a byte that is not UTF-8 beyond the first megabyte, characters cut by the reads counted right', async () => {
    // 400,000 three-byte characters (1.2 MB) on line 2, so reads cut characters in two; the bad byte follows them.
    const content = Buffer.concat([Buffer.from(`id,amount,label\n1,2,${'€'.repeat(400_000)}`), Buffer.from([0xe9, 0x0a])]);
    expect(await locate(content)).toBe('2:400005: expected UTF-8 text, found the byte 0xE9, which is not UTF-8 here (in Windows-1252 it would be "é")');
  });

  it('asks DuckDB which record it refused, checks that one, and leaves no table behind', async () => {
    const duck = await openDuck();
    try {
      const rows = Array.from({ length: 3000 }, (_, i) => `${i + 1},"a,""${i}""\nb",c\n`).join('');
      for (const [content, found] of [
        [`id,amount,label\n${rows}3001,x\n`, '6002:7: expected 3 fields (id,amount,label), found 2: the row ends before column label'],
        [`id,amount,label\n${rows}3001,"5" x",y\n`, '6002:9: expected , or the end of the line after a closing ", found " "'],
        // DuckDB fails again here without saying where: csv-parse reads the file from the start.
        [`id,amount,label\n${rows}3001,x,y\r\n`, '6002:9: expected the line to end as line 1 does, with LF (\\n), found CRLF (\\r\\n)'],
      ]) {
        const path = await file(content!);
        const refused = await duck.run(`SELECT * FROM read_csv(${literal(path)}, ${readCsvOptions(LF)})`).then(() => false, () => true);
        expect(refused).toBe(true);
        expect(where(await locateCsvProblem(path, LF, { duck }))).toBe(found);
        // DuckDB's word: where the refused record starts (the byte after row 3000's line end), or none.
        expect(await duckFirstReject(duck, path, LF)).toBe(found!.includes('CRLF') ? undefined : Buffer.byteLength(`id,amount,label\n${rows}`));
      }
      expect(await duck.rows("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'dualrun_csv%'")).toEqual([]);
    } finally {
      duck.close();
    }
  });
});
