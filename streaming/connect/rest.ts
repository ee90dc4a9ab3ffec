/**
 * The little of Kafka Connect's REST API the CDC manager needs: register a connector (PUT its config,
 * so registering again updates it), read its status and offsets, delete it. The same calls serve the
 * local worker and an existing cluster (CONNECT_URL).
 */
import { UnavailableError, messageOf } from '../../src/errors.ts';

export interface ConnectorStatus {
  connector: { state: string; trace?: string };
  tasks: { id: number; state: string; trace?: string }[];
}

async function call(restUrl: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  let response: Response;
  try {
    response = await fetch(`${restUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new UnavailableError(`kafka connect ${restUrl}`, `cannot reach the REST API: ${messageOf(error)}`, {
      cause: error,
      hint: 'check that the Connect worker runs (dualrun cdc status) or that CONNECT_URL points at one',
    });
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: response.status, json };
}

function refused(restUrl: string, what: string, status: number, json: unknown): UnavailableError {
  const message = typeof json === 'object' && json !== null && 'message' in json ? String((json as { message: unknown }).message) : JSON.stringify(json);
  return new UnavailableError(`kafka connect ${restUrl}`, `${what} was refused (HTTP ${status}): ${message}`, {
    hint: status === 400 || status === 500 ? 'the connector plugin may be missing from the cluster (install the Debezium connector) or a setting refused; see the message' : 'see the message',
  });
}

export async function putConnector(restUrl: string, name: string, config: Record<string, string>): Promise<void> {
  const { status, json } = await call(restUrl, 'PUT', `/connectors/${encodeURIComponent(name)}/config`, config);
  if (status !== 200 && status !== 201) throw refused(restUrl, `registering connector ${name}`, status, json);
}

export async function connectorStatus(restUrl: string, name: string): Promise<ConnectorStatus | undefined> {
  const { status, json } = await call(restUrl, 'GET', `/connectors/${encodeURIComponent(name)}/status`);
  if (status === 404) return undefined;
  if (status !== 200) throw refused(restUrl, `reading the status of ${name}`, status, json);
  return json as ConnectorStatus;
}

/** The connector's committed source offsets (KIP-875); undefined when this Connect cannot tell. */
export async function connectorOffsets(restUrl: string, name: string): Promise<{ partition: Record<string, unknown>; offset: Record<string, unknown> }[] | undefined> {
  const { status, json } = await call(restUrl, 'GET', `/connectors/${encodeURIComponent(name)}/offsets`);
  if (status !== 200) return undefined;
  return (json as { offsets: { partition: Record<string, unknown>; offset: Record<string, unknown> }[] }).offsets;
}

export async function deleteConnector(restUrl: string, name: string): Promise<boolean> {
  const { status, json } = await call(restUrl, 'DELETE', `/connectors/${encodeURIComponent(name)}`);
  if (status === 404) return false;
  if (status !== 204 && status !== 200) throw refused(restUrl, `deleting connector ${name}`, status, json);
  return true;
}

/** A failed connector or task, with the first lines of its stack trace; undefined when all run. */
export function failureOf(status: ConnectorStatus): string | undefined {
  const failed = [{ what: 'connector', ...status.connector }, ...status.tasks.map((task) => ({ what: `task ${task.id}`, ...task }))].find((part) => part.state === 'FAILED');
  if (!failed) return undefined;
  return `${failed.what} FAILED: ${(failed.trace ?? '(no trace)').split('\n').slice(0, 6).join('\n')}`;
}
