"""Regenerate netgraph/zoo/synthetic_sentences.txt: English sentences generated from templates (zoo:synthetic-sentences).

Deterministic (seeded); run `python scripts/make_synthetic_sentences.py` from anywhere."""
import random
rng = random.Random(7)
people = ["My sister", "The old farmer", "A young doctor", "Our neighbour", "The teacher", "My grandfather",
          "The new manager", "A tired nurse", "The little boy", "Her best friend", "The chef", "A local artist",
          "The pilot", "My uncle", "The student", "The librarian", "A quiet engineer", "The mayor", "His daughter",
          "The taxi driver", "A retired judge", "The baker", "Our coach", "The journalist", "My cousin"]
actions = [("reads", "a newspaper"), ("drinks", "a cup of coffee"), ("walks", "the dog"), ("fixes", "the old bicycle"),
           ("cooks", "dinner for the family"), ("writes", "long letters"), ("paints", "small landscapes"),
           ("plays", "the piano"), ("waters", "the tomato plants"), ("cleans", "the kitchen"),
           ("studies", "French grammar"), ("feeds", "the chickens"), ("visits", "the museum"),
           ("checks", "the weather forecast"), ("repairs", "broken chairs"), ("bakes", "fresh bread"),
           ("answers", "emails"), ("listens to", "the radio"), ("jogs around", "the park"), ("sorts", "the mail")]
times = ["every morning", "on Sundays", "before breakfast", "after work", "in the evening", "once a week",
         "during the holidays", "late at night", "most afternoons", "every spring", "on rainy days", "at noon"]
places = ["in the garden", "at the library", "near the river", "in a small café", "at the station", "by the window",
          "in the city centre", "at the market", "on the balcony", "in the village hall", "at the office", "on the beach"]
weather = ["It rained heavily", "The wind was cold", "The sun came out", "A thick fog covered the town",
           "Snow fell quietly", "The sky turned dark", "It was unusually warm", "A storm was coming"]
events = ["so we stayed indoors", "and the streets were empty", "and the children ran outside",
          "so the match was cancelled", "but the market stayed open", "and the trains were delayed",
          "so we lit a fire", "and the birds began to sing", "but nobody seemed to mind", "so the ferry did not sail"]
days = ["all morning", "on Tuesday", "last night", "for most of the week", "yesterday afternoon", "during the festival"]
things = ["book", "film", "concert", "restaurant", "hotel", "museum", "phone", "laptop", "camera", "bicycle", "train journey", "recipe",
          "lecture", "game", "podcast", "jacket"]
opinions = ["was surprisingly good", "was a complete disappointment", "felt far too long", "was worth every penny",
            "exceeded my expectations", "was cheaper than I expected", "was hard to follow", "made everyone laugh",
            "was beautifully designed", "broke after two days", "was easy to use", "was louder than it needed to be"]
questions = ["Could you tell me where the nearest {p} is?", "What time does the {p} open tomorrow?",
             "Is the {p} far from here?", "How do I get to the {p} by bus?", "Do you know if the {p} is closed today?",
             "Why is the {p} always so crowded?", "Have you ever been to the {p} on a weekend?"]
spots = ["pharmacy", "post office", "train station", "bank", "bakery", "hospital", "swimming pool", "bookshop",
         "police station", "supermarket", "art gallery", "bus stop", "petrol station", "town hall"]
facts = ["Water boils at one hundred degrees Celsius at sea level.", "The moon orbits the Earth roughly once a month.",
         "Plants use sunlight to turn carbon dioxide into sugar.", "Bees help many flowers produce seeds.",
         "Light travels faster than sound.", "The heart pumps blood through the body.",
         "Most deserts receive very little rain each year.", "Whales are mammals, not fish.",
         "Iron rusts when it is exposed to air and water.", "The Pacific is the largest ocean on Earth."]
subjects = ["The committee", "The company", "The city council", "The school", "The research team", "The hospital",
            "The government", "The football club", "The museum", "The airline", "The university", "The bakery"]
decisions = ["announced a new plan to reduce waste", "decided to hire more staff", "postponed the meeting until next month",
             "raised its prices by ten percent", "opened a second branch downtown", "published its annual report",
             "apologised for the long delays", "launched a program for young volunteers", "closed for renovation",
             "received a large donation", "changed its opening hours", "won an award for its service"]
reasons = ["after months of complaints", "because demand kept growing", "to save money", "despite strong opposition",
           "following a long debate", "for the first time in years", "to everyone's surprise", "without much warning"]
feelings = ["I am really looking forward to the weekend.", "She felt nervous before the interview.",
            "He was relieved when the results finally arrived.", "They were proud of what they had built together.",
            "We were exhausted after the long climb.", "I miss the smell of my grandmother's kitchen.",
            "He could not hide his disappointment.", "She laughed until her eyes filled with tears.",
            "I get anxious whenever the phone rings late at night.", "They felt at home the moment they arrived."]
objs = ["keys", "umbrella", "wallet", "glasses", "passport", "notebook", "gloves", "ticket", "charger", "scarf"]
lost = ["I think I left my {o} on the bus.", "Have you seen my {o} anywhere?", "She found her {o} under the sofa.",
        "He forgot his {o} at the restaurant again.", "Please remember to bring your {o} tomorrow.",
        "My {o} must have fallen out of my bag."]
food = ["soup", "pasta", "salad", "curry", "pancakes", "rice", "fish", "bread", "cake", "apple pie", "stew", "omelette"]
food_t = ["The {f} tastes better with a little salt.", "We had {f} for lunch and it was delicious.",
          "Could you pass me the {f}, please?", "My mother makes the best {f} in the world.",
          "I tried to cook {f} but I burned it.", "There is some leftover {f} in the fridge.",
          "The {f} at that place is too expensive."]
tech = ["The update fixed the bug that crashed the app.", "Please restart your computer before installing the driver.",
        "The server went down for an hour this morning.", "My phone battery dies much faster than it used to.",
        "The new software makes it easier to share files.", "Remember to back up your photos regularly.",
        "The website loads slowly on older browsers.", "He spent the whole night debugging the code.",
        "The printer is out of paper again.", "Our internet connection drops every evening."]
travel_people = ["We", "They", "My parents", "I", "Our friends", "The tourists"]
travel_verbs = ["flew to", "took the train to", "drove to", "spent a week in", "are planning a trip to", "moved to",
                "got lost in", "fell in love with"]
cities = ["Lisbon", "Tokyo", "Edinburgh", "Cairo", "Vienna", "Montreal", "Buenos Aires", "Oslo", "Kyoto", "Rome",
          "Nairobi", "Prague", "Sydney", "Dublin", "Istanbul"]
travel_tail = ["last summer.", "for my brother's wedding.", "to see the old cathedral.", "and loved the food.",
               "even though it was raining.", "on a very tight budget.", "to visit some old friends.", "next spring."]

out = set()
def add(s):
    s = s[0].upper() + s[1:]
    out.add(s)

for p in people:
    for v, o in actions:
        if rng.random() < 0.5:
            add(f"{p} {v} {o} {rng.choice(times)}.")
        if rng.random() < 0.25:
            add(f"{p} {v} {o} {rng.choice(places)}.")
for w in weather:
    for e in events:
        add(f"{w} {rng.choice(days)}, {e}.")
for t in things:
    for o in opinions:
        if rng.random() < 0.6:
            add(f"The {t} {o}.")
        if rng.random() < 0.3:
            add(f"Honestly, the {t} we chose {o}.")
for q in questions:
    for s in spots:
        add(q.format(p=s))
out.update(facts)
out.update(feelings)
out.update(tech)
for s in subjects:
    for d in decisions:
        if rng.random() < 0.55:
            add(f"{s} {d} {rng.choice(reasons)}.")
for o in objs:
    for t in lost:
        add(t.format(o=o))
for f in food:
    for t in food_t:
        add(t.format(f=f))
for tp in travel_people:
    for v in travel_verbs:
        for _ in range(2):
            add(f"{tp} {v} {rng.choice(cities)} {rng.choice(travel_tail)}")

advice_s = ["You should drink more water", "It is a good idea to stretch", "Try to get some fresh air",
            "Remember to lock the door", "Always check the tyres", "Don't forget to call your mother",
            "It helps to write things down", "You might want to take an umbrella"]
advice_t = ["before a long drive.", "when you feel stressed.", "if you work at a desk all day.", "before you leave the house.",
            "after a long week.", "when the forecast looks uncertain."]
for a in advice_s:
    for t in rng.sample(advice_t, 3):
        add(f"{a} {t}")
work_s = ["The meeting", "The deadline", "The interview", "The presentation", "The exam", "The project review", "The training session"]
work_t = ["was moved to Thursday morning.", "went better than anyone expected.", "has been postponed again.",
          "lasted almost three hours.", "starts at nine sharp.", "was cancelled at the last minute.", "made me very nervous.",
          "was held online this year."]
for w in work_s:
    for t in work_t:
        add(f"{w} {t}")
animals = ["The cat", "Our dog", "A small bird", "The horse", "The neighbour's rabbit", "A fox", "The old goat"]
animal_t = ["slept in the sun all afternoon.", "chased a butterfly across the lawn.", "refused to come inside.",
            "barked at every passing car.", "hid under the bed during the thunderstorm.", "ate all the carrots in the garden.",
            "followed us home from the park."]
for a in animals:
    for t in animal_t:
        add(f"{a} {t}")
lines = sorted(out)
rng.shuffle(lines)
print(len(lines))
open(__import__("pathlib").Path(__file__).resolve().parents[1] / "netgraph" / "zoo" / "synthetic_sentences.txt", "w").write("\n".join(lines) + "\n")
