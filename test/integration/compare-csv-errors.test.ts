// `dualrun compare` given a malformed csv: source, as a user runs it: exit 2 and one message naming
// file:line:column, what was expected, what was found and the fix — never DuckDB's sniffer, never a
// silent rename. Lines and columns below are counted by hand from the file contents.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it, type ExpectStatic } from 'vitest';
import { runCli } from '../support/cli.ts';

let dir: string;
const GOOD = 'id,amount,label\n1,10.00,a\n2,5.50,b\n';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dualrun-csv-errors-'));
  await writeFile(join(dir, 'good.csv'), GOOD);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Compares `content` (as the left side) with a good file; the file's path for the expected message. */
async function compareLeft(name: string, content: string | Buffer) {
  const file = join(dir, name);
  await writeFile(file, content);
  const result = await runCli(['compare', '--left', `csv:${file}`, '--right', `csv:${join(dir, 'good.csv')}`, '--key', 'id', '--out', join(dir, `out-${name}`)]);
  return { ...result, file };
}

/** Exit 2 and exactly one message: `error: FILE:WHERE: MESSAGE` and its fix. (`expect`: the test's own, the tests run concurrently.) */
async function expectError(expect: ExpectStatic, name: string, content: string | Buffer, where: string, message: string, fix: string): Promise<void> {
  const result = await compareLeft(name, content);
  expect(result.stderr).toBe(`error: ${result.file}:${where}: ${message}\n  fix: ${fix}\n`);
  expect(result.code).toBe(2);
}

// 5,000 good rows: the problem after them lies beyond what is read before DuckDB, so DuckDB meets it first.
const MANY = Array.from({ length: 5000 }, (_, i) => `${i + 1},1.00,row ${i + 1}\n`).join('');

// Each case runs the binary (~1 s): concurrently, the file takes a third of the time.
describe.concurrent('dualrun compare: a malformed csv: source is exit 2 with one message at file:line:column', () => {
  it('not valid UTF-8, on the first lines (before DuckDB reads) and far into the file (after DuckDB refused it)', async ({ expect }) => {
    const fix = 'save the file as UTF-8 (or convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8 in.csv > out.csv, naming the encoding it really has)';
    const found = 'expected UTF-8 text, found the byte 0xE9, which is not UTF-8 here (in Windows-1252 it would be "é")';
    await expectError(expect, 'latin1.csv', Buffer.from('id,amount,label\n1,10.00,café\n', 'latin1'), '2:12', found, fix);
    await expectError(expect, 'latin1-far.csv', Buffer.concat([Buffer.from(`id,amount,label\n${MANY}`), Buffer.from('5001,1.00,café\n', 'latin1')]), '5002:14', found, fix);
  });

  it('an unterminated quote: at the quote that opens the field', async ({ expect }) => {
    await expectError(expect, 'unterminated.csv', 'id,amount,label\n1,10.00,"café\n2,5.50,b\n', '2:9', 'expected a closing " for the quoted field that opens here, found the end of the file', 'close the quote; a " inside a quoted field is written ""');
  });

  it('a row with more fields than the header: at the first field too many (the header stays the header)', async ({ expect }) => {
    await expectError(expect, 'extra.csv', 'id,amount,label\n1,10.00,a,extra\n2,5.50,b\n', '2:11', 'expected 3 fields (id,amount,label), found 4: this field is one too many', 'remove the extra field, or wrap a value that contains a comma in quotes ("a, b")');
  });

  it('a row with fewer fields than the header: where the missing field should start, far into the file too', async ({ expect }) => {
    const fix = 'give the row a field for every column (an empty value is nothing between two commas)';
    await expectError(expect, 'short.csv', 'id,amount,label\n1,10.00,a\n2,5.50\n', '3:7', 'expected 3 fields (id,amount,label), found 2: the row ends before column label', fix);
    await expectError(expect, 'short-far.csv', `id,amount,label\n${MANY}5001,1.00\n`, '5002:10', 'expected 3 fields (id,amount,label), found 2: the row ends before column label', fix);
  });

  it('a duplicate column name, also one differing only in case (DuckDB would rename it and compare)', async ({ expect }) => {
    const fix = 'rename one of the two columns (dualrun compares columns by name and never renames them)';
    await expectError(expect, 'duplicate.csv', 'id,amount,amount\n1,10.00,a\n', '1:11', 'expected each column name once, found "amount" again (column 2 is "amount" too)', fix);
    await expectError(expect, 'duplicate-case.csv', 'id,amount,Amount\n1,10.00,a\n', '1:11', 'expected each column name once, found "Amount", which DuckDB takes for "amount" (column 2): names differing only in case are the same column', fix);
  });

  it('an empty column name, also a trailing comma on the header line', async ({ expect }) => {
    await expectError(expect, 'empty-name.csv', 'id,,label\n1,10.00,a\n', '1:4', 'expected a name for column 2, found an empty field', 'name every column in the header line');
    await expectError(expect, 'trailing-comma.csv', 'id,amount,label,\n1,10.00,a,\n', '1:17', 'expected a name for column 4, found an empty field', 'name the column, or remove the comma at the end of the header line');
  });

  it('an empty file', async ({ expect }) => {
    await expectError(expect, 'empty.csv', '', '1:1', 'expected a header line naming the columns, found an empty file', 'write the column names on the first line, separated by commas (id,amount,…)');
  });

  it('a ;-separated file and a tab-separated file', async ({ expect }) => {
    const fix = 'save it as comma-separated CSV (fields separated by commas; a field with a comma, a " or a line break wrapped in "…", each " inside it doubled)';
    await expectError(expect, 'semicolon.csv', 'id;amount;label\n1;10,00;a\n', '1:3', 'expected the column names separated by commas, found 2 ";" and no comma: the file looks ;-separated', fix);
    await expectError(expect, 'tab.csv', 'id\tamount\tlabel\n1\t10.00\ta\n', '1:3', 'expected the column names separated by commas, found 2 tabs and no comma: the file looks tab-separated', fix);
  });

  it('text after a closing quote, and a line end unlike line 1 (DuckDB refuses both)', async ({ expect }) => {
    await expectError(expect, 'bad-close.csv', 'id,amount,label\n1,10.00,"5" screen"\n', '2:12', 'expected , or the end of the line after a closing ", found " "', 'wrap the whole field in quotes and double each " inside it ("5"" screen" for 5" screen)');
    await expectError(expect, 'mixed-ends.csv', 'id,amount,label\r\n1,10.00,a\r\n2,5.50,b\n3,7.25,c\r\n', '3:9', 'expected the line to end as line 1 does, with CRLF (\\r\\n), found LF (\\n)', 'give every line the same line end (an editor can convert them all to LF); a line break inside a value needs the value in quotes');
  });

  it('a good file with a BOM, CRLF, a quoted line break and comma, "", #, and x"y loads as the same text; "" stays apart from NULL', async ({ expect }) => {
    const tricky = '\uFEFFid,amount,label\r\n1,10.00,"a, ""b""\nc"\r\n2,"",\r\n#3,x"y,z\r\n';
    // The same values, every one quoted (the empty label of row 2 unquoted: NULL).
    await writeFile(join(dir, 'quoted.csv'), 'id,amount,label\n"1","10.00","a, ""b""\nc"\n"2","",\n"#3","x""y","z"\n');
    await writeFile(join(dir, 'tricky.csv'), tricky);
    const result = await runCli(['compare', '--left', `csv:${join(dir, 'quoted.csv')}`, '--right', `csv:${join(dir, 'tricky.csv')}`, '--key', 'id', '--out', join(dir, 'out-tricky')]);
    expect(result.stderr).not.toMatch(/error:/);
    expect(result.code).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'out-tricky', 'report.json'), 'utf8')).comparisons[0].counts).toEqual({ match: 3, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 0 });
    await writeFile(join(dir, 'null.csv'), 'id,amount\n2,\n');
    await writeFile(join(dir, 'empty-text.csv'), 'id,amount\n2,""\n');
    const apart = await runCli(['compare', '--left', `csv:${join(dir, 'null.csv')}`, '--right', `csv:${join(dir, 'empty-text.csv')}`, '--key', 'id', '--out', join(dir, 'out-null')]);
    expect(apart.code).toBe(1);
    expect(JSON.parse(await readFile(join(dir, 'out-null', 'report.json'), 'utf8')).comparisons[0].counts).toMatchObject({ mismatch: 1 });
  });
});
