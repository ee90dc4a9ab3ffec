// Session expiry and rejoin, on the real broker with two real `dualrun stream run` processes in one group
// (session timeout 6 s, the broker's minimum). While events are being published, one process is paused
// (SIGSTOP) past its session: the broker expires it and the other takes all partitions. Resumed (SIGCONT),
// the paused one finds itself out of the group: whatever it was writing must not commit (the other has
// fenced its producers), it must rejoin as a new member and drop every task it had, and the final outputs
// and late records must equal those of one uninterrupted run.
import '../../src/kafkajs-fixes.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.ts';
import { StreamRunner } from '../../streaming/runtime/runner.ts';
import { generateShop } from '../support/generate.ts';
import { brokers, uniqueTopic } from '../support/kafka.ts';
import { shop, shopTransforms } from '../support/shop.ts';
import { killStreamJobs, startStreamJob, type StreamJob } from '../support/stream-job.ts';
import { allMessages, committedInput, createInputTopics, describeGroup, finalValues, publish } from '../support/stream.ts';

const SESSION_MS = 6000;
afterAll(killStreamJobs);

function startJob(prefix: string, group: string): StreamJob {
  return startStreamJob(['--group', group, '--from-beginning', '--topic-prefix', prefix, '--brokers', brokers().join(','), '--session-timeout', String(SESSION_MS), '--until-idle', '8']);
}

async function outputsOf(prefix: string) {
  const outputs: Record<string, Record<string, unknown>> = {};
  for (const transform of shopTransforms) outputs[transform.name] = await finalValues(`${prefix}.out.${transform.name}`);
  const late = (await allMessages(`${prefix}.late`)).map((r) => `${r.key}|${r.headers['dualrun-transform']}|${r.headers['dualrun-source-partition']}@${r.headers['dualrun-source-offset']}`).sort();
  return { outputs, late };
}

/** The group's state and members, and the input offsets it has committed (over all input topics). */
async function groupState(group: string, prefix: string): Promise<{ state: string; members: number; committed: number }> {
  return { ...(await describeGroup(group)), committed: await committedInput(group, prefix, shop) };
}

async function until(condition: () => Promise<boolean>, what: string | (() => string), timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('a member whose session expires', { timeout: 240_000 }, () => {
  it('loses its partitions to the other, commits nothing stale on resume, rejoins, and the outputs stay exact', async () => {
    const messages = generateShop({ events: 12_000, seed: 18 });
    const referencePrefix = uniqueTopic('expiry-ref');
    await createInputTopics(referencePrefix, 4);
    await publish(referencePrefix, messages);
    const runner = new StreamRunner({ domain: shop, brokers: brokers(), group: `${referencePrefix}-g`, topicPrefix: referencePrefix, transforms: shopTransforms, fromBeginning: true, untilIdleMs: 2000, logger: silentLogger });
    await runner.start();
    await runner.done;
    const reference = await outputsOf(referencePrefix);

    const prefix = uniqueTopic('expiry');
    const group = `${prefix}-g`;
    await createInputTopics(prefix, 4);
    const third = Math.floor(messages.length / 3);
    const stable = (members: number) => async () => {
      const now = await groupState(group, prefix);
      return now.state === 'Stable' && now.members === members;
    };
    await publish(prefix, messages.slice(0, third), 1000);
    const paused = startJob(prefix, group);
    await until(async () => (await groupState(group, prefix)).committed > 0, () => `the first process to commit:\n${paused.log()}`, 60_000);
    const other = startJob(prefix, group);
    await until(stable(2), 'both processes in the group', 60_000);
    // Paused while the second third arrives, most likely in the middle of a batch.
    const publishing = publish(prefix, messages.slice(third, 2 * third), 250);
    const before = (await groupState(group, prefix)).committed;
    await until(async () => (await groupState(group, prefix)).committed > before, 'the group to process the second third', 30_000);
    paused.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await until(stable(1), 'the paused member to be expired and the other to hold every partition', 60_000);
    // Expired by the session, counted from its last heartbeat (every SESSION_MS / 3) before the stop.
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(SESSION_MS / 2);
    await publishing;
    // The other has the paused one's partitions: it commits every event published so far.
    await until(async () => (await groupState(group, prefix)).committed === 2 * third, 'the other process to commit the paused one\'s events too', 60_000);

    paused.child.kill('SIGCONT');
    await until(async () => paused.log().includes('rejoined the group as a new member'), () => `the resumed process to rejoin:\n${paused.log()}`, 60_000);
    await until(stable(2), 'the resumed process back in the group', 60_000);
    await publish(prefix, messages.slice(2 * third), 1000);
    // Both stop once the group has caught up (stage two too) and been idle; the resumed one did not crash.
    expect(await paused.exit, paused.log()).toBe(0);
    expect(await other.exit, other.log()).toBe(0);
    const result = await outputsOf(prefix);
    expect(result.late).toEqual(reference.late);
    for (const transform of shopTransforms) expect(result.outputs[transform.name], transform.name).toEqual(reference.outputs[transform.name]);
  });
});
