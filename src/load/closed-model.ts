import { performance } from 'node:perf_hooks';
import type { HttpConnection } from './types.js';
import { sendOne, type SendContext } from './send.js';

/** One virtual user: a connection that sends its next request as soon as the last one finished. */
interface VirtualUser {
  connection: HttpConnection;
  key: number;
  /** Wanted by the current level. */
  active: boolean;
  /** A request of this VU is outstanding or about to be sent. */
  running: boolean;
}

export interface ClosedModel {
  /** Sets the number of active VUs: new ones start at once, surplus ones stop after their request. */
  setLevel(vus: number): void;
  /** Stops every VU after its current request; resolves when none is outstanding. */
  stop(): Promise<void>;
  /** VUs running now. */
  readonly level: number;
  /** Destroys every connection (outstanding requests are abandoned). */
  close(): void;
}

/**
 * The closed model (k6's ramping-vus, wrk's connections): a fixed number of users each with one
 * request in flight. Throughput follows the server's speed, so latency here is service time:
 * coordinated omission is inherent to the model, which is why the open model exists.
 */
export function startClosedModel(ctx: SendContext, newConnection: () => HttpConnection): ClosedModel {
  const users: VirtualUser[] = [];
  let stopping = false;
  let active = 0;
  let onIdle: (() => void) | undefined;

  const loop = (user: VirtualUser): void => {
    if (stopping || !user.active) {
      user.running = false;
      if (onIdle && users.every((u) => !u.running)) onIdle();
      return;
    }
    // After a transport error (a refused port answers at once) the next send goes through the
    // event loop, so a dead target cannot recurse the stack or starve the timers.
    sendOne(ctx, user.connection, user.key, performance.now(), (failed) => (failed ? setImmediate(loop, user) : loop(user)));
  };

  return {
    get level() {
      return active;
    },
    setLevel(vus: number) {
      const wanted = Math.max(0, Math.round(vus));
      while (users.length < wanted) users.push({ connection: newConnection(), key: users.length, active: false, running: false });
      active = wanted;
      users.forEach((user, index) => {
        user.active = index < wanted;
        if (user.active && !user.running && !stopping) {
          user.running = true;
          loop(user);
        }
      });
    },
    stop() {
      stopping = true;
      if (users.every((u) => !u.running)) return Promise.resolve();
      return new Promise<void>((resolve) => {
        onIdle = resolve;
      });
    },
    close() {
      stopping = true;
      for (const user of users) user.connection.close();
      onIdle?.();
    },
  };
}
