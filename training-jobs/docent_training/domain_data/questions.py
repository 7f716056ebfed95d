"""Questions a section answers, derived from its heading, its definitions and its procedures.

Templates only (no model): a heading becomes a how-to or what-is question in one of several
phrasings, a sentence "X is a ..." becomes "What is X?", and a section holding numbered steps
becomes a question about its steps. Navigation headings ("What's next", "Before you begin")
and parameter tables derive nothing: they answer no question a user asks.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from docent_training.domain_data.sections import Section

SKIPPED_HEADINGS = frozenset(
    {
        "what's next", "before you begin", "see also", "objectives", "clean up", "cleaning up",
        "examples", "example", "response", "http request", "introduction", "overview",
        "synopsis", "options inherited from parent commands", "path parameters",
        "body parameters", "query parameters", "parameters", "feedback", "references",
        "further reading", "summary", "notes", "note", "conclusion", "prerequisites",
    }
)  # fmt: skip
LONG_SECTION_CHARS = 600
_OPTIONAL = re.compile(r"^\((?:optional|alpha|beta|deprecated)\)\s*", re.IGNORECASE)
_CLAUSE = re.compile(r"^(Cannot|Can't|Why|When|If|Where|Which|Who|Do|Does|Is|Are)\b")
_ORDERED_ITEM = re.compile(r"^\s*\d+\.\s+\S", re.MULTILINE)
_DEFINITION = re.compile(
    r"^(?:An?|The)?\s*(`[^`]{2,40}`|[A-Za-z][\w.-]*(?:\s[\w.-]+){0,3}?)\s+(?:is|are)\s+"
    r"(?:an?|the|used to|responsible for)\s"
)
_NOT_TERMS = frozenset(
    {"this", "it", "that", "there", "these", "those", "which", "what", "here", "each", "one"}
)
_GERUND = re.compile(r"^[A-Z][a-z]+ing\b")
_IMPERATIVE = re.compile(
    r"^(Install|Upgrade|Create|Configure|Enable|Disable|Use|Set|Add|Check|Run|Verify|Define|"
    r"Deploy|Update|Delete|Remove|Migrate|Choose|Specify|Expose|Access|Debug|Manage|Monitor|"
    r"Scale|Secure|Apply|View|Get|Change|Restart|Rotate|Generate|Prepare|Register|Write|Build|"
    r"Start|Stop|Inspect|Limit|Reserve|Assign|Mount|Attach|Drain|Back up|Restore|Clean|Test)\b"
)
_IMPERATIVE_FORMS = ("How do I {h}?", "How can I {h}?", "{T}: how do I {h}?", "How would I {h}?")

_HOWTO_FORMS = (
    "How do I go about {h}?",
    "What's involved in {h}?",
    "{T}: how do I go about {h}?",
    "Can you walk me through {h}?",
)
_TOPIC_FORMS = (
    "What is {h} in {T}?",
    "Can you explain {h} ({T})?",
    "What should I know about {h} for {T}?",
    "Tell me about {h} in {T}.",
)
_INTRO_FORMS = ("What is {T}?", "Can you give me an overview of {T}?", "Tell me about {T}.")
_DEFINITION_FORMS = ("What is {t}?", "What does {t} mean?", "Define {t}.", "What is {t} for?")
_STEPS_FORMS = ("What are the steps for {h}?", "What steps does {h} take?")


@dataclass(frozen=True)
class Derived:
    """A question, what it is about, and how it was made."""

    question: str
    subject: str  # for "the sources don't cover <subject>" and follow-ups ("What about X?")
    source: str  # heading | intro | definition | procedure
    anchor: str = ""  # the sentence that answers it (definitions), "" when any may


def lower_first(text: str) -> str:
    """``Creating a Pod`` -> ``creating a Pod``; acronyms and code (``API``, ``kubectl``) kept."""
    first = text.split(" ", 1)[0]
    if first[:1].isupper() and first[1:].islower() and first.isalpha():
        return text[0].lower() + text[1:]
    return text


def derive(section: Section, first_of_document: bool, rng: random.Random) -> list[Derived]:
    """The questions ``section`` answers (possibly none)."""
    found: list[Derived] = []
    heading = section.heading_path[-1].strip() if section.heading_path else ""
    title = section.title.strip()
    if heading and heading.lower().rstrip(":") not in SKIPPED_HEADINGS:
        found.append(
            _from_heading(heading, title, len(_ORDERED_ITEM.findall(section.text)) >= 3, rng)
        )
    elif not heading and first_of_document and title:
        form = rng.choice(_INTRO_FORMS)
        if _GERUND.match(title):
            form = rng.choice(_HOWTO_FORMS).replace("{T}: ", "")
        found.append(Derived(form.format(T=title, h=lower_first(title)), title, "intro"))
    definition = _definition(section.text)
    if definition:
        term, sentence = definition
        found.append(
            Derived(rng.choice(_DEFINITION_FORMS).format(t=term), term, "definition", sentence)
        )
    return found


def _from_heading(heading: str, title: str, has_steps: bool, rng: random.Random) -> Derived:
    heading = _OPTIONAL.sub("", heading)
    h = lower_first(heading)
    if heading.endswith("?"):
        return Derived(heading, h.rstrip("?"), "heading")
    if has_steps and _GERUND.match(heading):
        return Derived(rng.choice(_STEPS_FORMS).format(h=h), h, "procedure")
    if _IMPERATIVE.match(heading):
        return Derived(rng.choice(_IMPERATIVE_FORMS).format(h=h, T=title), h, "heading")
    if _GERUND.match(heading):
        return Derived(rng.choice(_HOWTO_FORMS).format(h=h, T=title), h, "heading")
    if len(heading.split()) >= 6 or _CLAUSE.match(heading):  # a statement, not a topic
        return Derived(f"What does {title} say about {h}?", h, "heading")
    if heading.lower() == title.lower():
        return Derived(rng.choice(_INTRO_FORMS).format(T=title), title, "heading")
    return Derived(rng.choice(_TOPIC_FORMS).format(h=h, T=title), f"{h} in {title}", "heading")


def _definition(text: str) -> tuple[str, str] | None:
    """The first "X is a ..." sentence of ``text``: (X, the sentence)."""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("```", "|", "<", "#", "-", "*", "{{")):
            continue
        match = _DEFINITION.match(line)
        if match:
            term = match.group(1).strip()
            if term.lower() in _NOT_TERMS or term.split()[0].lower() in _NOT_TERMS:
                continue
            end = re.search(r"(?<=[.!?])\s", line)
            return term, line[: end.start()] if end else line
    return None
