import protobuf from 'protobufjs';
import snappy from 'snappyjs';

/** One time series of a remote write: its labels (with `__name__`) and its samples, oldest first. */
export interface WriteSeries {
  labels: Record<string, string>;
  samples: { value: number; timestamp: number }[];
}

/**
 * The remote write 1.0 message (Prometheus' prompb/types.proto and
 * remote.proto), the fields we send: described to protobufjs, which encodes it.
 */
const root = protobuf.Root.fromJSON({
  nested: {
    prometheus: {
      nested: {
        WriteRequest: { fields: { timeseries: { rule: 'repeated', type: 'TimeSeries', id: 1 } } },
        TimeSeries: {
          fields: {
            labels: { rule: 'repeated', type: 'Label', id: 1 },
            samples: { rule: 'repeated', type: 'Sample', id: 2 },
          },
        },
        Label: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        Sample: { fields: { value: { type: 'double', id: 1 }, timestamp: { type: 'int64', id: 2 } } },
      },
    },
  },
});
const WriteRequest = root.lookupType('prometheus.WriteRequest');

/** The headers the remote write 1.0 specification requires. */
export const REMOTE_WRITE_HEADERS = {
  'Content-Encoding': 'snappy',
  'Content-Type': 'application/x-protobuf',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
} as const;

/** A WriteRequest, protobuf-encoded and snappy-compressed (block format), ready to POST. Labels are sorted by name, as the specification asks. */
export function encodeWriteRequest(series: readonly WriteSeries[]): Uint8Array {
  const message = WriteRequest.fromObject({
    timeseries: series.map((s) => ({
      labels: Object.keys(s.labels).sort().map((name) => ({ name, value: s.labels[name] })),
      samples: s.samples,
    })),
  });
  return snappy.compress(WriteRequest.encode(message).finish());
}

/** The inverse, for tests: the series a body carries. */
export function decodeWriteRequest(body: Uint8Array): WriteSeries[] {
  const decoded = WriteRequest.toObject(WriteRequest.decode(snappy.uncompress(body)), { longs: Number, defaults: true }) as {
    timeseries: { labels: { name: string; value: string }[]; samples: { value: number; timestamp: number }[] }[];
  };
  return decoded.timeseries.map((t) => ({ labels: Object.fromEntries(t.labels.map((l) => [l.name, l.value])), samples: t.samples }));
}
