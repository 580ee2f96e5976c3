"""The words the grounding check knows: what is risky, and what grammar alone capitalises.

Plain data, kept apart from the check (grounding.py) so that each list can grow without
touching the logic. Every word is lower case.
"""

WEEKDAYS = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"})
# Capitalised only because English capitalises them: never a fact about the lead.
ALWAYS_FINE = WEEKDAYS | {"i", "i'm", "i'd", "i'll", "i've", "ok", "ps"}
# Words that open sentences, greetings, sign-offs and title-case subjects. A capitalised
# word there is checked only when it is not one of these.
COMMON = frozenset(
    """
    a about after again all also am an and another any anyone are as ask asking at be because been before being
    best better both but by can cheers could co dear did do does doing done each either even ever every
    feel few for from glad good great had happy has have having he hello help helping her here hey hi his hope
    hoping how however if in into is it its just keen kind kindly last let lets like look looking love many may
    maybe me might more most much my need new next no nor not noticed now of off often on once one only open or
    other our out over perhaps please quick quickly really regards reaching right saw say saying see seeing
    seems she should since so some someone something soon still such sure thank thanks that the their them then
    there these they thing think this those though thought through to today too totally two under unless until
    up us very want wanted warm was we well were what whatever when where whether which while who whom whose why
    will wish wishes with within without would yes yet you your yours
    idea ideas team teams sales lead leads pipeline pipelines email emails call calls chat note intro quick
    question questions time week weeks month months year years day days minute minutes work working business
    company companies growth growing customer customers client clients people process outreach follow following
    reply replies hear hearing worth interested interest short small simple easier easy faster save saving
    saves more less free way ways first personal personalised personalized list lists help congratulations congrats
    great nice impressive exciting excited curious wondering quickly briefly together both plus instead already
    again based across around behind below beside between beyond during except inside near onto outside per
    toward towards upon via everyone everything nothing anything somebody nobody ready keep making make makes
    take takes taking give gives giving get gets getting got send sending sent write writing written wrote
    read reading learn learned learning run running find finding found built build building offer offering
    offers hand handle handling spend spending spent turn turning cut cutting fewer ahead along amid among
    given noticed loved imagine curious impressed pleased thrilled delighted kudos recently lately especially
    particularly definitely honestly certainly hopefully finally additionally furthermore moreover meanwhile
    besides otherwise therefore hence thus although whereas whenever wherever anyway regardless nevertheless
    sincerely warmly truly several neither none second third meetings meeting prospecting replies booking
    sounds sound seems looks feels happy running scaling leading managing knowing considering speaking talking
    staying supporting serving designing planning tracking modernising modernizing creating""".split()  # noqa: SIM905 - a word list reads best as words
)
# Endings of ordinary words (verbs, adverbs, abstract nouns): a sentence that opens with
# "Cutting", "Recently" or "Modernisation" does not open with a name.
ORDINARY_ENDINGS = ("ing", "ed", "ly", "tion", "tions", "sion", "ment", "ments", "ness", "ful", "less", "ous", "ive")
# Words ending in "est" that are not superlatives.
NOT_SUPERLATIVE = frozenset(
    """
    interest request honest modest test guest rest west nest chest forest contest protest digest harvest invest
    manifest suggest arrest quest conquest behest earnest pest vest zest jest attest detest ingest congest crest
    priest breast feast least beast east yeast fest lest unrest midwest northwest southwest northeast southeast
    tempest inquest bequest""".split()  # noqa: SIM905 - a word list reads best as words
)
SUPERLATIVE_PHRASES = (
    "#1",
    "# 1",
    "no. 1",
    "number one",
    "world-class",
    "world class",
    "best-in-class",
    "best in class",
    "award-winning",
    "award winning",
    "industry-leading",
    "industry leading",
    "market-leading",
    "market leading",
    "world-leading",
    "world leading",
    "top-rated",
    "top-tier",
    "premier",
    "foremost",
    "unrivalled",
    "unrivaled",
    "unmatched",
    "unparalleled",
)
# An event or an honour: the source must name it too (its stem, in any of its forms).
EVENT_STEMS = {
    "award": "award",
    "awards": "award",
    "awarded": "award",
    "prize": "priz",
    "won": "won",
    "winner": "winn",
    "funding": "fund",
    "funded": "fund",
    "raised": "rais",
    "investors": "invest",
    "investor": "invest",
    "investment": "invest",
    "acquired": "acqui",
    "acquisition": "acqui",
    "merger": "merg",
    "ipo": "ipo",
    "valuation": "valuation",
    "unicorn": "unicorn",
    "headquartered": "headquarter",
    "headquarters": "headquarter",
    "hq": "hq",
    "expanded": "expan",
    "expansion": "expan",
    "launched": "launch",
    "partnered": "partner",
    "partnership": "partner",
}
NUMBER_WORDS = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "thousand": 1e3,
    "million": 1e6,
    "billion": 1e9,
    "dozen": 12,
    "hundreds": 100,
    "thousands": 1e3,
    "millions": 1e6,
    "billions": 1e9,
    "dozens": 12,
}
ONES = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
TENS = frozenset({20, 30, 40, 50, 60, 70, 80, 90})
MULTIPLIERS = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mm": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "bn": 1e9,
    "billion": 1e9,
    "trillion": 1e12,
    "hundred": 100,
}
