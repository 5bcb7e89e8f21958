"""Your code: what the worker does with each message."""

from typing import Any


async def process(message: dict[str, Any]) -> None:
    """Handles one message. Raise to have it retried (3 attempts in all, 1 s and 2 s apart); a
    message that still fails goes to the dead-letter list. Make it idempotent: a message may be
    delivered again after a crash."""
    _ = message.get("payload")
