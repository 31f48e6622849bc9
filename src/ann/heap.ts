/**
 * Binary heaps of (distance, id) pairs in typed arrays, for the HNSW search loops: no objects per
 * entry, and capacity grows by doubling. `NearestFirst` pops the smallest distance (the candidate
 * queue); `FarthestFirst` pops the largest (the result set, whose top is the current bound).
 */
export class NearestFirst {
  keys = new Float32Array(64);
  ids = new Int32Array(64);
  size = 0;

  clear(): void {
    this.size = 0;
  }

  topKey(): number {
    return this.keys[0]!;
  }

  topId(): number {
    return this.ids[0]!;
  }

  push(key: number, id: number): void {
    if (this.size === this.keys.length) grow(this);
    const keys = this.keys;
    const ids = this.ids;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent]! <= key) break;
      keys[i] = keys[parent]!;
      ids[i] = ids[parent]!;
      i = parent;
    }
    keys[i] = key;
    ids[i] = id;
  }

  pop(): void {
    const keys = this.keys;
    const ids = this.ids;
    const n = --this.size;
    if (n === 0) return;
    const key = keys[n]!;
    const id = ids[n]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && keys[child + 1]! < keys[child]!) child++;
      if (keys[child]! >= key) break;
      keys[i] = keys[child]!;
      ids[i] = ids[child]!;
      i = child;
    }
    keys[i] = key;
    ids[i] = id;
  }
}

export class FarthestFirst {
  keys = new Float32Array(64);
  ids = new Int32Array(64);
  size = 0;

  clear(): void {
    this.size = 0;
  }

  topKey(): number {
    return this.keys[0]!;
  }

  topId(): number {
    return this.ids[0]!;
  }

  push(key: number, id: number): void {
    if (this.size === this.keys.length) grow(this);
    const keys = this.keys;
    const ids = this.ids;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent]! >= key) break;
      keys[i] = keys[parent]!;
      ids[i] = ids[parent]!;
      i = parent;
    }
    keys[i] = key;
    ids[i] = id;
  }

  pop(): void {
    const keys = this.keys;
    const ids = this.ids;
    const n = --this.size;
    if (n === 0) return;
    const key = keys[n]!;
    const id = ids[n]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && keys[child + 1]! > keys[child]!) child++;
      if (keys[child]! <= key) break;
      keys[i] = keys[child]!;
      ids[i] = ids[child]!;
      i = child;
    }
    keys[i] = key;
    ids[i] = id;
  }

  /** Empties the heap into ids/keys ascending by distance (nearest first); returns the count. */
  drainAscending(ids: Int32Array, keys: Float32Array): number {
    const count = this.size;
    for (let i = count - 1; i >= 0; i--) {
      ids[i] = this.topId();
      keys[i] = this.topKey();
      this.pop();
    }
    return count;
  }
}

function grow(h: { keys: Float32Array; ids: Int32Array }): void {
  const keys = new Float32Array(h.keys.length * 2);
  const ids = new Int32Array(h.ids.length * 2);
  keys.set(h.keys);
  ids.set(h.ids);
  h.keys = keys;
  h.ids = ids;
}
