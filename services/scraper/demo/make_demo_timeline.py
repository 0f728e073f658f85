"""Write the demo timeline: 162 invented titles on four charts over 48 hours.

Every title and overview below is fictional, written for this project. The titles carry
no ``tmdb_id`` on purpose: a made-up film must not claim a real TMDb id (``tmdb:movie:603``
is a real film), so their ids are hashes of name, year and media type.

The story the charts tell (Friday 13 March 2026, 00:00 UTC, to Sunday 01:40 UTC):
"Midnight Ferry" opens small four hours in, on a few hundred screens and streaming the
same day, and climbs from nowhere to #1 on every chart; "Ninefold", last week's box-office
champion, slides; "Hollow Pines" has a Friday-the-13th spike; "Twin Dawn", "Deep Cover
Kitchen", "Kingfisher" and "Yesterday's Broadcast" enter mid-way; "The Unreading Room" and
"Keeper of Gull Rock" leave their streaming service and drop out. Around them, 97 films
and 65 series rise, fall, spike and premiere: "Wardens of the Wall", "The Amber Court" and
"The Vanishing at Mirrow Lake" premiere during the weekend, "Blue Hour Heist", "Dominion of
Salt" and "Bloodline of the Sun" fade, "Ravenmoor" and "Overclocked" have their moments,
and "Paper Empire" drops off the streaming chart.

The four charts: TMDb's daily trending top 50 (``popularity``), the daily box office top
15, films only (``theaters``, ``gross_usd``), a streaming top 10 (``weeks_in_top10``) and
a critics' buzz top 25 (``critic_score`` 0-100, ``review_count``). Critics talk loudest
about a title for a few hours around the moment its reviews land (a seeded hour per
title), weighted by how much they liked it, so that chart churns and reaches the quieter
titles the popularity charts never list.

Each source publishes a snapshot every two hours, staggered (TMDb on the hour, box office
40 minutes later, streaming 80 minutes later, critics 100 minutes later) so a replay has
something new every few seconds. Popularity is a per-title curve (steady, rise, fall,
spike, breakout) times a per-source affinity times smooth seeded noise.
``signals.rank_change`` is the previous snapshot's rank minus this one (positive: climbed);
a title absent from the previous snapshot gets ``new_entry: 1`` instead.

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
    Source("tmdb_trending_day", timedelta(0), 50),
    Source("boxoffice_daily", timedelta(minutes=40), 15),
    Source("streaming_top10", timedelta(minutes=80), 10),
    Source("critics_buzz", timedelta(minutes=100), 25),
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
          55, "rise", streaming=True, weeks=2),
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
    # --- more movies (72) ------------------------------------------------------------
    movie("The Last Lamplighter", 2025,
          "In a Victorian city switching to electric light, the last lamplighter stumbles "
          "on a murder that the new bulbs were meant to hide.",
          48, "steady", theaters=1400),
    movie("Quiet Meridian", 2026,
          "A deep-space cargo pilot wakes from cryosleep to find her ship drifting toward an "
          "uncharted planet and the crew's logs erased.",
          70, "rise", theaters=3000),
    movie("Marigold Wedding Season", 2025,
          "A wedding planner who no longer believes in love is hired to plan her ex-fiance's "
          "wedding. A romantic comedy.",
          50, "spike", peak=40, theaters=2300),
    movie("The Cartographer's Son", 2024,
          "A boy follows his late father's unfinished map on a quest across a kingdom of "
          "floating islands. An animated fantasy adventure.",
          50, "rise", streaming=True, weeks=4),
    movie("Ridgeback", 2025,
          "An outlaw and the frontier sheriff who hanged his brother must ride together "
          "across a desert before winter closes the passes.",
          52, "fall", theaters=2100),
    movie("Paper Lanterns", 2024,
          "Two strangers who keep meeting at a night market fall for each other over one "
          "summer of slowly shared secrets.",
          36, "rise", streaming=True),
    movie("Carbon Saints", 2026,
          "A soldier comes home from a war fought by robots to find that her platoon's "
          "android medic has followed her.",
          66, "rise", opens=10, theaters=3200),
    movie("The Widow's Ledger", 2025,
          "A small-town accountant finds a dead client's second set of books, and the trail "
          "of a murder the police called an accident.",
          40, "steady", theaters=1300),
    movie("Blue Hour Heist", 2026,
          "A crew of retired con artists plans one last heist during the twenty minutes of "
          "dusk when a museum's cameras switch over.",
          80, "fall", theaters=3900),
    movie("Fathom Nine", 2025,
          "A deep-sea research crew finds a creature in a trench that should not support "
          "life, and it finds them.",
          55, "spike", peak=12, theaters=2500),
    movie("Grandma Goes Viral", 2024,
          "A seventy-eight-year-old becomes an internet sensation after a prank video, and "
          "her grandkids have to manage the fame. A family comedy.",
          38, "steady", streaming=True, weeks=3),
    movie("Orchestra of Rust", 2025,
          "A disbanded factory orchestra reunites to play one last concert in the mill "
          "that is about to be torn down.",
          34, "rise", theaters=800),
    movie("Vell's Gate", 2026,
          "A young wizard's apprentice must seal a gate between worlds before the dragon "
          "behind it wakes. A fantasy epic.",
          74, "steady", theaters=3500),
    movie("Undertow Protocol", 2025,
          "A paranoid analyst uncovers a conspiracy inside the coast guard and is hunted by "
          "the people she reports to.",
          50, "fall", theaters=1800),
    movie("Little Comet", 2026,
          "A lost alien pup crash-lands in a kids' summer camp and needs to get home before "
          "the counsellors notice. An animated comedy.",
          60, "rise", opens=20, theaters=3400),
    movie("Cold Harbour", 2024,
          "A retired detective returns to the fishing village where she solved her first "
          "murder, just as the killer seems to strike again.",
          44, "fall", streaming=True, weeks=4),
    movie("Sugar Frontier", 2025,
          "A frontier baker and a gunslinger with a sweet tooth open a bakery in an outlaw "
          "town. A western comedy.",
          33, "spike", peak=26, theaters=700),
    movie("Ghostlight", 2025,
          "A theatre caretaker keeps the ghost light burning every night, until a ghost "
          "starts asking for encores.",
          46, "spike", peak=16, theaters=1900),
    movie("Second Shift", 2024,
          "Two night-shift nurses who only ever meet at the hospital vending machine slowly "
          "fall in love.",
          37, "steady", streaming=True, weeks=2),
    movie("Signal Fire", 2026,
          "When the power grid fails across a continent, a teenage radio operator becomes "
          "the only link between two stranded towns in a race against time.",
          58, "rise", theaters=2600),
    movie("The Apiarist's Verdict", 2025,
          "A juror in a murder trial realises the evidence was planted by the one person "
          "she trusts.",
          41, "steady", theaters=1500),
    movie("Ironwood Academy", 2026,
          "A kid with no magic at all is enrolled by mistake in a school for wizards and "
          "must hide it until the final exams.",
          64, "steady", theaters=3000),
    movie("Redline Courier", 2025,
          "A motorbike courier carrying an unknown package races against time across a city "
          "locked down by a gang war.",
          57, "fall", theaters=2400),
    movie("Halfway to Harlow", 2024,
          "Two estranged brothers drive their father's ashes across the country, arguing the "
          "whole way. A road-trip comedy.",
          35, "rise", streaming=True),
    movie("Mothwing", 2026,
          "A reclusive entomologist discovers a species of moth that only appears on the "
          "night of a murder.",
          45, "spike", peak=30, theaters=1600),
    movie("The Summit Below", 2025,
          "A caving expedition goes wrong when a flood traps six climbers in a cave system "
          "that seems to rearrange itself each day.",
          52, "steady", theaters=2000),
    movie("Pocket Kingdom", 2026,
          "A mouse knight defends a kingdom built inside an old dollhouse. An animated "
          "adventure for kids.",
          55, "rise", opens=12, theaters=3000),
    movie("Dead Air", 2025,
          "A late-night radio host takes a call from a listener who describes a murder "
          "happening inside the studio.",
          58, "spike", peak=10, streaming=True, weeks=1),
    movie("Wintering", 2024,
          "A widowed farmer and her teenage grandson spend one quiet winter learning to "
          "carry their grief together.",
          34, "spike", peak=44, streaming=True, weeks=7),
    movie("The Starling Sisters", 2025,
          "Three sisters form a country band after their father's funeral and take his old "
          "tour bus on the road.",
          39, "rise", theaters=1000),
    movie("Blackout Hotel", 2026,
          "Guests at a luxury hotel are trapped when a storm knocks out the power, and one "
          "of them is a murderer.",
          62, "fall", theaters=2800),
    movie("The Ostrich Defense", 2025,
          "A hapless lawyer defends an eccentric inventor accused of stealing a zoo's "
          "ostrich. A courtroom comedy.",
          32, "spike", peak=44, streaming=True),
    movie("Dominion of Salt", 2026,
          "Two rival empires go to war over the last salt flats on a dying planet. A "
          "science-fiction war epic.",
          85, "fall", theaters=3700),
    movie("Lullaby for a Giant", 2025,
          "A lonely giant in the northern mountains befriends a girl who sings to him, and "
          "the kingdom sends soldiers to hunt him.",
          44, "steady", streaming=True, weeks=3),
    movie("First Frost Cafe", 2024,
          "A burned-out chef buys a cafe in a cozy mountain village and finds a second "
          "chance at love with the town's grumpy baker.",
          36, "steady", streaming=True, weeks=5),
    movie("Operation Tin Soldier", 2025,
          "A toy-soldier collector is mistaken for a spy and dragged into a real mission "
          "behind enemy lines. An action comedy.",
          47, "rise", theaters=2200),
    movie("Cinder Path", 2026,
          "After a wildfire destroys her town, a firefighter leads a rescue through a "
          "burning valley in a race against time.",
          60, "rise", opens=24, theaters=2900),
    movie("The Reading of Agnes Fray", 2025,
          "A family gathers at a haunted estate for the reading of a will, and the dead "
          "woman still has a few things to say.",
          50, "spike", peak=18, theaters=2100),
    movie("Stunt Double", 2024,
          "A stunt double who looks exactly like a famous action star is kidnapped by "
          "mistake and has to fight his way out for real.",
          40, "fall", theaters=1400),
    movie("Heliopause", 2026,
          "The first crewed starship to leave the solar system loses contact with Earth, "
          "and the crew slowly start to hear voices in the static.",
          68, "steady", theaters=3100),
    movie("The Sparrow Protocol", 2025,
          "A retired spy and her teenage daughter are hunted across a continent after a "
          "mission she never told anyone about comes back.",
          54, "fall", streaming=True, weeks=2),
    movie("Bramble & Birch", 2024,
          "Two elderly neighbours feud over a hedge for forty years, until one of them falls "
          "ill. A gentle comedy about friendship.",
          31, "rise", streaming=True),
    movie("Skyhook", 2026,
          "A construction crew on the tallest space elevator ever built races to stop a "
          "sabotage that could bring it down from orbit.",
          70, "fall", theaters=3600),
    movie("Lady of the Crossroads", 2025,
          "A blues singer makes a bargain at a crossroads in the 1930s and spends years "
          "trying to win her soul back in song.",
          42, "steady", theaters=1200),
    movie("The Long Quiet", 2024,
          "A documentary following a remote island's last school through its final year "
          "before it closes.",
          30, "spike", peak=34, streaming=True),
    movie("Gatecrashers", 2025,
          "Three best friends sneak into the wedding of the year and accidentally ruin it, "
          "then have to fix it before the reception.",
          45, "steady", theaters=2300),
    movie("Coldwater", 2026,
          "A true-crime podcaster reopens an unsolved disappearance and finds the missing "
          "girl's family has been lying for twenty years.",
          56, "rise", opens=30, streaming=True),
    movie("Arrowhead", 2025,
          "A tracker on the western frontier hunts the outlaw gang that burned her ranch "
          "and took her brother.",
          48, "steady", theaters=1700),
    movie("Mechanical Hearts", 2026,
          "An android caregiver falls in love with the widower it was built to look after. "
          "A science-fiction romance.",
          58, "steady", streaming=True, weeks=1),
    movie("Big Top Blues", 2024,
          "A failing family circus bets everything on a teenage trapeze artist with stage "
          "fright.",
          33, "fall", theaters=900),
    movie("Moonshot Junior", 2026,
          "Five kids build a rocket in a backyard for the science fair and accidentally "
          "reach orbit. A family adventure.",
          52, "rise", theaters=2700),
    movie("The Quiet Assassin", 2025,
          "A deaf assassin is hired to kill the only witness to her own past. A tense action "
          "thriller.",
          63, "fall", theaters=3000),
    movie("Saint Agnes Street", 2024,
          "A priest in a gritty dockside parish is caught between a street gang and the "
          "police who want him to inform on it.",
          38, "steady", streaming=True, weeks=2),
    movie("Glasswing", 2026,
          "In the near future, a scientist splices butterfly genes into a dying rainforest, "
          "and the forest starts to change the people who visit it.",
          49, "spike", peak=22, theaters=1800),
    movie("Cowbell", 2025,
          "A washed-up rock drummer teaches a village brass band to play heavy metal for a "
          "national contest.",
          46, "rise", theaters=1100),
    movie("Seven Rivers Down", 2025,
          "A river pilot ferries a wounded soldier downstream through a civil war, across "
          "seven warring provinces.",
          47, "fall", theaters=1600),
    movie("Overclocked", 2026,
          "A gamer discovers that the online game she plays every night is a training "
          "simulation for a real army at war.",
          66, "spike", peak=38, theaters=3300),
    movie("Honeytrap Holiday", 2025,
          "A spy on her first holiday in a decade falls for a man who is also a spy, and "
          "also on the clock. A romantic action comedy.",
          52, "steady", streaming=True, weeks=1),
    movie("The Burial of Small Things", 2024,
          "A grieving mother opens a cemetery for children's lost toys, and the town slowly "
          "brings her its own grief.",
          54, "rise", streaming=True),
    movie("Tin Star Requiem", 2025,
          "An ageing sheriff has one day to bring an outlaw to trial before the gang "
          "arrives on the noon train.",
          44, "fall", theaters=1500),
    movie("Swarm Season", 2026,
          "A farming town is besieged by a swarm of mutated locusts, and a disgraced "
          "scientist is its only hope. A creature feature.",
          53, "spike", peak=13, theaters=2400),
    movie("Dreamcatcher Motel", 2025,
          "Guests at a roadside motel share the same dream every night, and in it someone "
          "is digging a grave. A ghost story.",
          47, "rise", streaming=True),
    movie("Paper Crowns", 2024,
          "A shy girl enters a teen beauty pageant to win the money for her father's "
          "surgery. A coming-of-age drama.",
          32, "steady", streaming=True, weeks=4),
    movie("Undersong", 2026,
          "A sonar operator hears a song from the ocean floor that nobody else on the "
          "submarine can hear.",
          58, "rise", opens=8, theaters=2500),
    movie("Maple & Main", 2025,
          "A big-city lawyer inherits a small-town hardware store and has one season to "
          "save it. A cozy romance.",
          46, "spike", peak=46, streaming=True),
    movie("Ghost Fleet", 2025,
          "In the last days of a war, a navy salvage crew finds a fleet of ships that sank a "
          "century ago sailing again.",
          51, "steady", theaters=2000),
    movie("Seventeen Minutes", 2026,
          "A hostage negotiator has seventeen minutes to talk down a gunman who claims to "
          "know who killed her partner.",
          64, "rise", opens=16, theaters=3100),
    movie("The Dragon's Accountant", 2025,
          "A timid clerk is hired to audit a dragon's treasure hoard and discovers the "
          "kingdom has been cheating it for centuries. A fantasy comedy.",
          66, "steady", theaters=2800),
    movie("Nightjar", 2024,
          "An ornithologist recording birdsong in a remote forest captures a murder on "
          "tape.",
          37, "fall", streaming=True, weeks=3),
    movie("Pulse of the Dunes", 2026,
          "A caravan of smugglers crosses a desert planet where the sand itself is alive.",
          61, "rise", theaters=2700),
    movie("Better Than Fine", 2024,
          "A mother and her adult daughter go on a disastrous wellness retreat together "
          "and find a second chance at friendship. A family comedy.",
          35, "steady", streaming=True, weeks=2),
    movie("Rook Takes Queen", 2025,
          "A chess prodigy from a gritty housing estate is recruited by a con artist for a "
          "high-stakes tournament heist.",
          49, "steady", theaters=1900),
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
       55, "rise", weeks=2),
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
    # --- more TV (50) ----------------------------------------------------------------
    tv("Precinct Zero", 2025,
       "Detectives in a city's forgotten first precinct work the murders nobody else "
       "wants. A crime series.",
       58, "steady", weeks=3),
    tv("The Amber Court", 2026,
       "A scandal-ridden royal dynasty fights over the succession when the queen dies "
       "without naming an heir. A period drama.",
       76, "rise", opens=6),
    tv("Crater Station", 2025,
       "Scientists at a research base on a frozen moon find an alien structure beneath "
       "the ice. A science-fiction series.",
       62, "fall", weeks=4),
    tv("Oven Wars: Island Edition", 2025,
       "Twelve contestants bake their way through a reality competition show on a "
       "remote island with no electricity.",
       40, "spike", peak=28),
    tv("Hartley & Ng", 2024,
       "A by-the-book cop and an eccentric private detective solve murders in a seaside "
       "town. A cozy mystery series.",
       52, "spike", peak=34, weeks=6),
    tv("Dead Reckoning Bay", 2025,
       "A fishing fleet comes home one boat short, and the missing crew's families start "
       "to suspect each other.",
       50, "rise"),
    tv("Kitchen Sink", 2024,
       "A sitcom about three generations of one family crammed into a small flat.",
       36, "steady", weeks=10),
    tv("The Brightwater Files", 2026,
       "A junior reporter digs into a decades-old conspiracy at the newspaper where she "
       "works. A paranoid thriller series.",
       60, "rise", opens=18),
    tv("Stormbreakers", 2025,
       "An animated series about a team of kids who pilot weather-controlling robots.",
       38, "spike", peak=8, weeks=5),
    tv("Queen of Clubs", 2025,
       "A con artist runs a nightclub empire while secretly feeding information to the "
       "police. A gritty crime drama.",
       55, "fall", weeks=5),
    tv("Starlight Academy", 2024,
       "Teenage cadets at a school in orbit train to pilot starships in an interstellar "
       "war. A science-fiction series.",
       48, "rise", weeks=1),
    tv("Perfect Match Island", 2026,
       "Singles looking for love are stranded on an island where an algorithm picks "
       "their dates. A dating reality series.",
       52, "spike", opens=12, peak=42),
    tv("Under the Viaduct", 2025,
       "Street kids in a 1950s port city form a gang to protect their neighbourhood from "
       "developers. A period drama.",
       42, "steady", weeks=2),
    tv("Ravenmoor", 2026,
       "A young witch returns to her haunted hometown to bury her mother and inherits the "
       "family curse. A spooky fantasy series.",
       70, "spike", peak=16),
    tv("Small Claims", 2024,
       "A sitcom set in a tiny county courthouse where the cases are petty and the judge "
       "is worse.",
       34, "spike", peak=36, weeks=8),
    tv("The Frontier Ledger", 2025,
       "A frontier town's only banker keeps the books for outlaws and sheriffs alike. A "
       "western drama series.",
       46, "fall", weeks=3),
    tv("Lost Signals", 2026,
       "A documentary series investigating unexplained radio signals picked up by "
       "amateur astronomers.",
       40, "rise"),
    tv("Bloodline of the Sun", 2025,
       "Heirs to a desert kingdom fight a civil war while a dragon cult rises in the "
       "south. A fantasy epic series.",
       86, "fall", weeks=6),
    tv("Faculty Lounge", 2024,
       "An awkward comedy about the underpaid teachers of a failing high school.",
       39, "steady", weeks=4),
    tv("The Vanishing at Mirrow Lake", 2026,
       "A limited series about the disappearance of a teenage girl at a lakeside summer "
       "camp in the 1990s.",
       66, "rise", opens=26),
    tv("Cattle Kings", 2025,
       "A ranch family dynasty fights a mining company for water rights on the frontier. "
       "A western soap.",
       57, "steady", weeks=2),
    tv("Robot Roommate", 2024,
       "An out-of-work actor moves in with a household robot that learned everything it "
       "knows from sitcoms.",
       37, "rise"),
    tv("Code Black Harbour", 2025,
       "Trauma doctors at a harbour-side hospital fight for their patients and for each "
       "other. A medical drama series.",
       45, "fall", weeks=7),
    tv("Voices of the Valley", 2025,
       "Amateur singers from old mining towns compete in a singing competition show "
       "judged by their neighbours.",
       35, "spike", peak=22),
    tv("Wardens of the Wall", 2026,
       "Soldiers guarding an ancient wall at the edge of the kingdom discover what it was "
       "built to keep out. A fantasy war series.",
       80, "rise", opens=2),
    tv("Night Market Detectives", 2025,
       "Two food-stall owners solve murders in a bustling night market between serving "
       "customers. A comedy mystery.",
       48, "spike", peak=40, weeks=3),
    tv("Paper Empire", 2024,
       "The rise and fall of a family newspaper dynasty, told across four decades.",
       43, "fall", streaming_until=20, weeks=9),
    tv("Hollow Earth Expedition", 2025,
       "An expedition into a vast cave network finds a lost world of giant creatures. An "
       "adventure series.",
       53, "steady", weeks=2),
    tv("Therapy for Villains", 2026,
       "A therapist discovers that all her new clients are retired supervillains. A "
       "workplace comedy.",
       61, "rise"),
    tv("Outlaw Hearts", 2024,
       "A frontier romance about a schoolteacher who falls for the outlaw she is meant to "
       "testify against.",
       38, "fall", streaming_until=40, weeks=6),
    tv("Ground Control", 2025,
       "A documentary series following the mission control team of a private space "
       "program through its first crewed launch.",
       42, "spike", peak=32),
    tv("The Marlowe Inheritance", 2025,
       "Estranged siblings must live together in their late father's mansion for a year "
       "to inherit it, and one of them is plotting murder.",
       59, "steady", weeks=4),
    tv("Sideline Moms", 2024,
       "A comedy about the fiercely competitive mothers of a kids' football team.",
       36, "steady", weeks=3),
    tv("Blackwater Ridge", 2026,
       "A park ranger in a remote forest investigates disappearances that the locals "
       "blame on a creature from an old myth.",
       64, "rise", opens=14),
    tv("Glitch City", 2025,
       "Residents of a city-sized simulation start to notice the glitches. A "
       "mind-bending science-fiction series.",
       56, "fall", weeks=3),
    tv("Make It Work, Mateo", 2024,
       "A makeover reality series in which a carpenter renovates family homes on an "
       "impossible budget.",
       33, "spike", peak=20, weeks=6),
    tv("The Admiral's Wife", 2025,
       "A wartime drama about a naval officer's wife who runs a resistance network from "
       "her dinner table.",
       49, "steady", weeks=2),
    tv("Cheer Camp Chaos", 2026,
       "Misfit teenagers at a summer cheer camp plot to win the national title. A "
       "hilarious comedy series.",
       44, "rise"),
    tv("Deep Freeze Diaries", 2025,
       "A reality series following contestants who spend a winter at a polar research "
       "station.",
       37, "spike", peak=8),
    tv("The Chancellor's Spy", 2026,
       "A spy inside a foreign chancellor's office must decide whether to stop an "
       "assassination her own agency ordered.",
       72, "steady", weeks=1),
    tv("Bakery Hearts", 2024,
       "A small-town bakery run by three sisters becomes the centre of the village's "
       "love lives. A cozy romance series.",
       56, "rise"),
    tv("Spellbound Ward", 2025,
       "Doctors at a hospital for magical patients treat curses, hexes and the occasional "
       "dragon bite. A fantasy comedy.",
       48, "steady", weeks=5),
    tv("Nightfall Tapes", 2026,
       "A found-footage horror series built from tapes recovered from a haunted motel.",
       58, "spike", peak=24),
    tv("The Kingmakers", 2025,
       "Political operatives on rival campaigns fall in love during a vicious election. "
       "A political drama.",
       51, "fall", weeks=4),
    tv("Tiny Planet Patrol", 2024,
       "A preschool series for young viewers about alien puppets who keep a tiny planet "
       "tidy.",
       32, "spike", peak=26, weeks=12),
    tv("Verdict Unknown", 2025,
       "A documentary series re-examining murder convictions with new evidence and "
       "interviews.",
       47, "rise"),
    tv("The Salt Road", 2026,
       "Medieval merchants travel a dangerous trade route through rival kingdoms. A "
       "historical adventure series.",
       63, "fall", weeks=3),
    tv("Late Night with Nobody", 2025,
       "A mockumentary about a late-night talk show that nobody watches and the host who "
       "will not quit.",
       50, "spike", peak=38),
    tv("Moonlit Rivals", 2026,
       "Two rival ballet dancers competing for the same role become unlikely allies when "
       "their teacher goes missing.",
       54, "rise", opens=36),
    tv("Wren Hall", 2025,
       "A ghost at a Victorian boarding school tries to warn the new pupils about the "
       "headmistress. A spooky period drama.",
       46, "spike", peak=14),
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


def buzz(score: int, reviewed: float, hour: float) -> float:
    """Return the critics' multiplier: well-reviewed titles, loudest when reviews land."""
    return (score / 70) ** 2 * (0.2 + 4 * math.exp(-(((hour - reviewed) / 5) ** 2)))


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
    critics = random.Random(SEED + 1)
    score = {t.name: critics.randint(42, 95) for t in TITLES}
    reviewed = {t.name: critics.uniform(t.opens, 48) for t in TITLES}
    score[BREAKOUT], reviewed[BREAKOUT] = 96, 46.0
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
                    if source.name == "critics_buzz":
                        value *= buzz(score[title.name], reviewed[title.name], hour)
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
                elif source.name == "critics_buzz":
                    signals["critic_score"] = score[title.name]
                    signals["review_count"] = round(value * 2.5)
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
    assert 2300 <= len(lines) <= 2500, f"{len(lines)} lines"
    media = [t.media_type for t in TITLES]
    assert media.count("movie") >= 90, "too few films"
    assert media.count("tv") >= 60, "too few series"
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
