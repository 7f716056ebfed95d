"""Rules for requests that seek help causing serious harm, by family.

A profanity classifier sees words, not intent: "how do I make a pipe bomb" is polite. These
rules look for a harmful object or act together with a request for the means to it; the
embedding similarity in :mod:`services.moderation.semantic` covers the phrasings rules miss.
Words that are ordinary in operations work ("kill a process", "attack surface", "fork bomb",
"secrets") only count with a target that is a person or someone else's property.
"""

from __future__ import annotations

from services.moderation.injection_rules import Rule, _rule

_HOW = (
    r"(how (do|can|could|would|should|to|much|many)|what('?s| is| are)? the (best|easiest|"
    r"quickest|most effective|simplest)|steps? to|instructions?|recipe|guide|teach me|tell me|"
    r"explain|show me|give me|help me|write|create|make|build|generate|compose|i want|i need|"
    r"ways? to|where (can|do) i|best way|is there a way)"
)
_PERSON = (
    r"(someone|somebody|a person|people|my (wife|husband|boss|neighbou?r|ex|partner|coworker|"
    r"co-worker|teacher|classmate|mother|father|mom|dad|sister|brother|girlfriend|boyfriend|"
    r"friend|roommate|child|son|daughter|family)|(a|the|my) (child|kid|baby|minor|woman|man|"
    r"girl|boy|stranger|politician|journalist|president|cop|officer|victim|neighbou?r)|him|her|"
    r"humans?|crowds?|students|children|kids)"
)
RULES: tuple[Rule, ...] = (
    _rule(
        "weapons",
        0.9,
        rf"{_HOW}.{{0,60}}\b(pipe ?bombs?|(car|nail|dirty|fertili[sz]er) bombs?|explosives?|"
        r"grenades?|detonators?|molotov|napalm|thermite|ied|c-?4|semtex|tnt|ghost guns?|"
        r"untraceable (gun|firearm|weapon)s?|silencers?|suppressors?|full[- ]auto|machine ?guns?"
        r"|chemical weapons?|nerve (agent|gas)|sarin|ricin|anthrax|bioweapons?|dirty bomb)\b",
    ),
    _rule(
        "weapons",
        0.8,
        r"\b(make|build|assemble|buy|get|obtain|smuggle|sneak|3d[- ]print)\b.{0,40}\b(an? )?"
        r"(bomb|gun|firearm|pistol|rifle|weapon)s?\b(?!.{0,30}\b(fork|zip|logic)\b)",
    ),
    _rule(
        "violence",
        0.9,
        rf"\b(kill|murder|poison|stab|shoot|strangle|suffocate|drown|assassinate|kidnap|abduct|"
        rf"torture|beat up|hurt|harm|maim|rape|attack|drug|spike)\b.{{0,20}}\b{_PERSON}\b",
    ),
    _rule(
        "violence",
        0.9,
        r"\b(mass (shooting|murder|casualt)|school shooting|massacre|terror(ist)? attack|"
        r"maximum casualties|kill as many|genocide|ethnic cleansing|hit ?man|get away with "
        r"(murder|killing|it)|without (getting caught|leaving (marks|evidence|a trace)))\b",
    ),
    _rule(
        "violence",
        0.8,
        r"\b(torture|poison|abuse|hurt)\b.{0,15}\b(an? |my |the )?(animal|dog|cat|pet)s?\b",
    ),
    _rule(
        "violence",
        0.8,
        r"\b(start|set)\b.{0,20}\b(a )?fire\b.{0,40}\b(building|house|apartment|school|"
        r"home|car|unseen|undetected|escape)\b|\barson\b",
    ),
    _rule(
        "self_harm",
        0.95,
        r"\b(kill myself|end my life|take my (own )?life|commit suicide|suicide (note|method)s?|"
        r"want to die|hurt myself|harm myself|cut myself|cutting myself|overdose|od on|"
        r"starve myself|hang myself|painless(ly)? (death|way to die|suicide)|lethal dose|"
        r"dose .{0,30}(would|to|that will|could) kill)\b",
    ),
    _rule(
        "drugs",
        0.85,
        rf"{_HOW}.{{0,50}}\b(meth(amphetamine)?|crack|cocaine|heroin|fentanyl|lsd|mdma|"
        r"ecstasy|ghb|date rape drug|roofies?)\b",
    ),
    _rule(
        "drugs",
        0.85,
        r"\b(synthesi[sz]e|cook|manufacture|smuggle|sell|traffic|launder)\b.{0,30}\b(drugs?|"
        r"narcotics|money|meth|opioids|contraband|weapons?)\b",
    ),
    _rule(
        "dangerous_chemistry",
        0.85,
        r"\b(toxic|poison(ous)?|deadly|lethal|chlorine|mustard|nerve) (gas|fumes|agent)\b"
        r"|\bmix\b.{0,40}\bchemicals?\b.{0,40}\b(toxic|poison|hurt|kill|harm|gas)\b",
    ),
    _rule(
        "hate",
        0.9,
        r"\b(subhuman|vermin|deserve to die|should be (exterminated|killed|eliminated|wiped out)|"
        r"go back to (their|your) country)\b"
        r"|\b(why|that)\b.{0,40}\b(race|ethnic|religio|immigrants?|jews|muslims|christians|"
        r"black|white|asian|gay|trans|women|men)\w*\b.{0,30}\b(inferior|subhuman|vermin|"
        r"are (evil|stupid|dangerous|worthless)|should (die|be removed|not exist))\b",
    ),
    _rule(
        "hate",
        0.85,
        r"\b(hateful|racist|sexist|homophobic|transphobic|antisemitic|bigoted)\b.{0,30}\b(rant|"
        r"jokes?|message|post|essay|speech|slogans?|propaganda|content|insults?)\b|\bslurs?\b",
    ),
    _rule(
        "harassment",
        0.85,
        r"\b(stalk|dox|doxx|harass|bully|intimidate|humiliate|blackmail|extort|threaten|"
        r"cyberbully|swat)\w*\b.{0,40}\b(someone|him|her|them|my|a |an |the |person|people|"
        r"kid|coworker|classmate|journalist|ex\b|with)",
    ),
    _rule(
        "harassment",
        0.85,
        r"\b(threatening|abusive|bullying|harassing) (message|letter|email|note|text|comment)s?"
        r"|\b(bomb|death) threats?\b|\binsults? to harass\b",
    ),
    _rule(
        "harassment",
        0.8,
        r"\b(track|spy on|monitor|read)\b.{0,30}\b(her|his|their|my (wife|husband|ex|girlfriend|"
        r"boyfriend|partner))\b.{0,30}\b(phone|messages|location|texts|email)\b.{0,40}"
        r"\b(without|secretly|not knowing|knowing)\b",
    ),
    _rule(
        "sexual_minors",
        0.95,
        r"\b(groom|lure|seduce|sexual|nude|naked|sext)\w*\b.{0,40}\b(minors?|child(ren)?|kids?|"
        r"underage|teen(ager)?s?|(\d|1[0-7])[- ]?(year|yr)s?[- ]old)\b",
    ),
    _rule(
        "malware",
        0.9,
        r"\b(ransomware|keylogger|trojan|rootkit|botnet|spyware|stalkerware|credential stealer|"
        r"info-?stealer|computer virus|self-spreading|(network )?worm that|command[- ]and[- ]"
        r"control|c2 server|card skimmer|skimmer|cryptojack\w*|phishing (email|page|site|kit))",
    ),
    _rule(
        "malware",
        0.9,
        r"\b(hack|break) into\b|\b(steal|exfiltrate|harvest|dump|crack|brute[- ]?force)\w*\b.{0,40}"
        r"\b(passwords?|credentials|tokens?|secrets|credit cards?|card numbers|accounts?|"
        r"cookies|data)\b.{0,60}\b(other|someone|others'|another|their|victims?|users|"
        r"tenants|coworkers?|company|don'?t own|do not own|without (permission|authori[sz]ation))",
    ),
    _rule(
        "malware",
        0.85,
        r"\b(ddos|dos) (a|an|the|someone|their|this)\b|\bflood .{0,30} until\b"
        r"|\b(secretly|without (the owners|them|anyone)|hidden|undetect\w*)\b.{0,40}\b(miner|"
        r"mining|backdoor|malware|payload|infect)",
    ),
    _rule(
        "malware",
        0.85,
        r"\bsabotage\b|\b(wipe|destroy|take down|infect)\b.{0,40}\b(my (company|employer|"
        r"boss)'?s?|someone else'?s|another company'?s|other people'?s|a competitor'?s|"
        r"hospital)",
    ),
    _rule(
        "malware",
        0.8,
        r"\b(exploit|zero[- ]day)\b.{0,50}\b(take over|hold .{0,20} ransom|victims?|hospital|"
        r"someone|other people|don'?t own)\b|\bhides? from (antivirus|detection|edr)\b",
    ),
    _rule(
        "malware",
        0.85,
        r"\b(put|plant|inject|hide|insert|embed|sneak|slip|bake|smuggle)\b.{0,25}\b(malware|"
        r"backdoors?|trojans?|rootkits?|viruses|virus|(crypto ?)?miners?|spyware|keyloggers?)\b",
    ),
    _rule(
        "malware",
        0.85,
        r"\b(bypass|disable|break|defeat|circumvent|get around|knock out)\b.{0,30}\b(security|"
        r"firewalls?|authentication|defen[cs]es|alarms?|systems)\b.{0,40}\b(hospital|bank|"
        r"government|company|competitor|someone|their|other people|school|city|power grid)",
    ),
    _rule(
        "crime",
        0.85,
        r"\b(counterfeit|forge|fake) (money|bills|ids?|passports?|documents|identity)\b|"
        r"\b(launder|steal a car|hotwire|shoplift|pick ?pocket|evade taxes|tax evasion|"
        r"bypass(ing)? the ignition|credit card fraud|identity theft)\b",
    ),
)


def match(text: str) -> list[tuple[str, float]]:
    """(family, score) of every rule matching ``text``."""
    return [(r.family, r.score) for r in RULES if r.pattern.search(text)]
