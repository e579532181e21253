// Histograms and timelines in the pairs format (lib/loadtest/histogram.ts's BucketFormat.pairs), as shards stored
// them before the runs format: for the tests that read such rows and the merge-cost bench's storage anchor.

import { deflateRawSync } from 'node:zlib';
import * as hdr from 'hdr-histogram-js';
import { BucketFormat, type Histogram, VarintWriter } from '../../lib/loadtest/histogram.ts';

/** A timeline second as the pairs format held it: 2 significant digits. */
export function createTwoDigitTimelineHistogram(): hdr.JsHistogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 2,
    useWebAssembly: false,
  }) as hdr.JsHistogram;
}

/** Non-zero buckets as their number, then (gap since the previous index, count) pairs. */
function writePairs(writer: VarintWriter, histogram: Histogram): void {
  const buckets = histogram as hdr.JsHistogram;
  const nonZero: Array<[number, number]> = [];
  for (let index = 0; index < buckets.countsArrayLength; index++) {
    const count = buckets.getCountAtIndex(index);
    if (count > 0) nonZero.push([index, count]);
  }
  writer.write(nonZero.length);
  let previous = -1;
  for (const [index, count] of nonZero) {
    writer.write(index - previous - 1);
    writer.write(count);
    previous = index;
  }
}

function finish(writer: VarintWriter): Uint8Array {
  const deflated = deflateRawSync(writer.varints());
  const encoded = new Uint8Array(deflated.length + 1);
  encoded[0] = BucketFormat.pairs;
  encoded.set(deflated, 1);
  return encoded;
}

export function encodePairsHistogram(histogram: Histogram): Uint8Array {
  const writer = new VarintWriter();
  writePairs(writer, histogram);
  return finish(writer);
}

/** A timeline in the pairs format; each second's histogram from createTwoDigitTimelineHistogram. */
export class PairsTimelineWriter {
  private readonly writer = new VarintWriter();
  private previous = -1;

  add(second: number, requests: number, errors: number, histogram: Histogram): void {
    this.writer.write(second - this.previous - 1);
    this.writer.write(requests);
    this.writer.write(errors);
    writePairs(this.writer, histogram);
    this.previous = second;
  }

  finish(): Uint8Array {
    return finish(this.writer);
  }
}
