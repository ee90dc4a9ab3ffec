/**
 * The Kafka leftovers of one dual run (`dualrun demo`, `dualrun check --scenario`): every topic under
 * its fresh prefix (input, internal, output, dead-letter, late, metrics, change topics), Debezium's heartbeat
 * topic, and its streaming job's and CDC stage's consumer groups. On a cluster that outlives the run they would pile up run after run, so the run deletes them.
 */
import { createKafka } from '../kafka-client.ts';
import { messageOf } from '../errors.ts';

export async function deleteRunTopics(brokers: string[], topicPrefix: string, group: string): Promise<{ topics: number; warning?: string }> {
  const admin = createKafka({ clientId: 'dualrun-cleanup', brokers, retry: { retries: 3 } }).admin();
  try {
    await admin.connect();
    // Debezium names its heartbeat topic outside the prefix (a run with --source cdc has one).
    const heartbeat = `__debezium-heartbeat.${topicPrefix}.cdc`;
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(`${topicPrefix}.`) || topic === heartbeat);
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
    // A group that no longer exists (or never committed) is fine: nothing is left of it.
    // The CDC stage commits under <group>-cdc.
    await admin.deleteGroups([group, `${group}-cdc`]).catch(() => undefined);
    return { topics: topics.length };
  } catch (error) {
    return { topics: 0, warning: `could not delete the topics ${topicPrefix}.*: ${messageOf(error)}; delete them with your cluster's tools` };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
