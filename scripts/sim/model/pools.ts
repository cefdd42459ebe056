/**
 * Vocabularies of the simulated world. The pools are disjoint on purpose (no title word is a name,
 * a genre, a place or an award), which is what lets assessSynopsis detect every injected defect by
 * rule: a pool entry that appears in a synopsis but not in its show record is a factual error.
 */

export const FIRST_NAMES = [
  'Ana',
  'Tomas',
  'Priya',
  'Jonah',
  'Leila',
  'Marcus',
  'Ingrid',
  'Kwame',
  'Sofia',
  'Dmitri',
  'Hana',
  'Rafael',
  'Noor',
  'Callum',
  'Yuki',
  'Elena',
  'Tobias',
  'Amara',
  'Felix',
  'Zara',
  'Mateo',
  'Freya',
  'Idris',
  'Lucia',
  'Oskar',
  'Mei',
  'Gabriel',
  'Aisha',
  'Henrik',
  'Camila',
  'Ruben',
  'Nadia',
  'Emil',
  'Talia',
  'Bruno',
  'Sienna',
  'Kofi',
  'Marta',
  'Anton',
  'Lena',
  'Diego',
  'Saoirse',
  'Viktor',
  'Rosa',
  'Jun',
  'Alma',
  'Nikolai',
  'Imani',
  'Pablo',
  'Greta',
] as const;

export const LAST_NAMES = [
  'Duarte',
  'Okafor',
  'Lindqvist',
  'Reyes',
  'Nakamura',
  'Haddad',
  'Kowalski',
  'Brennan',
  'Ferreira',
  'Mensah',
  'Novak',
  'Castillo',
  'Iversen',
  'Achebe',
  'Moreau',
  'Petrov',
  'Tanaka',
  'Quinlan',
  'Bianchi',
  'Osei',
  'Varga',
  'Delgado',
  'Halvorsen',
  'Rahman',
  'Santoro',
  'Kim',
  'Abiodun',
  'Larsen',
  'Romero',
  'Sato',
  'Ivanova',
  'Mwangi',
  'Fischer',
  'Aguilar',
  'Nilsson',
  'Chen',
  'Oyelaran',
  'Marino',
  'Jensen',
  'Vidal',
] as const;

export const TALENT_ROLES = ['lead', 'co-lead', 'supporting', 'director', 'creator'] as const;

export const TITLE_ADJECTIVES = [
  'Quiet',
  'Hollow',
  'Silver',
  'Broken',
  'Distant',
  'Hidden',
  'Bitter',
  'Northern',
  'Last',
  'Pale',
  'Burning',
  'Crooked',
  'Salt',
  'Iron',
  'Glass',
  'Second',
  'Narrow',
  'Lost',
  'Winter',
  'Restless',
] as const;

export const TITLE_NOUNS = [
  'Harbour',
  'Meridian',
  'Ledger',
  'Orchard',
  'Tide',
  'Frontier',
  'Lantern',
  'Archive',
  'Current',
  'Quarry',
  'Signal',
  'Ferry',
  'Garden',
  'Hours',
  'Compass',
  'Vessel',
  'Inheritance',
  'Crossing',
  'Ridge',
  'Verdict',
] as const;

export const GENRES = [
  'thriller',
  'drama',
  'comedy',
  'mystery',
  'romance',
  'documentary',
  'horror',
  'fantasy',
  'western',
  'science fiction',
  'satire',
  'anthology',
] as const;

export const LOCATIONS = [
  'Lisbon',
  'Oslo',
  'Marseille',
  'Glasgow',
  'Montreal',
  'Osaka',
  'Valparaiso',
  'Tbilisi',
  'Naples',
  'Reykjavik',
  'Hobart',
  'Bruges',
  'Krakow',
  'Cork',
  'Tangier',
  'Trieste',
  'Seville',
  'Bergen',
  'Halifax',
  'Dunedin',
  'Porto',
  'Gdansk',
  'Antwerp',
  'Cusco',
  'Hanoi',
  'Mombasa',
  'Tallinn',
  'Riga',
  'Vilnius',
  'Busan',
] as const;

export const AWARDS = [
  'Emmy Award',
  'Golden Globe',
  'BAFTA',
  'Peabody Award',
  "Critics' Choice Award",
  'Gotham Award',
  'Royal Television Society Award',
  'Canadian Screen Award',
  "Rose d'Or",
  'Prix Italia',
] as const;

/** The occupation of a show's protagonist (no article). */
export const OCCUPATIONS = [
  'disgraced detective',
  'retired surgeon',
  'young archivist',
  'night-shift nurse',
  'struggling chef',
  'ferry captain',
  'small-town lawyer',
  'former boxer',
  'schoolteacher',
  'data analyst',
  'insurance investigator',
  'translator',
  'beekeeper',
  'hotel concierge',
  'court stenographer',
  'marine biologist',
  'taxi driver',
  'art restorer',
  'union organiser',
  'radio host',
] as const;

/** The one concrete story element a show's plot turns on; a synopsis naming another one contradicts the plot. */
export const PLOT_ELEMENTS = [
  'a stolen painting',
  'a forged will',
  'a missing sister',
  'a buried letter',
  'a rigged election',
  'an abandoned lighthouse',
  'a sunken ship',
  'a secret ledger',
  'a poisoned well',
  'a vanished heiress',
  'a counterfeit passport',
  'a coded diary',
  'a hidden child',
  'a burned factory',
  'a smuggled manuscript',
  'a disputed inheritance',
  'a lost recording',
  'a faked death',
  'a silenced witness',
  'a cursed vineyard',
  'a runaway groom',
  'a stolen formula',
  'a drowned village',
  'a broken treaty',
  'a missing jury member',
] as const;

export const PLOT_VERBS = [
  'uncovers',
  'goes looking for',
  'stumbles onto',
  'is drawn into the search for',
  'is hired to trace',
] as const;

/** Neutral story beats with no entities in them. */
export const COMPLICATIONS = [
  'Old loyalties are tested as the search narrows.',
  'Every answer raises a harder question.',
  'A rival with nothing to lose closes in.',
  'The closer the truth gets, the more it costs.',
  'Family secrets surface one by one.',
  'Trust becomes the scarcest thing in town.',
  'An old friend turns up with a very different account.',
  'The people who know the most say the least.',
] as const;

export const METADATA_TAILS = [
  'unfolds over eight tightly plotted episodes',
  'keeps its focus on the people caught in the middle',
  'takes its time with every choice its characters make',
  'moves between past and present',
] as const;

// --- defect vocabularies -------------------------------------------------------------------------

/** Off-brand hype (tone). Matched case-insensitively as substrings. */
export const CLICKBAIT_WORDS = [
  "won't believe",
  'jaw-dropping',
  'must-watch',
  'insanely',
  'obsessed',
  'shocking',
  'mind-blowing',
  'binge-worthy',
] as const;

export const CLICKBAIT_SENTENCES = [
  "You won't believe what happens next.",
  'A jaw-dropping, must-watch ride.',
  'Insanely addictive from the very first minute.',
  'Prepare to be totally obsessed.',
  'The most shocking series of the decade.',
  'Mind-blowing twists in every single episode.',
] as const;

/** Convoluted clauses (clarity) appended to a sentence in place of its full stop; each holds a marker. */
export const CONVOLUTED_TAILS = [
  ', a turn of events which, insofar as it can be said to resolve anything at all, and notwithstanding the fact that much of it is left unsaid, reshapes what follows in ways that are not easily summarised.',
  ', which, in the context of which the aforementioned events must be understood, and with regard to the question of who knew what and when, complicates matters in a manner that defies a simple account.',
  ', all of which, notwithstanding the fact that the aforementioned circumstances had seemed settled, sets in motion a chain of consequences whose significance only becomes apparent insofar as later events allow.',
] as const;
export const CONVOLUTED_MARKERS = [
  'insofar as',
  'notwithstanding the fact that',
  'the aforementioned',
  'in the context of which',
] as const;
/** A sentence this long is hard to follow whatever it says (clarity). */
export const MAX_SENTENCE_WORDS = 45;

/** Vague noun phrases that replace a concrete story element (precision). */
export const VAGUE_PHRASES = [
  'something unexpected',
  'all sorts of things',
  'various matters',
  'a certain situation',
  'stuff that changes everything',
] as const;
/** Filler sentences that say nothing (precision), without their end punctuation (other defects may change it). */
export const VAGUE_SENTENCES = [
  'A lot happens along the way',
  'Things get complicated in various ways',
  'There is plenty going on',
  'Much more unfolds as time goes by',
] as const;
