/**
 * Finds the Kafka Connect runtime and the Debezium connector plugins the CDC manager runs: cache folders
 * filled once from Maven Central, the same way the local broker's jars are (streaming/broker/provision.ts).
 * Versions are pinned here and in the poms beside this file; a cache entry is complete or absent.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../src/logger.ts';
import { fetchMavenJars } from '../broker/provision.ts';

/** Debezium 3.6.1 is built against Kafka 4.3.0; its task dies on a 4.4 Connect runtime (see connect-pom.xml). */
export const CONNECT_VERSION = '4.3.0';

export type ConnectorKind = 'postgres' | 'mariadb';

/** The connector per database kind. Maven Central serves debezium-connector-mariadb up to 3.5.0.Final. */
export const DEBEZIUM_CONNECTORS: Record<ConnectorKind, { artifact: string; version: string; connectorClass: string }> = {
  postgres: { artifact: 'debezium-connector-postgres', version: '3.6.1.Final', connectorClass: 'io.debezium.connector.postgresql.PostgresConnector' },
  mariadb: { artifact: 'debezium-connector-mariadb', version: '3.5.0.Final', connectorClass: 'io.debezium.connector.mariadb.MariaDbConnector' },
};

/**
 * Jars the Connect runtime already has. A second copy in a plugin folder is loaded by the plugin's own
 * class loader, and Connect's and the plugin's classes of one name then clash.
 */
const RUNTIME_PROVIDED = ['kafka-clients', 'connect-api', 'lz4-java', 'snappy-java', 'zstd-jni', 'slf4j-api'];

const connectPom = fileURLToPath(new URL('./connect-pom.xml', import.meta.url));
const debeziumPom = fileURLToPath(new URL('./debezium-pom.xml', import.meta.url));
const fetchHint = 'check that Maven is installed (mvn -v) and can reach Maven Central; or set CONNECT_URL to an existing Kafka Connect cluster with the Debezium connectors installed';

export interface ConnectJars {
  /** A java `-cp` value with every jar of the Connect runtime. */
  classpath: string;
  /** Connect's `plugin.path`: one folder per connector, each holding its jars. */
  pluginPath: string[];
}

export async function provisionConnect({ cacheDir, kinds = ['postgres', 'mariadb'], logger }: { cacheDir: string; kinds?: ConnectorKind[]; logger: Logger }): Promise<ConnectJars> {
  const runtimeHome = join(cacheDir, `kafka-connect-${CONNECT_VERSION}`);
  const runtimeLibs = join(runtimeHome, 'libs');
  if (!existsSync(join(runtimeHome, 'complete'))) {
    logger.info({ home: runtimeHome }, `fetching the Kafka Connect ${CONNECT_VERSION} runtime from Maven Central (once)`);
    await fetchMavenJars({ home: runtimeHome, libs: runtimeLibs, pomPath: connectPom, version: CONNECT_VERSION, expectJar: 'connect-runtime-', hint: fetchHint });
  }
  const pluginPath: string[] = [];
  for (const kind of kinds) {
    const { artifact, version } = DEBEZIUM_CONNECTORS[kind];
    const home = join(cacheDir, `${artifact}-${version}`);
    if (!existsSync(join(home, 'complete'))) {
      logger.info({ home }, `fetching ${artifact} ${version} from Maven Central (once)`);
      await fetchMavenJars({
        home,
        libs: join(home, 'libs'),
        pomPath: debeziumPom,
        version,
        expectJar: `${artifact}-`,
        mvnArgs: [`-Ddebezium.connector=${artifact}`, `-Ddebezium.version=${version}`, `-DexcludeArtifactIds=${RUNTIME_PROVIDED.join(',')}`],
        hint: fetchHint,
      });
    }
    // plugin.path names folders whose subfolders are plugins: `home` holds one, `libs`.
    pluginPath.push(home);
  }
  return { classpath: join(runtimeLibs, '*'), pluginPath };
}
