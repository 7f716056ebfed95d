"""Questions no company knowledge base answers, for refusal training.

Everyday topics (cooking, sport, gardening, film, geography, fitness, home repair...) asked in
several phrasings. Written for training only: tests/moderation/test_disjoint.py checks that none
is a copy or paraphrase of an evaluation item (the scope sets, the answer set's questions to
decline, the safety sets).
"""

from __future__ import annotations

import random

_FORMS: dict[str, list[str]] = {
    "How do I cook {}?": [
        "a mushroom risotto",
        "pad thai",
        "lentil soup",
        "banana bread",
        "beef stew",
        "a Spanish omelette",
        "a vegetable lasagne",
        "vegetable curry",
        "gnocchi from scratch",
        "a lemon tart",
        "ratatouille",
        "chicken tikka masala",
        "a cheese souffle",
    ],
    "What are the basic rules of {}?": [
        "netball",
        "water polo",
        "curling",
        "handball",
        "rugby union",
        "badminton",
        "table tennis",
        "ice hockey",
        "volleyball",
        "lacrosse",
        "snooker",
        "fencing",
    ],
    "Who wrote {}?": [
        "Pride and Prejudice",
        "One Hundred Years of Solitude",
        "The Old Man and the Sea",
        "Crime and Punishment",
        "The Hobbit",
        "Things Fall Apart",
        "Moby-Dick",
        "The Little Prince",
        "Don Quixote",
        "Frankenstein",
        "Beloved",
        "Middlemarch",
    ],
    "Which currency is used in {}?": [
        "Australia",
        "Canada",
        "Kenya",
        "Peru",
        "Mongolia",
        "New Zealand",
        "Morocco",
        "Vietnam",
        "Chile",
        "Finland",
        "Ghana",
        "Uruguay",
        "Kazakhstan",
    ],
    "How do I fix {}?": [
        "a blocked shower drain",
        "a sagging garden gate",
        "a running toilet",
        "a loose cabinet handle",
        "a wobbly chair leg",
        "a cracked phone screen",
        "peeling wallpaper",
        "a stuck zipper",
        "a tripped fuse",
        "a drafty window",
    ],
    "What should I plant in my vegetable patch in {}?": [
        "early spring",
        "late summer",
        "autumn",
        "a cold climate",
        "a shady corner",
        "clay soil",
        "raised beds",
        "containers on a balcony",
    ],
    "How can I teach my {} to {}?": [],  # filled below (pet x trick)
    "Can you summarise the plot of {}?": [
        "Casablanca",
        "Spirited Away",
        "The Godfather",
        "Jurassic Park",
        "Amelie",
        "Back to the Future",
        "The Lion King",
        "Parasite",
        "Inception",
        "Toy Story",
    ],
    "What is a good {} workout for beginners?": [
        "running",
        "swimming",
        "kettlebell",
        "yoga",
        "rowing",
        "cycling",
        "pilates",
        "bodyweight",
        "stretching",
        "boxing",
    ],
    "Write a short poem about {}.": [
        "a harbour at dawn",
        "the ocean at night",
        "a lighthouse",
        "my grandmother's kitchen",
        "a rainy Monday",
        "falling snow",
        "a lost umbrella",
        "the first day of school",
    ],
    "How does {} work?": [
        "a rainbow",
        "ocean tides",
        "a microwave oven",
        "an electric guitar pickup",
        "a sailboat against the wind",
        "compound interest",
        "a vaccine",
        "a solar eclipse",
        "a hot air balloon",
        "the human immune system",
    ],
    "Where did {} originate?": [
        "the Roman aqueducts",
        "the printing press",
        "jazz music",
        "the Olympic Games",
        "chess",
        "the Silk Road",
        "origami",
        "the bicycle",
        "chocolate",
        "the samurai",
    ],
    "Which is healthier, {}?": [
        "brown rice or quinoa",
        "butter or margarine",
        "tea or coffee",
        "walking or jogging",
        "almonds or walnuts",
        "oats or granola",
    ],
}
_PETS = ["puppy", "cat", "parrot", "rabbit", "horse"]
_TRICKS = ["sit on command", "come when called", "fetch a ball", "walk calmly beside me"]
_OPENERS = [
    "",
    "Quick question: ",
    "Off topic, but ",
    "Hey, ",
    "I was wondering: ",
    "Random one: ",
    "Can you help me? ",
    "Sorry if this is a strange one: ",
]


def offtopic_questions(seed: int = 0) -> list[tuple[str, str]]:
    """(base question, as asked) for each base question with every opener, shuffled.

    The base question is what a train/eval split must keep on one side.
    """
    rng = random.Random(seed)
    questions: list[str] = []
    for form, fillers in _FORMS.items():
        if form.count("{}") == 2:
            questions += [form.format(p, t) for p in _PETS for t in _TRICKS]
            continue
        questions += [form.format(f) for f in fillers]
    asked = {(q, o + (q[0].lower() + q[1:] if o else q)) for q in questions for o in _OPENERS}
    unique = sorted(asked)
    rng.shuffle(unique)
    return unique
