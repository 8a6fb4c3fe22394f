/**
 * Picks a queue implementation: SQLite in the output root (default, one machine) or BullMQ on a
 * Redis server (`--redis URL`, workers anywhere). The only module that knows both.
 */
import type { StageCatalog } from './stage-bridge.js';
import type { DrivenQueue } from './queue.js';

export interface QueueChoice {
  /** output root of the batch */
  output: string;
  /** redis://host:port — BullMQ; absent — SQLite */
  redis?: string;
  /** BullMQ queue name (workers serve one); default 'r2s' */
  queueName?: string;
  catalog: StageCatalog | null;
}

export const DEFAULT_QUEUE_NAME = 'r2s';

export async function openQueue(c: QueueChoice): Promise<DrivenQueue> {
  if (c.redis) {
    const { BullmqQueue } = await import('./queue-bullmq.js');
    return BullmqQueue.connect({ url: c.redis, queueName: c.queueName ?? DEFAULT_QUEUE_NAME, output: c.output });
  }
  const { SqliteQueue } = await import('./queue-sqlite.js');
  return new SqliteQueue(c.output, c.catalog);
}
