//! Language identification, just good enough to keep non-English text away from the English
//! sentiment lexicon.
//!
//! This module owns the [`Language`] set and [`detect_language`]. It looks at the writing system
//! first (Cyrillic, Greek, Arabic, Hebrew, Han, kana, Hangul, Devanagari, Thai decide on their
//! own), then, for Latin-script text, counts the distinct function words ("stop words") of each
//! language that occur in it. The lists are hand-made; words that are also common in English
//! ("a", "die", "was", "son", "me", "no") are left out of every list so that English text with a
//! stray foreign-looking word stays English. A text that gives too little evidence is
//! [`Language::Unknown`], which callers score as English: a short English text ("ok thanks")
//! must never lose its score.

use std::sync::LazyLock;

use crate::fxhash::FxMap;

/// Only the first this-many bytes are looked at: a megabyte of text is no clearer than 64 KiB.
const MAX_SCAN_BYTES: usize = 64 * 1024;

/// A language [`detect_language`] can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    English,
    French,
    German,
    Spanish,
    Italian,
    Portuguese,
    Dutch,
    Swedish,
    Polish,
    Turkish,
    /// Cyrillic text without Ukrainian letters (also covers other Cyrillic-script languages).
    Russian,
    Ukrainian,
    Greek,
    Arabic,
    Hebrew,
    Chinese,
    Japanese,
    Korean,
    Hindi,
    Thai,
    /// No words to go by, or too little evidence for any language.
    Unknown,
}

impl Language {
    /// ISO 639-1 code; `und` (ISO 639-2 "undetermined") for [`Language::Unknown`].
    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::French => "fr",
            Language::German => "de",
            Language::Spanish => "es",
            Language::Italian => "it",
            Language::Portuguese => "pt",
            Language::Dutch => "nl",
            Language::Swedish => "sv",
            Language::Polish => "pl",
            Language::Turkish => "tr",
            Language::Russian => "ru",
            Language::Ukrainian => "uk",
            Language::Greek => "el",
            Language::Arabic => "ar",
            Language::Hebrew => "he",
            Language::Chinese => "zh",
            Language::Japanese => "ja",
            Language::Korean => "ko",
            Language::Hindi => "hi",
            Language::Thai => "th",
            Language::Unknown => "und",
        }
    }

    /// English name.
    pub fn name(self) -> &'static str {
        match self {
            Language::English => "English",
            Language::French => "French",
            Language::German => "German",
            Language::Spanish => "Spanish",
            Language::Italian => "Italian",
            Language::Portuguese => "Portuguese",
            Language::Dutch => "Dutch",
            Language::Swedish => "Swedish",
            Language::Polish => "Polish",
            Language::Turkish => "Turkish",
            Language::Russian => "Russian",
            Language::Ukrainian => "Ukrainian",
            Language::Greek => "Greek",
            Language::Arabic => "Arabic",
            Language::Hebrew => "Hebrew",
            Language::Chinese => "Chinese",
            Language::Japanese => "Japanese",
            Language::Korean => "Korean",
            Language::Hindi => "Hindi",
            Language::Thai => "Thai",
            Language::Unknown => "unknown",
        }
    }

    /// Whether the English sentiment lexicon may score text in this language: English, and
    /// text too short or too plain to tell.
    pub fn is_scored_as_english(self) -> bool {
        matches!(self, Language::English | Language::Unknown)
    }

    /// Parses an ISO 639-1 code as returned by [`Language::code`].
    pub fn from_code(code: &str) -> Option<Language> {
        ALL.iter()
            .copied()
            .find(|l| l.code().eq_ignore_ascii_case(code))
    }
}

const ALL: [Language; 21] = [
    Language::English,
    Language::French,
    Language::German,
    Language::Spanish,
    Language::Italian,
    Language::Portuguese,
    Language::Dutch,
    Language::Swedish,
    Language::Polish,
    Language::Turkish,
    Language::Russian,
    Language::Ukrainian,
    Language::Greek,
    Language::Arabic,
    Language::Hebrew,
    Language::Chinese,
    Language::Japanese,
    Language::Korean,
    Language::Hindi,
    Language::Thai,
    Language::Unknown,
];

/// Index of Spanish in [`LATIN`].
const SPANISH: usize = 3;

/// The Latin-script languages with stop-word lists, in the order of their bit in [`StopWords`].
const LATIN: [Language; 10] = [
    Language::English,
    Language::French,
    Language::German,
    Language::Spanish,
    Language::Italian,
    Language::Portuguese,
    Language::Dutch,
    Language::Swedish,
    Language::Polish,
    Language::Turkish,
];

// Hand-made lists of frequent function words (and a few words of customer feedback) per
// language. Apostrophe forms use ASCII "'" (the tokenizer maps "’" to it); "l'" style entries
// match the elided article at the start of a word.
const EN: &str = "the and are were be been being have has had having you your yours i'm \
    i've i'll i'd it it's its this that these those with for not but my we our they their them \
    she his her him of from at by what which who whom when where why how all can could would \
    should will just very thanks thank please ok okay yes yeah there here about if or an as do \
    does did don't doesn't didn't can't won't isn't wasn't aren't get got really more some any \
    one out up because than then too only after before again never always into still much many \
    it'll you're they're we're that's there's what's let's good great bad love like hate \
    service order time help thx pls lol hi hello hey well know think want need make made going \
    back now today day new way said other even work works worked ever every thing things people \
    guys customer delivery money refund account staff";
const FR: &str = "le la les un une des du de et est sont pas ne je tu il elle nous vous ils \
    elles ce cette ces mon ma mes ton ta tes sa ses notre votre vos nos leur leurs qui que quoi \
    dans avec mais où très bien merci beaucoup bonjour bonsoir c'est j'ai n'est n'ai était été \
    être avoir fait tout tous toute toutes moins aussi encore déjà rien jamais toujours au aux \
    chez sans comme parce quand oui alors donc ça cela suis sommes êtes ont avez avons ai peut \
    faire commande livraison reçu colis remboursement n'a qu'il qu'on d'un d'une trop vraiment \
    depuis après avant pourquoi comment voici voilà s'il plaît mauvais bonne nul génial déçu \
    déçue en si se te ou non sur l' d' j' qu' c' n' s' m' produit vendeur à chaque";
const DE: &str = "der das und ist nicht ich du sie es wir ihr mit für auf ein eine einen einem \
    einer dem des zu von bei aus nach sehr danke bitte aber oder wie wenn dass daß auch noch \
    schon nur mehr kein keine keinen mein meine meinen sind waren habe haben hatte wird werden \
    wurde kann können bestellung lieferung doch jetzt immer heute vielen über schön leider \
    nichts gute guten schlecht zurück geld paket ware produkt kundenservice hallo ja nein \
    vielleicht warum weil dann hier sich mich mir dich dir uns euch ihnen diese dieser dieses \
    alle alles viel ganz gar wieder seit ohne gegen durch ob als vom zum zur beim ins kaufen \
    gekauft bekommen erhalten funktioniert mal hast ab";
const ES: &str = "el la los las un una unos unas es son está están estoy que de del en por muy \
    pero como más mi mis tu su sus lo le les se te nos yo él ella ellos este esta esto ese esa \
    eso gracias hola bien mal todos nada también porque cuando donde hay fue tiene tengo tienen \
    pedido producto muchas mucho muchos sobre hasta desde ni qué cómo usted ustedes nosotros \
    bueno buena malo mala llegó compré dinero devolución servicio nunca siempre ahora aquí \
    entonces sí pues así hemos había puede pueden quiero necesito hace hacer pésimo estaba si";
const IT: &str = "il gli le un uno una è sono non che di tra fra molto molta più mio mia tuo tua \
    suo sua questo questa quello quella grazie ciao bene tutto tutti anche perché quando dove \
    hanno stato stata sempre ancora già niente nulla ordine prodotto servizio del della dello \
    dei delle alla allo ai alle nel nella nei nelle sul sulla ci si mi ti vi ne mai poi però \
    cosa chi qui qua essere avere fatto ottimo pessimo consegna rimborso arrivato arrivata buono \
    buona veramente proprio abbastanza troppo c'è la se te su tu l' dell' un' nell' all' dall' \
    sull' po' ogni io";
const PT: &str = "os um uma uns umas é são não que de dos das nos nas por muito muita muitos \
    mas como mais meu minha seu sua este esta isso isto esse essa obrigado obrigada olá bem tudo \
    todos também porque quando onde já tem tenho foi está estão estou você vocês pedido produto \
    ainda nada sempre ao aos à às pelo pela pelos pelas ele ela eles elas nós até sem sobre \
    entrega reembolso chegou comprei ótimo péssimo bom ruim atendimento dinheiro fiquei nunca \
    agora aqui então assim ter ser fazer quero preciso pode podem se te ou tu ninguém";
const NL: &str = "de het een en niet dat te voor naar maar ook als wat ik je jij hij zij wij mijn \
    jouw uw zeer erg goed bedankt dank alstublieft bestelling levering nog wel geen niets altijd \
    nooit hier daar omdat wanneer waar heb heeft hebben waren kan kunnen wordt worden deze dit \
    bij uit graag zijn ben bent hun ons onze zou moet moeten wil willen gaat gaan pakket geld \
    terug klantenservice bezorgd besteld slecht prima leuk mooi helemaal echt gewoon veel meer \
    weer toch nu door tegen zonder onder hallo nee ja zoals elke twee";
const SV: &str = "och är att det som en på jag du inte för har de ett kan hade mig sig eller när \
    vad mycket tack dålig också efter utan bara alla nu vara blev hej beställning leverans \
    paket pengar aldrig alltid här där varför eftersom jätte väldigt fick så ingen nej";
const PL: &str = "nie się jest że jak tak już tylko jestem był była było są bardzo dziękuję \
    dzięki dobrze źle zamówienie przesyłka paczka pieniądze zwrot nigdy zawsze tutaj dlaczego \
    ponieważ który która które czy dla przez jeszcze może mam mój moja moje ich jego jej oraz \
    gdy kiedy więc też bez nic wszystko nikt";
const TR: &str = "ve bir bu için ile çok ama daha gibi var yok biz siz onlar mı mu mü değil \
    teşekkürler teşekkür ederim sipariş kargo ürün iade hiç şey kadar sonra önce neden çünkü \
    nasıl iyi kötü güzel şu de en mi";

// Words that also occur in English, though rarely enough that, together with other foreign words,
// they are evidence: they count toward a majority but never make a short text foreign on their own.
const EN_WEAK: &str = "is was i to";
const FR_WEAK: &str = "bon";
const DE_WEAK: &str = "die was";
const ES_WEAK: &str = "o";
const IT_WEAK: &str = "ma era da o";
const PT_WEAK: &str = "o boa";
const NL_WEAK: &str = "is was";
const SV_WEAK: &str = "i";
const PL_WEAK: &str = "z w na za i to";
const TR_WEAK: &str = "";

/// The accented letters the decision looks at, each with a bit in a mask (lowercase forms).
const MARKED_LETTERS: [char; 40] = [
    'ı', 'ğ', 'ş', 'ł', 'ą', 'ę', 'ś', 'ź', 'ż', 'ć', 'ń', 'ß', 'ñ', 'ã', 'õ', 'å', 'œ', 'ç', 'è',
    'ê', 'à', 'ù', 'â', 'î', 'ô', 'û', 'ë', 'ï', 'ä', 'ö', 'ü', 'á', 'í', 'ó', 'ú', 'ì', 'ò', 'ø',
    'æ', 'é',
];

fn letter_bit(c: char) -> u64 {
    MARKED_LETTERS
        .iter()
        .position(|&m| m == c)
        .map_or(0, |i| 1 << i)
}

fn mask_of(letters: &[char]) -> u64 {
    letters.iter().fold(0, |mask, &c| mask | letter_bit(c))
}

/// Letters that, in our set, only one language uses: each distinct one present counts as a weak
/// hit for it (a Spanish name in an English review must not make the review Spanish). '¿' is
/// not a letter and is looked for separately.
fn unique_letters(language: Language) -> &'static [char] {
    match language {
        Language::Turkish => &['ı', 'ğ', 'ş'],
        Language::Polish => &['ł', 'ą', 'ę', 'ś', 'ź', 'ż', 'ć', 'ń'],
        Language::German => &['ß'],
        Language::Spanish => &['ñ'],
        Language::Portuguese => &['ã', 'õ'],
        Language::Swedish => &['å'],
        Language::French => &['œ'],
        _ => &[],
    }
}

/// Letters that only some of the Latin-script languages use, to break a tie in stop words
/// between close languages (Spanish and Portuguese, say).
fn tie_break_letters(language: Language) -> &'static [char] {
    match language {
        Language::French => &['ç', 'è', 'ê', 'à', 'ù', 'â', 'î', 'ô', 'û', 'ë', 'ï', 'œ'],
        Language::German => &['ß', 'ä', 'ö', 'ü'],
        Language::Spanish => &['ñ', 'á', 'í', 'ó', 'ú'],
        Language::Italian => &['à', 'è', 'ì', 'ò', 'ù'],
        Language::Portuguese => &['ã', 'õ', 'ç', 'â', 'ê', 'ô', 'á', 'à'],
        Language::Swedish => &['å', 'ä', 'ö'],
        Language::Polish => &['ą', 'ć', 'ę', 'ł', 'ń', 'ś', 'ź', 'ż'],
        Language::Turkish => &['ğ', 'ı', 'ş', 'ç', 'ö', 'ü'],
        _ => &[],
    }
}

/// Every stop word with the languages (bits in [`LATIN`] order) that list it, whether it is weak
/// evidence (also an English word), and a dense id so a text counts each distinct word once.
struct StopWords {
    words: FxMap<&'static [u8], StopWord>,
    /// Length in bytes of the longest stop word: longer words skip the lookup.
    longest: usize,
}

#[derive(Clone, Copy)]
struct StopWord {
    languages: u16,
    weak: bool,
    id: u16,
}

static STOP_WORDS: LazyLock<StopWords> = LazyLock::new(|| {
    let strong = [EN, FR, DE, ES, IT, PT, NL, SV, PL, TR];
    let weak = [
        EN_WEAK, FR_WEAK, DE_WEAK, ES_WEAK, IT_WEAK, PT_WEAK, NL_WEAK, SV_WEAK, PL_WEAK, TR_WEAK,
    ];
    let mut words: FxMap<&'static [u8], StopWord> = FxMap::default();
    for (lists, is_weak) in [(strong, false), (weak, true)] {
        for (bit, list) in lists.into_iter().enumerate() {
            for word in list.split_whitespace() {
                let id = words.len() as u16;
                let entry = words.entry(word.as_bytes()).or_insert(StopWord {
                    languages: 0,
                    weak: is_weak,
                    id,
                });
                entry.languages |= 1 << bit;
            }
        }
    }
    let longest = words.keys().map(|w| w.len()).max().unwrap_or(0);
    StopWords { words, longest }
});

// Frequent words that tell Ukrainian from Russian when no Ukrainian-only letter is present.
const UK_WORDS: &str = "дякую дуже що це як ні та але мені його вона ми ви вони був була було \
    немає будь ласка добре погано замовлення чому коли де тому який яка яке вже також тільки";
const RU_WORDS: &str = "спасибо очень что это как нет но мне его она мы вы они был была было есть \
    пожалуйста хорошо плохо заказ почему когда где потому который которая уже также только";

/// Letters counted per writing system.
#[derive(Default)]
struct Scripts {
    latin: usize,
    cyrillic: usize,
    ukrainian_letters: usize,
    greek: usize,
    arabic: usize,
    hebrew: usize,
    han: usize,
    kana: usize,
    hangul: usize,
    devanagari: usize,
    thai: usize,
    /// [`MARKED_LETTERS`] present, lowercased.
    marked: u64,
    inverted_question: bool,
}

impl Scripts {
    fn count(text: &str) -> Scripts {
        let mut s = Scripts::default();
        if text.is_ascii() {
            s.latin = text.bytes().filter(u8::is_ascii_alphabetic).count();
            return s;
        }
        for c in text.chars() {
            match c as u32 {
                0x41..=0x5a | 0x61..=0x7a => s.latin += 1,
                0..=0x7f => {}
                0xbf => s.inverted_question = true,
                0xc0..=0x24f | 0x1e00..=0x1eff if c.is_alphabetic() => {
                    s.latin += 1;
                    let lower = c.to_lowercase().next().unwrap_or(c);
                    s.marked |= letter_bit(lower);
                }
                0x400..=0x52f => {
                    s.cyrillic += 1;
                    if matches!(c, 'і' | 'ї' | 'є' | 'ґ' | 'І' | 'Ї' | 'Є' | 'Ґ') {
                        s.ukrainian_letters += 1;
                    }
                }
                0x370..=0x3ff | 0x1f00..=0x1fff => s.greek += 1,
                0x600..=0x6ff | 0x750..=0x77f | 0xfb50..=0xfdff | 0xfe70..=0xfeff => s.arabic += 1,
                0x591..=0x5f4 => s.hebrew += 1,
                0x3400..=0x4dbf | 0x4e00..=0x9fff | 0xf900..=0xfaff | 0x20000..=0x2fa1f => {
                    s.han += 1
                }
                0x3040..=0x30ff | 0x31f0..=0x31ff | 0xff66..=0xff9d => s.kana += 1,
                0xac00..=0xd7af | 0x1100..=0x11ff | 0x3130..=0x318f => s.hangul += 1,
                0x900..=0x97f => s.devanagari += 1,
                0xe00..=0xe7f => s.thai += 1,
                _ => {}
            }
        }
        s
    }

    /// The non-Latin writing system that outweighs the Latin letters, if any. A CJK or Hangul
    /// character carries about a word's worth of text, so it counts for three letters.
    fn dominant_non_latin(&self) -> Option<Language> {
        let cyrillic = if self.ukrainian_letters > 0 {
            Language::Ukrainian
        } else {
            Language::Russian
        };
        let east_asian = if self.kana > 0 {
            Language::Japanese
        } else {
            Language::Chinese
        };
        let candidates = [
            (self.cyrillic, cyrillic),
            (self.greek, Language::Greek),
            (self.arabic, Language::Arabic),
            (self.hebrew, Language::Hebrew),
            ((self.han + self.kana) * 3, east_asian),
            (self.hangul * 3, Language::Korean),
            (self.devanagari, Language::Hindi),
            (self.thai, Language::Thai),
        ];
        let (weight, language) = candidates.into_iter().max_by_key(|(weight, _)| *weight)?;
        (weight > 0 && weight >= self.latin).then_some(language)
    }
}

/// The language of `text`: see the module docs for how. Never fails; text with no letters, or
/// too little to go by, is [`Language::Unknown`].
pub fn detect_language(text: &str) -> Language {
    let text = truncate_at_char_boundary(text, MAX_SCAN_BYTES);
    let scripts = Scripts::count(text);
    match scripts.dominant_non_latin() {
        Some(Language::Russian) => return ukrainian_or_russian(text),
        Some(language) => return language,
        None => {}
    }
    if scripts.latin == 0 {
        return Language::Unknown;
    }
    latin_language(text, &scripts)
}

fn truncate_at_char_boundary(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Per-language evidence in [`LATIN`] order: distinct stop words, how many of them are strong
/// (not also English words), and English's own score, where a weak word counts half.
#[derive(Default)]
struct Evidence {
    hits: [u32; LATIN.len()],
    strong: [u32; LATIN.len()],
    english: f64,
    words: usize,
}

/// Most distinct stop words a text can mark (the lists hold about 1,100).
const MAX_STOP_WORDS: usize = 2048;

/// Counts each distinct stop word of a text once.
struct Marker<'a> {
    stop: &'a StopWords,
    seen: [u64; MAX_STOP_WORDS / 64],
    evidence: Evidence,
}

impl Marker<'_> {
    fn mark(&mut self, word: &[u8]) {
        let Some(&StopWord {
            languages,
            weak,
            id,
        }) = self.stop.words.get(word)
        else {
            return;
        };
        let (slot, bit) = (usize::from(id) / 64 % self.seen.len(), 1u64 << (id % 64));
        if self.seen[slot] & bit != 0 {
            return;
        }
        self.seen[slot] |= bit;
        let evidence = &mut self.evidence;
        if languages & 1 == 1 {
            evidence.english += if weak { 0.5 } else { 1.0 };
        }
        for i in 0..LATIN.len() {
            let listed = u32::from(languages >> i & 1);
            evidence.hits[i] += listed;
            evidence.strong[i] += if weak { 0 } else { listed };
        }
    }

    /// One lowercased word (apostrophes as ASCII "'"), and its elided article or pronoun
    /// ("l'avion", "dell'ordine", "c'è").
    fn word(&mut self, word: &[u8]) {
        self.evidence.words += 1;
        if word.len() > self.stop.longest && !word.contains(&b'\'') {
            return;
        }
        self.mark(word);
        if let Some(apostrophe) = word.iter().position(|&b| b == b'\'') {
            self.mark(&word[..=apostrophe]);
        }
    }
}

/// Decides between the Latin-script languages by distinct stop words.
fn latin_language(text: &str, scripts: &Scripts) -> Language {
    let mut marker = Marker {
        stop: &STOP_WORDS,
        seen: [0; MAX_STOP_WORDS / 64],
        evidence: Evidence::default(),
    };
    let mut word: Vec<u8> = Vec::with_capacity(32);
    if text.is_ascii() {
        // Words are runs of letters and apostrophes, apostrophes trimmed at the ends.
        for raw in text
            .as_bytes()
            .split(|&b| !(b.is_ascii_alphabetic() || b == b'\''))
        {
            let start = raw.iter().position(|&b| b != b'\'').unwrap_or(raw.len());
            let end = raw
                .iter()
                .rposition(|&b| b != b'\'')
                .map_or(start, |i| i + 1);
            if start == end {
                continue;
            }
            word.clear();
            word.extend(raw[start..end].iter().map(u8::to_ascii_lowercase));
            marker.word(&word);
        }
    } else {
        let mut utf8 = [0u8; 4];
        for raw in text.split(|c: char| !(c.is_alphabetic() || c == '\'' || c == '’')) {
            let raw = raw.trim_matches(|c| c == '\'' || c == '’');
            if raw.is_empty() {
                continue;
            }
            word.clear();
            for c in raw.chars().flat_map(char::to_lowercase) {
                let c = if c == '’' { '\'' } else { c };
                word.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
            marker.word(&word);
        }
    }
    let mut evidence = marker.evidence;
    if scripts.marked != 0 {
        for (i, &language) in LATIN.iter().enumerate() {
            evidence.hits[i] += (scripts.marked & mask_of(unique_letters(language))).count_ones();
        }
    }
    if scripts.inverted_question {
        evidence.hits[SPANISH] += 1;
    }
    decide(&evidence, scripts.marked)
}

/// English unless another language has clearly more distinct stop words; see the module docs.
fn decide(evidence: &Evidence, marked: u64) -> Language {
    let english = evidence.english;
    let mut best = (0u32, 0u32, 0usize);
    for (i, &language) in LATIN.iter().enumerate().skip(1) {
        let bonus = if marked == 0 {
            0
        } else {
            (marked & mask_of(tie_break_letters(language))).count_ones()
        };
        let key = (evidence.hits[i], bonus);
        if key > (best.0, best.1) {
            best = (key.0, key.1, i);
        }
    }
    let (other, _, index) = best;
    if other == 0 {
        return if english > 0.0 {
            Language::English
        } else {
            Language::Unknown
        };
    }
    let clear_majority = other >= 2 && f64::from(other) > 2.0 * english;
    // "merci", "danke schön", "muchas gracias": nothing English and mostly strong foreign words.
    let short_and_foreign = evidence.words <= 3
        && english == 0.0
        && evidence.strong[index] >= 1
        && 2 * other as usize >= evidence.words;
    if clear_majority || short_and_foreign {
        LATIN[index]
    } else if english > 0.0 {
        Language::English
    } else {
        Language::Unknown
    }
}

/// Ukrainian or Russian for Cyrillic text without a Ukrainian-only letter, by frequent words.
fn ukrainian_or_russian(text: &str) -> Language {
    let (mut uk, mut ru) = (0usize, 0usize);
    for word in text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
    {
        let word = word.to_lowercase();
        uk += usize::from(UK_WORDS.split_whitespace().any(|w| w == word));
        ru += usize::from(RU_WORDS.split_whitespace().any(|w| w == word));
    }
    if uk > ru {
        Language::Ukrainian
    } else {
        Language::Russian
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spanish_index_is_right_and_ids_fit_the_marker() {
        assert_eq!(LATIN[SPANISH], Language::Spanish);
        assert!(STOP_WORDS.words.len() <= MAX_STOP_WORDS);
    }

    #[test]
    fn codes_round_trip() {
        for language in ALL {
            assert_eq!(Language::from_code(language.code()), Some(language));
        }
    }

    #[test]
    fn stop_word_lists_have_no_duplicates_within_a_language() {
        for list in [EN, FR, DE, ES, IT, PT, NL, SV, PL, TR, UK_WORDS, RU_WORDS] {
            let mut words: Vec<&str> = list.split_whitespace().collect();
            let n = words.len();
            words.sort_unstable();
            words.dedup();
            assert_eq!(words.len(), n, "{}", &list[..20]);
        }
    }

    #[test]
    fn no_foreign_list_contains_an_english_list_word() {
        let english: Vec<&str> = EN.split_whitespace().collect();
        assert!(EN_WEAK.split_whitespace().all(|w| !english.contains(&w)));
        let weak = [
            FR_WEAK, DE_WEAK, ES_WEAK, IT_WEAK, PT_WEAK, NL_WEAK, SV_WEAK, PL_WEAK, TR_WEAK,
        ];
        for list in [FR, DE, ES, IT, PT, NL, SV, PL, TR].into_iter().chain(weak) {
            for word in list.split_whitespace() {
                assert!(
                    !english.contains(&word),
                    "{word} is in the English list too"
                );
            }
        }
    }

    #[test]
    fn texts_without_letters_are_unknown() {
        for text in ["", "   ", "12345", "!!!???", "😁😁", ":) :("] {
            assert_eq!(detect_language(text), Language::Unknown, "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn any_text_gets_a_language(text in any::<String>()) {
            let _ = detect_language(&text);
        }
    }
}
