/** The shape of a simulated-world language: its word pools and its sentence forms (vocabulary.ts). */

export interface Opening {
  /** The occupation with its indefinite article. */
  who: string;
  place?: string;
  verb: string;
  element: string;
  title: string;
}

export interface Vocabulary {
  locale: string;
  genres: readonly string[];
  awards: readonly string[];
  /** Without their article (the show's plot names one). */
  occupations: readonly string[];
  /** The one concrete story element a plot turns on, with its article. */
  plotElements: readonly string[];
  plotVerbs: readonly string[];
  complications: readonly string[];
  metadataTails: readonly string[];
  clickbaitWords: readonly string[];
  clickbaitSentences: readonly string[];
  convolutedTails: readonly string[];
  convolutedMarkers: readonly string[];
  vaguePhrases: readonly string[];
  /** Without end punctuation. */
  vagueSentences: readonly string[];
  /** Who a show is about when its plot names no pool occupation. */
  stranger: string;
  /** What a plot turns on when it names no pool element. */
  someSecret: string;
  /** A claim a show without awards can carry instead of an invented award, and the article an award takes. */
  praise: string;
  awardArticle: string;
  /** An occupation with its indefinite article. */
  a(occupation: string): string;
  plot(place: string, who: string, verb: string, element: string): string;
  trail(place: string): string;
  openings(o: Opening): string[];
  starsOpposite(lead: string, other: string, occupation: string, who: string): string;
  leadTogether(lead: string, other: string): string;
  stars(lead: string, occupation: string, who: string): string;
  credit(role: 'creator' | 'director', name: string): string;
  twoGenres(first: string, second: string, year: number, tail: string): string;
  thisYear(year: number, genre: string, tail: string): string;
  firstReleased(year: number, genre: string, tail: string): string;
  won(award: string): string;
  wentOnToWin(award: string): string;
  turnsOn(element: string): string;
  alsoAppears(name: string): string;
  releasedIn(year: string): string;
}
