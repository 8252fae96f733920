/**
 * A FIFO of byte chunks that concatenates only what a reader takes: appending each chunk to one
 * growing Buffer is quadratic, which made an 8 MiB reply cost seconds.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private head = 0;
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Copy of the first `count` bytes without consuming them (count must be <= length). */
  peek(count: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length - this.head >= count) return first.subarray(this.head, this.head + count);
    return this.collect(count, false);
  }

  /** Remove and return the first `count` bytes (count must be <= length). */
  take(count: number): Buffer {
    return this.collect(count, true);
  }

  private collect(count: number, consume: boolean): Buffer {
    const out = Buffer.allocUnsafe(count);
    let written = 0;
    let index = 0;
    let head = this.head;
    while (written < count) {
      const chunk = this.chunks[index] as Buffer;
      const size = Math.min(chunk.length - head, count - written);
      chunk.copy(out, written, head, head + size);
      written += size;
      head += size;
      if (head === chunk.length) {
        index += 1;
        head = 0;
      }
    }
    if (consume) {
      this.chunks.splice(0, index);
      this.head = head;
      this.length -= count;
    }
    return out;
  }
}
