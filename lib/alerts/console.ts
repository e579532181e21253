// AlertSink for the local stack and the CLI: prints each notification; the outbox keeps them all.

import type { AlertSink } from './sink.ts';

export function createConsoleSink(write: (text: string) => void): AlertSink {
  return {
    description: 'the console (no SNS topic configured)',
    async publish(notification) {
      write(`\n${notification.subject}\n${notification.message.replace(/^/gm, '  ')}\n`);
    },
  };
}
