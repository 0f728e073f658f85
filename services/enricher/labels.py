"""What each genre and vibe looks like, in the project's own words, for zero-shot matching.

The local enricher embeds every phrase below with MiniLM and averages a label's phrases
into one prototype. Phrases are written like the synopses they are compared with (who
does what, against whom), not like dictionary definitions: a plot summary sits closer to
another plot summary than to "a genre characterised by…". Several phrases per label, each
from a different corner of the genre, keep one phrase's wording from steering the label.
"""

from __future__ import annotations

import hashlib

GENRE_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "Action": (
        "An action movie full of fights, shootouts, car chases and explosions.",
        "A lone ex-soldier takes on an army of armed mercenaries to rescue a hostage.",
        "A special forces team is sent on a dangerous mission behind enemy lines.",
        "A cop battles a gang of heavily armed criminals in a high-speed pursuit.",
        "A martial artist fights his way through a crime lord's henchmen for revenge.",
        "A bodyguard must keep a witness alive while assassins close in from every side.",
        "A retired hitman picks up his guns again when his family is threatened.",
        "Terrorists seize a skyscraper and one man stands in their way.",
        "A superhero with extraordinary powers must stop a villain from destroying the city.",
        "An elite agent races across the globe to stop a stolen nuclear weapon.",
    ),
    "Adventure": (
        "An adventure story about a daring journey into unknown lands.",
        "Explorers set out on a perilous expedition to find a lost treasure.",
        "A band of unlikely companions travels across the world on an epic quest.",
        "Shipwrecked travellers must survive on a mysterious island.",
        "A young hero leaves home and sails the seas in search of a legendary city.",
        "Treasure hunters race rivals through jungles, deserts and ancient ruins.",
        "Pirates, swashbuckling sword fights and a voyage across uncharted waters.",
        "A boy embarks on a thrilling journey to find his missing father in the wilderness.",
        "Adventurers discover a hidden world where dinosaurs still roam.",
    ),
    "Animation": (
        "An animated film for children, with cartoon characters and talking animals.",
        "A computer-animated adventure about a brave little toy, fish or robot.",
        "A hand-drawn cartoon feature full of colourful creatures and songs.",
        "Talking animals in the forest band together to save their home.",
        "An anime feature about a young girl who discovers a world of spirits.",
        "A lovable cartoon hero and his animal sidekick go on a big-screen adventure.",
        "A young penguin, lion cub or dragon who does not fit in sets out to prove himself.",
        "Toys come to life when their owner leaves the room.",
        "A princess, her funny animal friends and a wicked queen in an animated musical "
        "fairy tale.",
        "A clumsy little monster, a mouse or a panda dreams of becoming a hero.",
    ),
    "Comedy": (
        "A comedy full of jokes, pranks and hilarious misunderstandings.",
        "Two mismatched buddies stumble from one ridiculous situation to the next.",
        "A wild party spins hilariously out of control.",
        "A family reunion turns into a chaotic farce of embarrassing secrets.",
        "A goofy underdog tries to win the big competition with silly schemes.",
        "A loser pretends to be someone he is not and the lie gets out of hand.",
        "A bachelor party in Las Vegas goes hilariously wrong.",
        "Awkward teenagers try to lose their virginity before graduation.",
        "A spoof that parodies famous movies with slapstick gags.",
        "A neurotic New Yorker navigates dating, friends and his eccentric family.",
    ),
    "Crime": (
        "A crime story about gangsters, drug dealers and the police who chase them.",
        "A detective investigates a murder in the city's criminal underworld.",
        "A crew of thieves plans one last big heist on a casino or a bank.",
        "A mob boss rises to power through violence, corruption and betrayal.",
        "An undercover cop infiltrates a ruthless drug cartel.",
        "Small-time crooks get in over their heads with stolen money and the mafia.",
        "A con artist pulls off an elaborate scam.",
        "An FBI agent tracks a serial killer.",
        "A hitman is hired for a job that goes wrong.",
    ),
    "Documentary": (
        "A documentary film about real people and real events.",
        "This documentary uses interviews and archival footage to tell its story.",
        "The documentary follows a band on tour with concert footage and interviews.",
        "A documentary that investigates an environmental or political issue.",
        "A nature documentary about wildlife and the planet.",
        "Filmmakers spent years filming this documentary about the lives of its subjects.",
        "The film features interviews with experts, witnesses and historians.",
        "A concert film and documentary capturing a famous performer live on stage.",
    ),
    "Drama": (
        "A drama about ordinary people facing difficult choices in their lives.",
        "A family struggles to hold together after a tragic loss.",
        "A troubled man confronts his past, his guilt and his broken relationships.",
        "A young woman fights for her dignity against prejudice and injustice.",
        "A moving character study of a marriage falling apart.",
        "A teenager comes of age in a poor neighbourhood, torn between duty and dreams.",
        "A mother and her estranged son try to reconcile before it is too late.",
        "A lawyer takes on a case that changes his life.",
        "An alcoholic father struggles with addiction and tries to win back his children.",
        "A woman diagnosed with a terminal illness reflects on her life.",
    ),
    "Family": (
        "A family movie for parents and children to watch together.",
        "A boy and his loyal dog go on a heartwarming adventure.",
        "Kids team up to save their town, learning about friendship and courage.",
        "A wholesome story about siblings, parents and a magical Christmas.",
        "A young girl befriends a lost animal and helps it find its way home.",
        "A fun family comedy where a dad must look after his mischievous kids.",
        "Santa Claus, elves and reindeer must save Christmas.",
        "A kid discovers a magical creature and must hide it from the grown-ups.",
        "A talking animal helps a lonely child and his family.",
    ),
    "Fantasy": (
        "A fantasy film set in a magical world of wizards, dragons and enchanted kingdoms.",
        "A young sorcerer discovers magical powers and must defeat a dark lord.",
        "A cursed princess, a spell and a quest for an enchanted sword.",
        "Mythical creatures, gods and legendary heroes battle for the fate of a realm.",
        "A fairy tale in which a witch and elves guard an ancient secret.",
        "Ordinary children step through a portal into a land of magic.",
        "A man receives supernatural powers, wishes come true or he becomes immortal.",
        "Angels, demons and ghosts walk among the living.",
    ),
    "History": (
        "A historical film based on true events from the past.",
        "The true story of a king, a queen and the intrigues of their royal court.",
        "A period drama set in an ancient empire or a medieval kingdom.",
        "The real-life story of a famous leader during a revolution.",
        "A biopic of a historical figure in the nineteenth century.",
        "Set in the 1940s, the story recounts a real chapter of history.",
        "Gladiators, Roman legions and emperors in the ancient world.",
        "The true story of the struggle for civil rights and freedom from slavery.",
    ),
    "Horror": (
        "A horror film full of terror, gore and supernatural evil.",
        "A family moves into a haunted house where a demonic presence awakens.",
        "A masked serial killer stalks and slaughters teenagers one by one.",
        "A group of friends are hunted by a bloodthirsty monster in the woods.",
        "A girl is possessed by a demon and a priest attempts an exorcism.",
        "Zombies, vampires and ghosts terrorise a remote town.",
        "A cursed videotape, doll or game kills everyone who touches it.",
        "Strangers wake up trapped in a deadly game designed by a sadistic killer.",
    ),
    "Music": (
        "A music film about singers, bands, concerts and the love of music.",
        "A struggling musician dreams of becoming a star.",
        "A young dancer and singer rehearses for the performance of a lifetime.",
        "A rock band goes on tour and faces fame, drugs and rivalry.",
        "A musical in which the characters sing and dance their story.",
        "A rapper fights his way up from the streets through his songs.",
        "A high school glee club or choir competes in a singing contest.",
        "The life story of a legendary singer, from humble beginnings to stardom.",
    ),
    "Mystery": (
        "A mystery in which an investigator pieces together clues to solve a puzzle.",
        "When a woman disappears without a trace, secrets of a small town come to light.",
        "A detective must find out who among the guests committed the murder.",
        "Strange events and unanswered questions surround a missing person.",
        "A journalist uncovers a hidden truth behind an unsolved case.",
        "Nothing is what it seems as a man tries to unravel an enigma.",
        "A man wakes up with no memory and must discover who he really is.",
        "Mysterious deaths and a strange secret haunt an isolated mansion.",
    ),
    "Romance": (
        "A romance about two people falling in love.",
        "A love story between a man and a woman from different worlds.",
        "Two strangers meet by chance and a passionate affair begins.",
        "A romantic comedy about a bride, her wedding and her true love.",
        "Star-crossed lovers must choose between their hearts and their families.",
        "A heartbroken woman finds love again where she least expects it.",
        "A young couple's summer romance is tested by distance and time.",
        "Best friends realise they are in love with each other.",
        "A girl falls for the perfect guy, but he hides a secret.",
        "He is engaged to one woman but falls head over heels for another.",
        "A love triangle between a young woman, her boyfriend and his best friend.",
    ),
    "Science Fiction": (
        "A science fiction film about space, aliens, robots and advanced technology.",
        "Astronauts travel to a distant planet to save humanity.",
        "In a dystopian future, a rebel fights against a totalitarian regime.",
        "Aliens invade Earth and mankind must fight back.",
        "A scientist's experiment with time travel goes terribly wrong.",
        "An artificial intelligence and cyborgs threaten the human race.",
        "A genetic experiment creates a mutant with strange powers.",
        "In a post-apocalyptic world, survivors fight over the last resources.",
    ),
    "Thriller": (
        "A suspense thriller full of danger, paranoia and plot twists.",
        "An innocent man is framed and must run from the authorities to clear his name.",
        "A spy uncovers a deadly conspiracy reaching the highest levels of government.",
        "A woman is stalked by a psychopath who knows her every move.",
        "Kidnappers hold a family hostage and the clock is ticking.",
        "A tense cat-and-mouse game between a killer and the agent hunting him.",
        "A seductive stranger turns a man's life into a deadly obsession.",
        "Trapped in a remote place, a group must survive while someone picks them off.",
    ),
    "War": (
        "A war film about soldiers in combat on the battlefield.",
        "During World War II, a platoon fights its way across enemy territory.",
        "Soldiers in Vietnam struggle to survive the horrors of war.",
        "A pilot and his squadron fly dangerous missions against the enemy.",
        "The resistance fights the occupying army in a war-torn country.",
        "A general leads his troops into a decisive battle.",
        "A submarine crew, a bomber crew or a sniper behind enemy lines during the war.",
    ),
    "Western": (
        "A western set in the Old West with cowboys, outlaws and sheriffs.",
        "A gunslinger rides into a frontier town to settle a score.",
        "Cattle ranchers, bandits and a showdown at high noon.",
        "A bounty hunter tracks a gang of outlaws across the desert on horseback.",
        "Settlers on the frontier clash with cattle barons and gunmen.",
        "A lawman and his posse pursue a gang of bandits through the wild west.",
        "A cowboy and an Apache warrior, a saloon and a stagecoach.",
    ),
    "Reality": (
        "A reality TV series where contestants compete in challenges to win a prize.",
        "Cameras follow the everyday lives of a famous family.",
        "A competition show in which amateurs are judged and eliminated each week.",
        "A dating show where singles look for love on an island.",
        "A makeover series that transforms homes, bodies or restaurants.",
    ),
    "Kids": (
        "A TV series for preschool children with puppets, songs and simple lessons.",
        "A cartoon show for young viewers about friendly animals learning to share.",
        "An educational children's programme that teaches letters and numbers.",
        "Little ones join colourful characters for playful everyday adventures.",
        "A children's show where kids sing, dance and learn together.",
    ),
    "News": (
        "A news programme covering the day's headlines and current events.",
        "Anchors and correspondents report on politics, business and world affairs.",
        "A weekly news magazine with investigative reports.",
        "Journalists break down the latest stories and interview newsmakers.",
        "A current affairs show analysing the top stories of the week.",
    ),
    "Talk": (
        "A talk show where the host interviews celebrity guests.",
        "A late-night show with monologues, comedy sketches and musical guests.",
        "A daytime talk show in which a panel discusses hot topics.",
        "The host welcomes stars to the couch for chats and games.",
        "Guests sit down with the host for candid conversation.",
    ),
    "Soap": (
        "A soap opera full of affairs, betrayals and family scandals.",
        "A wealthy dynasty is torn apart by secrets, rivalries and forbidden love.",
        "A long-running daily drama about the tangled lives of a small community.",
        "Twins, amnesia, hidden children and shocking revelations in every episode.",
        "Rich families feud over money, marriages and power.",
    ),
}

VIBE_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "feel-good": (
        "An uplifting, feel-good story that leaves you smiling.",
        "Friends pull together and everything turns out fine in the end.",
        "A cheerful, optimistic tale of second chances.",
    ),
    "dark": (
        "A dark, bleak story of violence, revenge and moral corruption.",
        "A grim descent into cruelty, murder and despair.",
        "A sinister tale where evil wins and nobody is innocent.",
    ),
    "cerebral": (
        "A cerebral, thought-provoking film about ideas, identity and philosophy.",
        "An intellectual puzzle that rewards careful attention.",
        "A scientist wrestles with questions of memory, consciousness and ethics.",
    ),
    "tense": (
        "A tense, nail-biting race against time.",
        "Suspense builds as the characters are trapped and hunted.",
        "Every minute counts in a nerve-racking standoff.",
    ),
    "cozy": (
        "A cozy, gentle story set in a quaint village.",
        "Warm kitchens, small-town neighbours and a cup of tea.",
        "A comforting, low-stakes tale of friendship and community.",
    ),
    "epic": (
        "An epic saga of kingdoms, empires and great battles.",
        "A sweeping story spanning generations and continents.",
        "Vast armies clash as the fate of the world hangs in the balance.",
    ),
    "quirky": (
        "A quirky, offbeat story about eccentric misfits.",
        "An oddball hero with strange habits in a whimsical world.",
        "A deadpan, unusual comedy full of peculiar characters.",
    ),
    "heartwarming": (
        "A heartwarming story of kindness, family and love.",
        "A lonely child finds a family and a place to belong.",
        "A touching tale of an unlikely friendship that changes lives.",
    ),
    "gritty": (
        "A gritty, raw story set on the mean streets.",
        "Gangs, prisons and poverty in a hard, realistic world.",
        "A brutal, unglamorous look at crime and survival.",
    ),
    "spooky": (
        "A spooky tale of ghosts, witches and haunted places.",
        "Creepy things go bump in the night.",
        "An eerie, supernatural story full of curses and strange noises.",
    ),
    "romantic": (
        "A romantic story of passion and falling in love.",
        "Two hearts find each other against all odds.",
        "Candlelit dinners, kisses and a wedding proposal.",
    ),
    "funny": (
        "A funny, laugh-out-loud comedy.",
        "Hilarious jokes, pranks and slapstick gags.",
        "Awkward situations played for big laughs.",
    ),
    "mind-bending": (
        "A mind-bending story of time loops, dreams and alternate realities.",
        "Nothing is real: a simulation, a parallel world, a twisted timeline.",
        "A puzzle-box plot that makes you question what you saw.",
    ),
    "action-packed": (
        "An action-packed ride of explosions, chases and fights.",
        "Non-stop shootouts, stunts and high-speed pursuits.",
        "A relentless battle from the first minute to the last.",
    ),
    "bingeable": (
        "A gripping series with cliffhangers at the end of every episode.",
        "An addictive show you will want to watch season after season.",
        "A serialised story that keeps you clicking on the next episode.",
    ),
    "nostalgic": (
        "A nostalgic look back at childhood and the good old days.",
        "Set in the 1980s, old friends remember their youth.",
        "A reunion brings back memories of summers long ago.",
    ),
    "emotional": (
        "An emotional, tear-jerking story of grief and loss.",
        "A heartbreaking farewell between people who love each other.",
        "A moving drama about illness, sacrifice and hope.",
    ),
    "slow-burn": (
        "A slow-burn story whose tension builds quietly and gradually.",
        "A patient, contemplative film that unfolds at its own pace.",
        "A quiet, brooding tale where secrets surface little by little.",
    ),
}


def _fingerprint() -> str:
    text = repr((sorted(GENRE_DESCRIPTIONS.items()), sorted(VIBE_DESCRIPTIONS.items())))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


LABELS_VERSION = _fingerprint()
"""Changes whenever a description changes, so answers of the old prototypes are not reused."""
