"""The answer as it is built: streamed text, a refusal that replaces it, citations owed.

One object owns the text so that every stage that changes it (generation appends, output
moderation replaces, the citation step appends markers) says so by name, and what the client
saw is exactly what is stored in the conversation.
"""

from __future__ import annotations


class Answer:
    """Usage::

    answer = Answer()
    answer.add("Pods are ...")
    answer.replace("Sorry, I can't continue this answer ...")
    answer.text  # what is returned and recorded
    """

    def __init__(self) -> None:
        self._parts: list[str] = []

    def add(self, text: str) -> None:
        """Text that reached (or is about to reach) the client."""
        self._parts.append(text)

    def replace(self, text: str) -> None:
        """Everything so far gives way to ``text`` (a refusal after output moderation)."""
        self._parts = [text]

    @property
    def started(self) -> bool:
        return bool(self._parts)

    @property
    def text(self) -> str:
        return "".join(self._parts)
