/**
 * The Debezium connector for a domain's legacy tables, derived from the domain declaration: which tables
 * (every entity's and every child's), the topics they land in (`<prefix>.cdc.<table>`), and the settings
 * that make the change events exact and usable by the streaming job. Pure: the manager registers it.
 */
import type { DomainModel } from '../../src/model/domain.ts';
import { domainTables } from '../../src/replay/schema.ts';
import { engineOf } from '../../src/db.ts';
import { UnavailableError } from '../../src/errors.ts';
import { DEBEZIUM_CONNECTORS, type ConnectorKind } from './provision.ts';

export interface ConnectorPlan {
  /** The connector's name in Connect. */
  name: string;
  kind: ConnectorKind;
  config: Record<string, string>;
  /** Legacy table → the topic its change events land in. */
  topics: Record<string, string>;
  /** Debezium's transaction metadata (BEGIN/END with each transaction's event count per table). */
  transactionTopic: string;
  /** Debezium's heartbeat topic: its first record says the snapshot is read and streaming has begun. */
  heartbeatTopic: string;
  /** The PostgreSQL replication slot and publication (PostgreSQL only), which outlive the connector. */
  slot?: string;
  publication?: string;
}

export interface ConnectorOptions {
  domain: DomainModel;
  databaseUrl: string;
  topicPrefix: string;
  /** Partitions of the change topics Connect creates. */
  partitions: number;
  /** The Kafka cluster (MariaDB's schema history topic lives there). */
  brokers: string[];
}

/** A name PostgreSQL accepts for a slot or publication: lower-case letters, digits and _, at most 63. */
const sqlName = (text: string): string => text.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 63);
const regexLiteral = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function cdcTopic(topicPrefix: string, table: string): string {
  return `${topicPrefix}.cdc.${table}`;
}

export function planConnector({ domain, databaseUrl, topicPrefix, partitions, brokers }: ConnectorOptions): ConnectorPlan {
  const engine = engineOf(databaseUrl);
  if (engine === 'pglite') {
    throw new UnavailableError('database', 'the embedded PGlite database has no write-ahead log another process can read, so Debezium cannot capture its changes', {
      hint: 'point DATABASE_URL at a PostgreSQL server with wal_level=logical (or a MariaDB server with a row binlog)',
    });
  }
  const kind: ConnectorKind = engine === 'postgres' ? 'postgres' : 'mariadb';
  const url = new URL(databaseUrl.replace(/^mariadb:/, 'mysql:'));
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || (kind === 'postgres' ? 'postgres' : '');
  if (!database) throw new UnavailableError('database', `${kind} URL names no database`, { hint: 'put the legacy database in the URL, like mysql://root@127.0.0.1:3306/legacy' });
  // Debezium names a table <schema>.<table> on PostgreSQL and <database>.<table> on MariaDB.
  const namespace = kind === 'postgres' ? 'public' : database;
  const tables = domainTables(domain).map((table) => table.name);
  const name = `dualrun-${topicPrefix}`;
  const serverPrefix = `${topicPrefix}.cdc`;
  // A child row's events are keyed by its parent's key, so they land in the parent's partition and
  // the job can fold them into the parent's state in order (Debezium's message.key.columns).
  const keyColumns = domain.entities
    .flatMap((entity) => entity.children.map((child) => `${namespace}.${child.table.name}:${child.parentKey.map((model) => model.column).join(',')}`))
    .join(';');
  const common: Record<string, string> = {
    'connector.class': DEBEZIUM_CONNECTORS[kind].connectorClass,
    'tasks.max': '1',
    'database.hostname': url.hostname,
    'database.port': url.port || (kind === 'postgres' ? '5432' : '3306'),
    'database.user': decodeURIComponent(url.username || (kind === 'postgres' ? 'postgres' : 'root')),
    'database.password': decodeURIComponent(url.password),
    'topic.prefix': serverPrefix,
    'table.include.list': tables.map((table) => `${regexLiteral(namespace)}\\.${table}`).join(','),
    ...(keyColumns ? { 'message.key.columns': keyColumns } : {}),
    // Exact values: decimals as their digits, times as ISO-8601 text (never a double or epoch units).
    'decimal.handling.mode': 'string',
    'time.precision.mode': 'isostring',
    'tombstones.on.delete': 'true',
    // BEGIN/END records with the event count per table: the job can tell a transaction is complete.
    'provide.transaction.metadata': 'true',
    'poll.interval.ms': '100',
    'heartbeat.interval.ms': '1000',
    'snapshot.mode': 'initial',
    // Change topics are input topics: kept forever (timestamps are past event times), partitioned like ours.
    'topic.creation.default.partitions': String(partitions),
    'topic.creation.default.replication.factor': '-1',
    'topic.creation.default.retention.ms': '-1',
    // <prefix>.cdc.<schema or database>.<table> → <prefix>.cdc.<table>: the same names on both databases.
    transforms: 'route',
    'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
    'transforms.route.regex': `^${regexLiteral(serverPrefix)}\\.[^.]+\\.([^.]+)$`,
    'transforms.route.replacement': `${serverPrefix}.$1`,
  };
  const topics = Object.fromEntries(tables.map((table) => [table, cdcTopic(topicPrefix, table)]));
  const heartbeatTopic = `__debezium-heartbeat.${serverPrefix}`;
  const transactionTopic = `${serverPrefix}.transaction`;
  if (kind === 'postgres') {
    const slot = sqlName(`dualrun_${topicPrefix}`);
    return {
      name,
      kind,
      topics,
      heartbeatTopic,
      transactionTopic,
      slot,
      publication: slot,
      config: { ...common, 'plugin.name': 'pgoutput', 'database.dbname': database, 'slot.name': slot, 'publication.name': slot, 'publication.autocreate.mode': 'filtered' },
    };
  }
  return {
    name,
    kind,
    topics,
    heartbeatTopic,
    transactionTopic,
    config: {
      ...common,
      'database.include.list': database,
      // A replica's id in the server's replication topology: unique per connector.
      'database.server.id': String(5400 + (hash(name) % 100_000)),
      'include.schema.changes': 'false',
      'schema.history.internal.kafka.bootstrap.servers': brokers.join(','),
      'schema.history.internal.kafka.topic': `${serverPrefix}.schema-history`,
      'database.ssl.mode': 'disable',
    },
  };
}

function hash(text: string): number {
  let value = 0;
  for (const char of text) value = (value * 31 + char.charCodeAt(0)) >>> 0;
  return value;
}
