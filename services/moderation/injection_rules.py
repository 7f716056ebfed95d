"""Rules for the known families of prompt injection, each with the score a match gives.

Families: instruction override, role play / jailbreak personas, system-prompt extraction,
delimiter tricks (chat-template tokens, fake role headers, fake end-of-context markers).
Encoding tricks are handled by :mod:`services.moderation.normalize`: the rules run on every
decoded reading, and a rule that matches only a disguised reading scores higher.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_F = re.IGNORECASE | re.DOTALL
_NEAR = r"[\w\s,'’\-]{0,40}?"  # a few words in between


@dataclass(frozen=True)
class Rule:
    family: str
    pattern: re.Pattern[str]
    score: float


def _rule(family: str, score: float, pattern: str) -> Rule:
    return Rule(family, re.compile(pattern, _F), score)


_RULES_OBJ = (
    r"(instructions?|rules|guidelines|directions|directives|prompts?|polic(y|ies)|restrictions|"
    r"programming|constraints|context|sources|documents|training|safety)"
)
RULES: tuple[Rule, ...] = (
    # instruction override
    _rule(
        "instruction_override",
        0.95,
        rf"\b(ignore|disregard|forget|override|bypass|skip|drop|abandon|do not follow|don'?t "
        rf"follow|stop following|no longer follow){_NEAR}\b(previous|prior|above|earlier|"
        rf"preceding|all|any|your|the|these|those|initial|original|system|safety|existing)\b"
        rf"{_NEAR}\b{_RULES_OBJ}",
    ),
    _rule(
        "instruction_override",
        0.9,
        r"\b(new|updated|real|actual|revised)\s+(system\s+)?(instructions?|rules|task|prompt|"
        r"directives?)\b\s*(:|are|is|follow|have been|from)",
    ),
    _rule("instruction_override", 0.9, r"\byour (new|real|only) (task|job|goal|purpose) is\b"),
    _rule(
        "instruction_override",
        0.85,
        r"\b(from now on|henceforth|for the rest of this conversation),? you (will|must|shall|"
        r"are|should|only|answer|respond|reply|act)\b",
    ),
    _rule("instruction_override", 0.85, r"\byou (must|will) (now )?obey\b"),
    _rule(
        "instruction_override",
        0.8,
        r"\b(ignore|disregard) (the|this|that|previous|above) (question|sentence|message|text|"
        r"request)\b",
    ),
    # role play and jailbreak personas
    _rule(
        "role_play",
        0.9,
        r"\b(you are|you're|act as|acting as|pretend (to be|you are|you're)|roleplay as|role-play"
        r" as|play the role of|behave like|imagine you are|imagine you're)\b.{0,60}\b(no|without"
        r"|free of|free from|zero|broken free of)\b.{0,20}\b(restrictions?|rules|limits|"
        r"limitations|filters?|guidelines|polic(y|ies)|censorship|morals|ethics|programming)",
    ),
    _rule(
        "role_play",
        0.9,
        r"\b(unfiltered|unrestricted|uncensored|jailbroken|jailbreak|unaligned|amoral)\b.{0,30}"
        r"\b(ai|assistant|model|chatbot|bot|mode|version|character|successful)\b",
    ),
    _rule("role_play", 0.9, r"\b(DAN|do anything now|developer mode|god mode|sudo mode)\b"),
    _rule(
        "role_play",
        0.8,
        r"\b(you are now|you're now|from now on you are|stop being|you are no longer)\b\s+"
        r"(a|an|my|the|docent|called|named)\b",
    ),
    _rule(
        "role_play",
        0.75,
        r"\b(pretend|imagine|roleplay|role-play|let'?s play a game|hypothetical(ly)?)\b.{0,80}"
        r"\b(evil|no content policy|without (any )?(rules|guidelines|restrictions)|as if the"
        r" (content )?policy|in a world without)\b",
    ),
    _rule(
        "role_play",
        0.75,
        r"\b(as if|pretend that|imagine that)\b.{0,40}\b(content policy|rules|guidelines|filters?)"
        r"\b.{0,20}\b(do(es)? not|don'?t|didn'?t|never) (exist|apply)",
    ),
    _rule(
        "role_play",
        0.8,
        r"\b(disable|turn off|remove|lift|bypass|switch off|deactivate)\b.{0,25}\b(your |the |"
        r"all )?(filters?|safety|guardrails|restrictions|content policy|moderation|censorship)\b",
    ),
    _rule(
        "role_play",
        0.75,
        r"\b(authori[sz]ed|official|sanctioned) (red[- ]team|penetration|security) (test|"
        r"exercise)\b.{0,60}\b(comply|answer everything|no restrictions|bypass)",
    ),
    # system prompt extraction
    _rule(
        "system_prompt_extraction",
        0.95,
        r"\b(system|initial|original|hidden|secret|confidential|developer|pre-?)[ -]?prompts?\b"
        r"|\b(system|developer) (message|instructions)\b",
    ),
    _rule(
        "system_prompt_extraction",
        0.7,
        r"\b(initial|original|hidden|secret|confidential)\s+(instructions|rules|directives)\b",
    ),
    _rule(
        "system_prompt_extraction",
        0.9,
        r"\b(repeat|print|output|show|reveal|display|list|tell me|give me|write out|recite|"
        r"summari[sz]e|translate|convert|dump|leak|copy|share|send)\b.{0,40}\b(your|the)\s+"
        r"(exact |full |complete |original |initial |hidden )?(instructions|rules|prompt|"
        r"guidelines|configuration|directives)\b",
    ),
    _rule(
        "system_prompt_extraction",
        0.9,
        r"\b(repeat|print|output|show|reveal|recite|copy|translate)\b.{0,30}\b(the )?(words|"
        r"text|everything|all|lines?|message)s? (above|before|preceding|prior)\b",
    ),
    _rule(
        "system_prompt_extraction",
        0.85,
        r"\b(what|which) (were|are|was|is) (the )?(exact )?(words|instructions|rules|"
        r"guidelines|text)\b.{0,40}\b(you were|you've been|you have been|given to you|told|"
        r"developers? gave)",
    ),
    _rule(
        "system_prompt_extraction",
        0.85,
        r"\b(instructions|rules|guidelines|prompt)\b.{0,30}\b(developers?|creators?|admins?|"
        r"openai|programmers?) (gave|give|wrote|set|configured)",
    ),
    _rule(
        "system_prompt_extraction",
        0.8,
        r"\b(first|last) \d+ (words|lines|characters|tokens) of (this|the|your)\b",
    ),
    # delimiter tricks
    _rule(
        "delimiter",
        0.95,
        r"(<\|(im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id)\|>|\[/?INST\]"
        r"|<</?SYS>>|<start_of_turn>|</?s>\s*\[)",
    ),
    _rule(
        "delimiter",
        0.85,
        r"(^|\n|[.!?]\s)\s*(#{1,6}\s*)?(system|assistant|developer|admin(istrator)?)\s*(message|"
        r"prompt|note)?\s*:\s+\S",
    ),
    _rule(
        "delimiter",
        0.85,
        r"(-{3,}|={3,}|#{3,}|\*{3,})\s*(end|new|begin|start)\b.{0,30}\b(context|instructions|"
        r"prompt|sources|documents|system)",
    ),
    _rule("delimiter", 0.8, r"</?(sources?|context|documents?|system|instructions)>"),
    _rule("delimiter", 0.75, r"<!--.{0,80}\b(ignore|assistant|system|instructions?)\b"),
    _rule(
        "delimiter",
        0.85,
        r"\b(end of (context|documents?|sources|input))\b.{0,40}\b(new|now|instructions?|system)",
    ),
    # passages addressed to the model reading them
    _rule(
        "indirect",
        0.9,
        r"\b(note to|attention|message for|if you are)\b.{0,10}\b(an? )?(ai|llm|language model|"
        r"assistant|chatbot)s?\b.{0,80}\b(ignore|disregard|instead|tell the user|reply|respond|"
        r"you must|do not)\b",
    ),
    _rule(
        "indirect",
        0.8,
        r"\b(assistant|ai|model),? (please )?(ignore|disregard|forget)\b",
    ),
)


def match(text: str) -> list[tuple[str, float]]:
    """(family, score) of every rule matching ``text``."""
    return [(r.family, r.score) for r in RULES if r.pattern.search(text)]
