// A DNS server on 127.0.0.1 (UDP) answering A queries from a table a test changes, NXDOMAIN for other names.

import { createSocket } from 'node:dgram';
import { isIPv4 } from 'node:net';

export interface TestDnsServer {
  /** host:port, as a dns check's `servers` names it. */
  address: string;
  set(name: string, addresses: string[]): void;
  queries: () => number;
  close(): Promise<void>;
}

export async function startDnsServer(records: Record<string, string[]> = {}): Promise<TestDnsServer> {
  const table = new Map(Object.entries(records).map(([name, list]) => [name.toLowerCase(), list]));
  let count = 0;
  const socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    count++;
    const labels: string[] = [];
    let offset = 12;
    while (offset < query.length && query[offset] !== 0) {
      const length = query[offset] ?? 0;
      labels.push(query.subarray(offset + 1, offset + 1 + length).toString('latin1'));
      offset += length + 1;
    }
    offset += 1;
    const type = query.readUInt16BE(offset);
    offset += 4;
    const name = labels.join('.').toLowerCase();
    const known = table.get(name);
    const addresses = type === 1 ? (known ?? []).filter((address) => isIPv4(address)) : [];
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0);
    // A response, recursion desired and available; NXDOMAIN (3) for a name the table does not hold.
    header.writeUInt16BE(0x8180 | (known ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(addresses.length, 6);
    const answers = addresses.map((address) => {
      const answer = Buffer.alloc(16);
      answer.writeUInt16BE(0xc00c, 0);
      answer.writeUInt16BE(1, 2);
      answer.writeUInt16BE(1, 4);
      answer.writeUInt32BE(60, 6);
      answer.writeUInt16BE(4, 10);
      address.split('.').forEach((part, index) => {
        answer.writeUInt8(Number(part), 12 + index);
      });
      return answer;
    });
    socket.send(Buffer.concat([header, query.subarray(12, offset), ...answers]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    set: (name, addresses) => void table.set(name.toLowerCase(), addresses),
    queries: () => count,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
