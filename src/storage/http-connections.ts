/**
 * HttpStore's connection budget (`maxConnections`): at most that many requests in flight, the
 * others waiting in two queues. Reads a query waits on go first; reads ahead of need (data files'
 * footers opened while the index head travels) go after them and never take the last free
 * connection, which stays for the query's next step (the partitions, once the head is parsed). A
 * read ahead that the query comes to wait on (`needed`) moves to the first queue. Loaded on
 * demand: only stores given a budget use it.
 */

/** One request's connection, from sending to the body's last byte (or its failure). */
export interface Connection {
  release(): void;
}

interface Waiting {
  readonly key: string;
  /** Counts against the connections reads ahead may hold (cleared when it becomes needed). */
  ahead: boolean;
  go(): void;
}

export class ConnectionBudget {
  readonly #max: number;
  #inFlight = 0;
  #aheadInFlight = 0;
  readonly #now: Waiting[] = [];
  readonly #ahead: Waiting[] = [];

  constructor(max: number) {
    this.#max = max;
  }

  /** Resolves when a connection is free for a request of `key`. */
  acquire(key: string, ahead: boolean): Promise<Connection> {
    return new Promise((resolve) => {
      const slot: Waiting = {
        key,
        ahead,
        go: () => resolve({ release: () => this.#release(slot) }),
      };
      (ahead ? this.#ahead : this.#now).push(slot);
      this.#dispatch();
    });
  }

  /** Reads ahead of `key` still waiting are now waited on. */
  needed(key: string): void {
    for (let i = 0; i < this.#ahead.length;) {
      if (this.#ahead[i]!.key !== key) i++;
      else {
        const [slot] = this.#ahead.splice(i, 1);
        slot!.ahead = false;
        this.#now.push(slot!);
      }
    }
  }

  #release(slot: Waiting): void {
    this.#inFlight--;
    if (slot.ahead) this.#aheadInFlight--;
    this.#dispatch();
  }

  #dispatch(): void {
    while (this.#inFlight < this.#max) {
      const next = this.#now.shift() ?? (this.#aheadInFlight < Math.max(1, this.#max - 1) ? this.#ahead.shift() : undefined);
      if (next === undefined) return;
      this.#inFlight++;
      if (next.ahead) this.#aheadInFlight++;
      next.go();
    }
  }
}
