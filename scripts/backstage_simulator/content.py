"""What the simulated people talk about: themes with their own vocabulary, and sentence templates.

Each topic (or legacy conversation) has one theme and one subtopic; its turns draw their words mostly
from that subtopic and theme, so a text analysis finds distinct vocabulary per topic. Templates hold
`{a}`, `{b}` (words), `{s}` (the subtopic's title) and `{f}` (a file name); the database fills them in.
A few templates carry accents, CJK, emoji and SQL-looking text on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Subtopic:
    label: str  # an ltree label: letters, digits, '-' and '_'
    title: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class Theme:
    name: str
    roots: tuple[str, ...]  # ltree root labels, case variants included on purpose
    words: tuple[str, ...]
    subtopics: tuple[Subtopic, ...]
    avatar: str  # the AI persona that answers in this theme


THEMES: tuple[Theme, ...] = (
    Theme(
        "scripture",
        ("Bible-Study", "bible-study", "Scripture_Circle"),
        ("gospel", "apostle", "manuscript", "covenant", "parable", "epistle", "canon", "prophet",
         "disciples", "translation", "commentary", "psalm", "exegesis", "lectionary", "sermon"),
        (
            Subtopic("Lost-Christianities", "Lost Christianities",
                     ("Ebionites", "Marcionites", "gnostic texts", "Nag Hammadi", "proto-orthodoxy", "heresy")),
            Subtopic("Gospel-of-Thomas", "the Gospel of Thomas",
                     ("sayings source", "Coptic codex", "logion", "kingdom sayings", "Didymus")),
            Subtopic("Pauline_Letters", "the Pauline letters",
                     ("Galatians", "Corinthians", "justification", "circumcision debate", "Romans")),
            Subtopic("Dead-Sea-Scrolls", "the Dead Sea Scrolls",
                     ("Qumran", "Essenes", "Isaiah scroll", "community rule", "radiocarbon dating")),
        ),
        "Theologian",
    ),
    Theme(
        "facilities",
        ("Sanctuary", "sanctuary", "Building_Grounds"),
        ("boiler", "roof", "volunteers", "keys", "parking lot", "fellowship hall", "insurance",
         "accessibility ramp", "thermostat", "custodian", "contractor", "fire inspection", "storage room"),
        (
            Subtopic("Sleeping_Arrangements", "sleeping arrangements",
                     ("cots", "blankets", "air mattresses", "overnight guests", "quiet hours", "linens")),
            Subtopic("Kitchen-Rota", "the kitchen rota",
                     ("dishwasher", "food safety", "coffee urn", "potluck", "allergen labels")),
            Subtopic("Facilities", "facilities upkeep",
                     ("gutters", "HVAC filter", "snow removal", "leak", "elevator permit")),
        ),
        "Facilities Helper",
    ),
    Theme(
        "stewardship",
        ("Stewardship", "Budget-2025", "finance"),
        ("pledge", "endowment", "budget", "audit", "treasurer", "capital campaign", "deficit",
         "reserve fund", "giving", "spreadsheet", "line item", "quarterly report"),
        (
            Subtopic("Pledge-Drive", "the pledge drive",
                     ("pledge cards", "estimate of giving", "stewardship sunday", "online giving")),
            Subtopic("Annual_Audit", "the annual audit",
                     ("reconciliation", "receipts", "bank statements", "internal controls")),
        ),
        "Treasurer Bot",
    ),
    Theme(
        "youth",
        ("Youth_Group", "Confirmation-Class", "youth_group"),
        ("curriculum", "retreat", "mentor", "service project", "permission slip", "chaperone",
         "icebreaker", "small group", "journaling", "lock-in"),
        (
            Subtopic("Summer-Retreat", "the summer retreat",
                     ("cabins", "canoe trip", "campfire worship", "packing list", "lifeguard")),
            Subtopic("Mentoring_Program", "the mentoring program",
                     ("mentor pairs", "check-ins", "background checks", "goal setting")),
        ),
        "Youth Mentor",
    ),
    Theme(
        "software",
        ("Product", "Onboarding", "Release-Notes"),
        ("deployment", "migration", "schema", "endpoint", "regression", "staging", "rollback",
         "embedding", "latency", "pull request", "feature flag", "unit test", "database index"),
        (
            Subtopic("Vector-Search", "vector search",
                     ("cosine distance", "ivfflat", "recall", "chunking", "reranking")),
            Subtopic("Auth_Flow", "the login flow",
                     ("session cookie", "password reset", "bcrypt cost", "rate limiting", "subdomain")),
            Subtopic("Release-Planning", "release planning",
                     ("changelog", "hotfix", "sprint", "backlog", "code freeze")),
        ),
        "Dev Assistant",
    ),
    Theme(
        "scouting",
        ("Troop-Meetings", "Merit_Badges", "Campout"),
        ("knots", "compass", "merit badge", "campfire", "tent", "first aid", "patrol", "scoutmaster",
         "Eagle project", "orienteering", "rank advancement", "trail"),
        (
            Subtopic("Pioneering", "pioneering",
                     ("square lashing", "spars", "monkey bridge", "bowline", "tripod")),
            Subtopic("Wilderness_Survival", "wilderness survival",
                     ("shelter building", "water purification", "signal mirror", "fire starter")),
            Subtopic("Eagle-Projects", "Eagle projects",
                     ("project workbook", "fundraising plan", "beneficiary", "board of review")),
        ),
        "Scout Guide",
    ),
    Theme(
        "mediation",
        ("Mediation", "Workplace-Disputes", "Family_Conflict"),
        ("mediator", "grievance", "boundary", "apology", "de-escalation", "active listening",
         "stakeholder", "compromise", "interest", "position", "ground rules", "reframing"),
        (
            Subtopic("Neighbour-Disputes", "neighbour disputes",
                     ("fence line", "noise complaint", "shared driveway", "HOA letter")),
            Subtopic("Team_Friction", "team friction",
                     ("credit for work", "missed deadlines", "one-on-one", "feedback loop")),
            Subtopic("Restorative-Circles", "restorative circles",
                     ("talking piece", "harm and repair", "circle keeper", "accountability")),
        ),
        "Mediator",
    ),
    Theme(
        "endoflife",
        ("Legacy-Letters", "Advance-Directives", "Grief_Support"),
        ("hospice", "caregiver", "grief", "memoir", "palliative care", "advance directive", "estate",
         "ethical will", "bucket list", "forgiveness", "memory box", "funeral planning"),
        (
            Subtopic("Letters-To-Grandchildren", "letters to grandchildren",
                     ("family recipes", "childhood home", "wedding day", "life lessons")),
            Subtopic("Healthcare_Proxy", "choosing a healthcare proxy",
                     ("proxy form", "DNR order", "living will", "witness signatures")),
            Subtopic("Saying-Goodbye", "saying goodbye",
                     ("last visit", "unfinished business", "gratitude list", "vigil")),
        ),
        "Life Review Companion",
    ),
)

# Which themes each Backstage tenant talks about.
SCHEMA_THEMES: dict[str, tuple[str, ...]] = {
    "dev": ("software", "scripture", "facilities", "stewardship"),
    "first_congregational": ("scripture", "facilities", "stewardship", "youth"),
    "bsa": ("scouting", "youth"),
    "conflict_club": ("mediation",),
    "timethatremains": ("endoflife",),
}

QUESTIONS: tuple[str, ...] = (
    "What does {a} have to do with {b}?",
    "Can you explain how {a} relates to {s}?",
    "I'm preparing notes on {s}. Where should I start with {a}?",
    "Could you summarise the main points about {a} for our group?",
    "Why do people in our group disagree about {a} and {b}?",
    "How would you explain {a} to a newcomer who knows nothing about {s}?",
    "What are three questions we should ask about {b} before next week?",
    "Is there a good way to connect {a} with {b} in {s}?",
    "Someone mentioned {a} yesterday. What should I read first?",
    "Can you give me an example of {b} in practice?",
    "What mistakes do people usually make with {a}?",
    "How much time should we plan for {b}, and who should lead it?",
    "¿Qué opinas sobre {a}? Our Spanish-speaking members asked about {s}.",
)

ANSWER_OPENERS: tuple[str, ...] = (
    "Good question.",
    "That's a helpful place to start.",
    "Here is how I would think about it.",
    "Short answer: it depends on {b}.",
    "Let's break this down.",
    "Many groups wrestle with this.",
)

ANSWER_SENTENCES: tuple[str, ...] = (
    "{a} matters here because it shapes how everyone approaches {b}.",
    "In the context of {s}, {a} usually means paying attention to {b} first.",
    "Start with {a}, then look at {b}, and finish by reviewing what you learned about {s}.",
    "A common mistake is to treat {a} and {b} as the same thing; they overlap but answer different questions.",
    "If your group has only an hour, spend twenty minutes on {a} and leave room for discussion of {b}.",
    "You could ask each person to bring one observation about {a} to the next meeting.",
    "Keep a short written record of decisions about {b}, so newcomers can catch up on {s}.",
    "There is no single right answer, but {a} is a good lens for thinking about {b}.",
    "It also helps to name who is responsible for {b} before anything about {a} is decided.",
    "Try summarising {s} in three sentences; if {a} is missing from them, revisit it.",
)

COMMENTS: tuple[str, ...] = (
    "Note to self: revisit {a} next week.",
    "Great point about {a}!",
    "+1, {b} came up in our meeting too.",
    "Merci beaucoup, très utile pour {s}! 🙏",
    "我们下周讨论 {a}。",
    "Danke für die Erklärung zu {b} 😊",
    "Flagging this for the leaders: {a}.",
    "Can we pin this? It answers the {b} question.",
    "My notes say '); drop table x; -- is that a problem for {a}?",
)

UPLOAD_ANSWERS: tuple[str, ...] = (
    "I've read {f}. It covers {a} and touches on {b}; what would you like to focus on?",
    "Thanks for sharing {f}. The sections on {a} look most relevant to {s}.",
    "{f} is now available to this topic. I noticed a long passage about {b}.",
)

DOCUMENT_SENTENCES: tuple[str, ...] = (
    "This document collects our notes on {s}.",
    "Section {n}: {a} and its relationship to {b}.",
    "Members raised questions about {a} during the last session, summarised below.",
    "Action items: follow up on {b}, confirm who owns {a}, and circulate the minutes.",
    "Background reading on {b} is listed at the end of this file.",
    "We agreed that {a} needs a clearer explanation for newcomers.",
)

FILE_STEMS: tuple[str, ...] = (
    "meeting-notes", "reading_list", "minutes", "budget draft", "handout", "Résumé des débats",
    "agenda", "study-guide", "会议记录", "checklist", "o'brien-report", "notes (final) v2",
)
FILE_TYPES: tuple[tuple[str, str], ...] = (
    ("pdf", "application/pdf"),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("txt", "text/plain"),
    ("md", "text/markdown"),
    ("csv", "text/csv"),
)

# (display name, email local part): accents, CJK, an apostrophe and an SQL-ish surname on purpose.
FIRST_NAMES: tuple[tuple[str, str], ...] = (
    ("Maria", "maria"), ("John", "john"), ("José", "jose"), ("Zoë", "zoe"), ("Aisha", "aisha"),
    ("Wei", "wei"), ("Søren", "soren"), ("Priya", "priya"), ("Liam", "liam"), ("Chloé", "chloe"),
    ("Kwame", "kwame"), ("Yuki", "yuki"), ("Fatima", "fatima"), ("Mateo", "mateo"), ("Grace", "grace"),
    ("Noah", "noah"), ("Olivia", "olivia"), ("Hiroshi", "hiroshi"), ("Ingrid", "ingrid"), ("Samuel", "samuel"),
)
LAST_NAMES: tuple[tuple[str, str], ...] = (
    ("Lopez", "lopez"), ("Smith", "smith"), ("Núñez", "nunez"), ("O'Brien", "obrien"), ("Chen", "chen"),
    ("Okafor", "okafor"), ("Nakamura", "nakamura"), ("Müller", "muller"), ("Patel", "patel"),
    ("Andersen", "andersen"), ("Rossi", "rossi"), ("Dubois", "dubois"), ("Kim", "kim"), ("李", "li"),
    ("Robert'); DROP TABLE students;--", "bobby"), ("Garcia", "garcia"), ("Johnson", "johnson"),
)
EMAIL_DOMAINS: tuple[str, ...] = ("example.org", "mail.example.com", "church.example.net", "scouts.example.org")

# Content planted verbatim on chosen turns (the manifest lists them).
NON_ASCII_TEXT = "Café au lait, naïve façade, Ørsted, 日本語のテキスト, 你好世界, 🎉🙏✨ — all must survive byte for byte."
SQL_LIKE_TEXT = "'); drop table x; -- and also \"; delete from participants where ''='"
LARGE_TURN_SENTENCE = "This is a pasted transcript line that goes on and on to make one very large turn. "
