import type { Message } from "./queue";

/**
 * Handles one message. Throw to have it retried (3 attempts in all, 1 s and 2 s apart); a
 * message that still fails goes to the dead-letter list. Make it idempotent: a message may be
 * delivered again after a crash.
 */
export async function processMessage(message: Message): Promise<void> {
  void message.payload;
}
