"""Write the demo timeline: 40 invented titles on three charts over 48 hours.

Every title and overview below is fictional, written for this project. The titles carry
no ``tmdb_id`` on purpose: a made-up film must not claim a real TMDb id (``tmdb:movie:603``
is a real film), so their ids are hashes of name, year and media type.

The story the charts tell (Friday 13 March 2026, 00:00 UTC, to Sunday 00:40 UTC):
"Midnight Ferry" opens small four hours in, on a few hundred screens and streaming the
same day, and climbs from nowhere to #1 on every chart; "Ninefold", last week's box-office
champion, slides; "Hollow Pines" has a Friday-the-13th spike; "Twin Dawn", "Deep Cover
Kitchen", "Kingfisher" and "Yesterday's Broadcast" enter mid-way; "The Unreading Room" and
"Keeper of Gull Rock" leave their streaming service and drop out.

Each source publishes a snapshot every two hours, staggered (TMDb on the hour, box office
40 minutes later, streaming 80 minutes later) so a replay has something new every few
seconds. Popularity is a per-title curve (steady, rise, fall, spike, breakout) times a
per-source affinity times smooth seeded noise. ``signals.rank_change`` is the previous
snapshot's rank minus this one (positive: climbed); a title absent from the previous
snapshot gets ``new_entry: 1`` instead.

Run ``python services/scraper/demo/make_demo_timeline.py`` to rewrite
``demo_timeline.jsonl`` next to this script (byte-identical on every run), or add
``--check`` to exit 1 when the file on disk differs from what this script writes.
"""

from __future__ import annotations

import json
import math
import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("demo_timeline.jsonl")
SEED = 20260313
START = datetime(2026, 3, 13, tzinfo=UTC)
SNAPSHOTS = 25  # hours 0, 2, ..., 48
EVERY = timedelta(hours=2)
WEEK_ROLLS_OVER_AT = 36.0  # hour at which the streaming chart's week changes


@dataclass(frozen=True)
class Source:
    name: str
    offset: timedelta
    size: int


SOURCES = (
    Source("tmdb_trending_day", timedelta(0), 20),
    Source("boxoffice_daily", timedelta(minutes=40), 12),
    Source("streaming_top10", timedelta(minutes=80), 10),
)


@dataclass(frozen=True)
class Title:
    name: str
    media_type: str
    year: int
    overview: str
    buzz: float  # base popularity, arbitrary units
    arc: str  # steady | rise | fall | spike | breakout
    opens: float = 0.0  # hour it first becomes available
    peak: float = 24.0  # hour of the peak, for "spike"
    theaters: int = 0  # > 0: in cinemas (box office chart), screens at the start
    streaming: bool = False  # on a streaming service (streaming top 10)
    streaming_until: float = 99.0  # hour it leaves the streaming service
    weeks: int = 0  # weeks already spent in the streaming top 10 before the start


def movie(name: str, year: int, overview: str, buzz: float, arc: str, **kw: Any) -> Title:
    return Title(name, "movie", year, overview, buzz, arc, **kw)


def tv(name: str, year: int, overview: str, buzz: float, arc: str, **kw: Any) -> Title:
    return Title(name, "tv", year, overview, buzz, arc, streaming=True, **kw)


BREAKOUT = "Midnight Ferry"

# fmt: off
TITLES = (
    # --- movies (25) -----------------------------------------------------------------
    movie("Midnight Ferry", 2026,
          "Eleven strangers board the last ferry across a fog-bound strait, and only ten are "
          "on the passenger list. A tense crossing becomes a hunt for the one who should not "
          "be there.",
          62, "breakout", opens=4, theaters=450, streaming=True),
    movie("The Glass Orchard", 2025,
          "A grieving botanist inherits a greenhouse whose fruit remembers everyone who ever "
          "ate it. When the memories start to rot, she must choose which ones to save.",
          95, "fall", streaming=True, weeks=3),
    movie("Static Bloom", 2026,
          "A radio astronomer picks up a signal that makes flowers grow wherever it is "
          "played. Then the flowers start to sing back.",
          72, "rise", theaters=3100),
    movie("Ninefold", 2026,
          "A courier wakes up in one of nine parallel cities each time she dies, and every "
          "death brings her closer to the assassin hunting her across all of them.",
          112, "fall", theaters=4100),
    movie("Twin Dawn", 2026,
          "When a second sun rises over a desert colony world, the settlers split between "
          "those who see salvation and those who see the end.",
          88, "rise", opens=22, theaters=3600),
    movie("Velvet Alibi", 2025,
          "A retired jewel thief becomes the prime suspect in a heist she swears she did not "
          "pull, and only the detective who once arrested her can clear her name.",
          56, "steady", theaters=2400),
    movie("Hollow Pines", 2025,
          "A family rents a cabin in a forest where every tree is hollow, and something "
          "inside them knocks back.",
          60, "spike", peak=14, theaters=2700),
    movie("The Pickpocket Queen", 2025,
          "A street thief lifts a cursed crown from a museum and wakes up heir to a "
          "kingdom that wants her dead.",
          74, "steady", theaters=3300),
    movie("Summer of Kites", 2024,
          "In a windy seaside town, a shy ten-year-old builds a kite big enough to carry "
          "her grandfather's ashes out to sea. An animated story about letting go.",
          46, "steady", streaming=True, weeks=5),
    movie("Brass & Bone", 2026,
          "A clockwork boy and a stray dog cross a steam-powered empire to find the inventor "
          "who built him. An animated adventure for the whole family.",
          64, "rise", theaters=3800),
    movie("Keeper of Gull Rock", 2024,
          "An ageing lighthouse keeper refuses to leave his island when the light is "
          "automated, and the young engineer sent to evict him slowly learns why.",
          44, "fall", streaming=True, streaming_until=30, weeks=2),
    movie("Sincerely, Not Yours", 2024,
          "Two rival greeting-card writers are forced to co-write a line of breakup cards "
          "and fall for each other along the way.",
          43, "steady", streaming=True, weeks=6),
    movie("Iron Tide", 2025,
          "A disgraced naval captain leads a ragtag salvage crew into a storm-wracked sea "
          "lane ruled by pirates.",
          58, "fall", theaters=1900),
    movie("Saltwater Saints", 2024,
          "A washed-up surfer coaches a team of misfit teenagers toward a coastal "
          "championship nobody expects them to finish.",
          40, "rise", streaming=True),
    movie("The Drowned Atlas", 2025,
          "In 1790s Lisbon, a royal mapmaker's daughter discovers that her father's charts "
          "hide the route to a sunken city.",
          50, "steady", theaters=2200),
    movie("Room Forty-Two", 2025,
          "A hotel night clerk notices that the guest in room 42 checks in every night but "
          "never checks out.",
          42, "rise", theaters=1500),
    movie("Neon Harvest", 2026,
          "In a city of vertical farms, a crop inspector uncovers a smuggling ring trading "
          "seeds that were supposed to be extinct.",
          62, "steady", theaters=2900),
    movie("Good Grief, Gerald", 2024,
          "A mild-mannered accountant fakes his own death to escape a family reunion, then "
          "has to attend his own funeral in disguise.",
          38, "spike", peak=36, streaming=True, weeks=1),
    movie("Ashline", 2025,
          "When a dormant volcano wakes beneath a ski resort, a rescue pilot has six hours "
          "to get her estranged son off the mountain.",
          46, "fall", theaters=1700),
    movie("Borrowed Pulse", 2025,
          "A celebrated surgeon begins to suspect that the heart she received in a "
          "transplant came with its donor's secrets.",
          48, "steady", theaters=2000),
    movie("Dust Road Serenade", 2024,
          "A travelling mariachi band stranded in a border ghost town stages one last "
          "concert for the people who never left. A musical western.",
          36, "rise", theaters=900),
    movie("Load-Bearing", 2025,
          "A house-flipping influencer and a stubborn carpenter renovate a crumbling "
          "farmhouse together, on a deadline neither of them can afford to miss.",
          45, "steady", streaming=True, weeks=2),
    movie("Kingfisher", 2025,
          "A retired intelligence officer is pulled back into the field when her old "
          "codename starts turning up in intercepted messages.",
          72, "rise", opens=28, streaming=True),
    movie("The Under-Desk Society", 2024,
          "Four kids form a club to catch the monster living under their school, only to "
          "discover it is terrified of them. A family comedy.",
          34, "fall", theaters=1200),
    movie("Curtain Call for Nobody", 2025,
          "An understudy gets her break when the star of a Broadway revival vanishes on "
          "opening night, and inherits the star's enemies along with the role.",
          38, "rise", theaters=1100),
    # --- TV (15) ---------------------------------------------------------------------
    tv("Low Orbit", 2025,
       "The crew of a failing space station has ninety days to fix it before the company "
       "that owns it lets it fall. A science-fiction series about work, friendship and the "
       "long way down.",
       90, "rise", weeks=1),
    tv("Mill Town Motion", 2024,
       "A small-town paralegal builds a class action against the paper mill that employs "
       "half her family. A legal drama.",
       40, "steady", weeks=4),
    tv("Fenwick Manor", 2025,
       "Upstairs and downstairs collide at an English country house in 1923 when the heir "
       "returns from America with a jazz band and a secret.",
       66, "fall", weeks=7),
    tv("Mercy After Midnight", 2024,
       "Overworked doctors and nurses hold a city hospital together between midnight and "
       "dawn. A medical drama.",
       50, "steady", weeks=9),
    tv("Cracked Screens", 2025,
       "A phone repair shop in a strip mall becomes the unofficial therapist's office of "
       "its neighbourhood. A workplace sitcom.",
       45, "steady", weeks=3),
    tv("Deep Cover Kitchen", 2026,
       "An undercover detective takes a job as a line cook in a restaurant run by the mob "
       "and turns out to be a far better chef than cop.",
       82, "spike", opens=16, peak=30),
    tv("Wolfsbane Pass", 2025,
       "In a snowbound mountain town, a game warden investigates a series of killings "
       "everyone blames on wolves.",
       60, "rise", weeks=2),
    tv("The Unreading Room", 2024,
       "Librarians at a secret archive guard books that rewrite history whenever they are "
       "read aloud. A fantasy series.",
       50, "fall", streaming_until=26, weeks=5),
    tv("Three Tides", 2025,
       "Three estranged sisters return to their family's oyster farm to save it from a "
       "developer, and from each other.",
       52, "steady", weeks=1),
    tv("Yesterday's Broadcast", 2026,
       "A small town loses all contact with the outside world, and its radio station "
       "starts broadcasting tomorrow's news.",
       78, "rise", opens=34),
    tv("Last Lap Garage", 2025,
       "A behind-the-scenes documentary series following a struggling motor-racing team "
       "through the season that could end it.",
       44, "spike", peak=20),
    tv("Hexed in Hollins", 2025,
       "A high-schooler learns she descends from a line of witches the week before prom, "
       "and her spells keep going hilariously wrong.",
       47, "rise", weeks=2),
    tv("Grifter's Almanac", 2024,
       "A crime anthology in which each season follows one grifter's impossible scam; this "
       "time a fake heiress targets a family of real ones.",
       55, "fall", weeks=8),
    tv("Comet Pie Diner", 2024,
       "An animated comedy about a family-run diner on a desert highway where passing "
       "aliens stop for pie.",
       38, "steady", weeks=11),
    tv("Ember Throne", 2026,
       "Rival heirs fight for a volcanic kingdom whose throne chooses its ruler by fire. A "
       "fantasy epic.",
       100, "steady", weeks=3),
)
# fmt: on


def shape(title: Title, hour: float) -> float:
    """Return the title's popularity multiplier at an hour of the timeline."""
    age = hour - title.opens
    if title.arc == "rise":
        return 0.45 + 1.1 * hour / 48
    if title.arc == "fall":
        return 1.5 - 1.1 * hour / 48
    if title.arc == "spike":
        return 0.5 + 1.5 * math.exp(-(((hour - title.peak) / 7) ** 2))
    if title.arc == "breakout":
        return 4.5 / (1 + 8 * math.exp(-0.075 * age))
    return 1.0


def screens(title: Title, hour: float) -> int:
    """Return how many theaters show the title: the breakout expands, fallers shrink."""
    if title.arc == "breakout":
        return min(3950, round(title.theaters * 2 ** ((hour - title.opens) / 8)))
    if title.arc == "fall":
        return round(title.theaters * (1 - 0.25 * hour / 48))
    return title.theaters


def eligible(title: Title, source: Source, hour: float) -> bool:
    """Say whether a source can list the title at all at this hour."""
    if hour < title.opens:
        return False
    if source.name == "boxoffice_daily":
        return title.theaters > 0
    if source.name == "streaming_top10":
        return title.streaming and hour < title.streaming_until
    return True


def generate() -> list[dict[str, Any]]:
    """Return every line of the timeline, in file order (time, source, rank)."""
    rng = random.Random(SEED)
    affinity = {(t.name, s.name): rng.lognormvariate(0, 0.2) for s in SOURCES for t in TITLES}
    noise = {(t.name, s.name): rng.gauss(0, 0.1) for s in SOURCES for t in TITLES}
    previous: dict[str, dict[str, int]] = {s.name: {} for s in SOURCES}
    first_streamed: dict[str, float] = {}
    lines: list[dict[str, Any]] = []
    for k in range(SNAPSHOTS):
        for source in SOURCES:
            at = START + k * EVERY + source.offset
            hour = (at - START) / timedelta(hours=1)
            scored = []
            for title in TITLES:
                key = (title.name, source.name)
                noise[key] = 0.7 * noise[key] + rng.gauss(0, 0.08)
                if eligible(title, source, hour):
                    value = title.buzz * shape(title, hour) * affinity[key]
                    scored.append((value * math.exp(noise[key]), title))
            scored.sort(key=lambda pair: -pair[0])
            ranks: dict[str, int] = {}
            for rank, (value, title) in enumerate(scored[: source.size], start=1):
                ranks[title.name] = rank
                signals: dict[str, float] = {}
                if title.name in previous[source.name]:
                    signals["rank_change"] = previous[source.name][title.name] - rank
                elif k > 0:
                    signals["new_entry"] = 1
                if source.name == "tmdb_trending_day":
                    signals["popularity"] = round(value * 1.7, 1)
                elif source.name == "boxoffice_daily":
                    theaters = screens(title, hour)
                    signals["theaters"] = theaters
                    signals["gross_usd"] = round(theaters * value * 24, -2)
                else:
                    first = first_streamed.setdefault(title.name, hour)
                    rolled = first < WEEK_ROLLS_OVER_AT <= hour
                    signals["weeks_in_top10"] = title.weeks + 1 + int(rolled)
                lines.append(
                    {
                        "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "source": source.name,
                        "rank": rank,
                        "media_type": title.media_type,
                        "title": title.name,
                        "year": title.year,
                        "overview": title.overview,
                        "url": None,
                        "signals": {name: signals[name] for name in sorted(signals)},
                    }
                )
            previous[source.name] = ranks
    return lines


def check_story(lines: list[dict[str, Any]]) -> None:
    """Fail loudly if a change to the data or the seed broke the story the demo tells."""
    assert {line["title"] for line in lines} == {t.name for t in TITLES}, "a title never charts"
    assert 1000 <= len(lines) <= 1500, f"{len(lines)} lines"
    for source in SOURCES:
        own = [line for line in lines if line["source"] == source.name]
        first_at, last_at = own[0]["at"], own[-1]["at"]
        first = {line["title"] for line in own if line["at"] == first_at}
        top = next(line["title"] for line in own if line["at"] == last_at and line["rank"] == 1)
        assert BREAKOUT not in first, f"{BREAKOUT} is on {source.name} from the start"
        assert top == BREAKOUT, f"{top} ends at #1 on {source.name}, not {BREAKOUT}"


def _integral(value: Any) -> Any:
    # Counts and dollars are whole numbers; write them as 3, not 3.0.
    return int(value) if isinstance(value, float) and value.is_integer() else value


def render() -> str:
    """Return the timeline file's exact text."""
    lines = generate()
    check_story(lines)
    out = []
    for line in lines:
        line["signals"] = {name: _integral(v) for name, v in line["signals"].items()}
        out.append(json.dumps(line, ensure_ascii=False))
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is out of date; run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {OUTPUT} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
