// AlertSink for the local stack and the CLI: prints each notification; the outbox keeps them all.

import { terminalSafe } from '../terminal-text.ts';
import type { AlertSink } from './sink.ts';

export function createConsoleSink(write: (text: string) => void): AlertSink {
  return {
    description: 'the console (no SNS topic configured)',
    async publish(notification) {
      // The message quotes what the target answered: its control characters are shown, not obeyed.
      write(
        terminalSafe(`\n${notification.subject}\n${notification.message.replace(/^/gm, '  ')}\n`, {
          keepLines: true,
        }),
      );
    },
  };
}
