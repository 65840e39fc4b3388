//! Theme discovery in unlabelled texts: TF-IDF features, an LSA projection, spherical k-means
//! (k-means++ seeding, several restarts, the best kept), then for each cluster its key phrases,
//! size, most typical texts and, when timestamps are given, its count per week.
//!
//! Deterministic for a given seed. Owns no storage: the caller decides what to keep.

use std::collections::{BTreeMap, HashMap};

use hearken_model::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{Result, TopicsError, bad_option};
use crate::features::{FeatureConfig, Vectorizer};
use crate::linear::{Rng, axpy64, dot64};
use crate::lsa::lsa;
use crate::text::{self, NgramRange, Scratch};

/// How to look for themes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThemeConfig {
    /// Number of themes to find (cut to the number of distinct non-empty texts).
    pub k: usize,
    pub features: FeatureConfig,
    /// Dimensions of the LSA projection before clustering; 0 clusters the raw TF-IDF vectors.
    pub lsa_dims: usize,
    /// k-means runs from different seeds; the tightest is kept.
    pub restarts: usize,
    pub max_iter: usize,
    /// Key phrases per theme (3-5 reads well).
    pub key_phrases: usize,
    /// Example texts per theme, most typical first.
    pub examples: usize,
    pub seed: u64,
}

impl Default for ThemeConfig {
    fn default() -> ThemeConfig {
        ThemeConfig {
            k: 20,
            features: FeatureConfig {
                word_ngrams: NgramRange::new(1, 2),
                char_ngrams: NgramRange::new(2, 5),
                min_df: 2,
                ..FeatureConfig::default()
            },
            lsa_dims: 100,
            restarts: 4,
            max_iter: 40,
            key_phrases: 5,
            examples: 3,
            seed: 7,
        }
    }
}

/// Texts of one theme in one week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekCount {
    /// Monday 00:00 UTC starting the week (ISO 8601 weeks); Unix seconds when serialised.
    #[serde(with = "unix_seconds")]
    pub week_start: Timestamp,
    pub count: usize,
}

/// A discovered theme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Theme {
    /// Key phrases, most characteristic first.
    pub key_phrases: Vec<String>,
    /// Number of texts in the theme.
    pub size: usize,
    /// Indices (into the input) of the most typical texts, most typical first.
    pub examples: Vec<usize>,
    /// Indices of all texts in the theme, ascending.
    pub members: Vec<usize>,
    /// Count per week, ascending, weeks without texts included as 0 between the first and last
    /// week of the whole input; empty when no timestamps were given.
    pub weekly: Vec<WeekCount>,
}

impl ThemeConfig {
    fn validate(&self) -> Result<()> {
        self.features.validate()?;
        if self.k == 0 {
            return Err(bad_option("k", "is 0; ask for at least one theme"));
        }
        if self.restarts == 0 || self.max_iter == 0 {
            return Err(bad_option("restarts", "and max_iter must be at least 1"));
        }
        Ok(())
    }
}

/// Finds themes in `texts`; `timestamps`, when given, must have one entry per text and add a
/// weekly trend to each theme. Texts with no usable feature (empty, punctuation only) belong to
/// no theme. Themes are returned largest first.
pub fn discover_themes(
    texts: &[&str],
    timestamps: Option<&[Timestamp]>,
    config: &ThemeConfig,
) -> Result<Vec<Theme>> {
    config.validate()?;
    if let Some(ts) = timestamps
        && ts.len() != texts.len()
    {
        return Err(TopicsError::TimestampCount {
            texts: texts.len(),
            timestamps: ts.len(),
        });
    }
    // Links, handles and addresses are not what a text is about: cluster and name themes on
    // the rest.
    let cleaned: Vec<std::borrow::Cow<'_, str>> =
        texts.iter().map(|t| text::strip_noise(t)).collect();
    let cleaned: Vec<&str> = cleaned.iter().map(|c| c.as_ref()).collect();
    let vectorizer = Vectorizer::fit(&config.features, cleaned.iter().copied())?;
    let x = vectorizer.transform_all(cleaned.iter().copied());
    let usable: Vec<usize> = (0..x.rows()).filter(|&i| !x.row(i).0.is_empty()).collect();
    if usable.is_empty() {
        return Ok(Vec::new());
    }
    // Points to cluster: LSA rows (or TF-IDF rows densified), unit length.
    let (mut points, d) = if config.lsa_dims > 0 {
        let mut sub = crate::features::Csr::new();
        for &i in &usable {
            let (idx, val) = x.row(i);
            sub.idx.extend_from_slice(idx);
            sub.val.extend_from_slice(val);
            sub.indptr.push(sub.idx.len());
        }
        lsa(&sub, vectorizer.dim(), config.lsa_dims, 2, config.seed)
    } else {
        let d = vectorizer.dim();
        let mut p = vec![0.0; usable.len() * d];
        for (r, &i) in usable.iter().enumerate() {
            let (idx, val) = x.row(i);
            for (&j, &v) in idx.iter().zip(val) {
                p[r * d + j as usize] = f64::from(v);
            }
        }
        (p, d)
    };
    if d == 0 {
        return Ok(Vec::new());
    }
    for row in points.chunks_exact_mut(d) {
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|v| *v /= norm);
        }
    }
    let k = config.k.min(usable.len());
    let mut rng = Rng::new(config.seed);
    let mut best: Option<(f64, Vec<usize>, Vec<f64>)> = None;
    for _ in 0..config.restarts {
        let run = spherical_kmeans(&points, d, k, config.max_iter, &mut rng);
        if best.as_ref().is_none_or(|b| run.0 > b.0) {
            best = Some(run);
        }
    }
    let Some((_, assign, centroids)) = best else {
        return Ok(Vec::new());
    };
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (r, &c) in assign.iter().enumerate() {
        groups[c].push(r);
    }
    let phrases = key_phrases(&cleaned, &usable, &assign, k, config.key_phrases);
    let weeks = timestamps.map(week_range);
    let mut themes: Vec<Theme> = groups
        .iter()
        .enumerate()
        .filter(|(_, g)| !g.is_empty())
        .map(|(c, g)| {
            let centre = &centroids[c * d..(c + 1) * d];
            let mut typical: Vec<(f64, usize)> = g
                .iter()
                .map(|&r| (dot(&points[r * d..(r + 1) * d], centre), usable[r]))
                .collect();
            typical.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let members: Vec<usize> = g.iter().map(|&r| usable[r]).collect();
            let weekly = match (&weeks, timestamps) {
                (Some(range), Some(ts)) => weekly_counts(&members, ts, *range),
                _ => Vec::new(),
            };
            Theme {
                key_phrases: phrases[c].clone(),
                size: g.len(),
                examples: typical.iter().take(config.examples).map(|t| t.1).collect(),
                members,
                weekly,
            }
        })
        .collect();
    themes.sort_by(|a, b| b.size.cmp(&a.size).then(a.members.cmp(&b.members)));
    Ok(themes)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    dot64(a, b)
}

/// One k-means run on unit vectors with cosine similarity; returns (total similarity,
/// assignment, centroids).
fn spherical_kmeans(
    points: &[f64],
    d: usize,
    k: usize,
    max_iter: usize,
    rng: &mut Rng,
) -> (f64, Vec<usize>, Vec<f64>) {
    let n = points.len() / d;
    let row = |i: usize| &points[i * d..(i + 1) * d];
    // k-means++: each next seed drawn with probability proportional to its squared distance
    // (2 - 2 cos for unit vectors) from the nearest seed so far.
    let mut centroids = Vec::with_capacity(k * d);
    let first = rng.below(n);
    centroids.extend_from_slice(row(first));
    let mut dist: Vec<f64> = (0..n)
        .map(|i| (2.0 - 2.0 * dot(row(i), row(first))).max(0.0))
        .collect();
    for _ in 1..k {
        let total: f64 = dist.iter().sum();
        let pick = if total <= 0.0 {
            rng.below(n)
        } else {
            let mut target = rng.unit() * total;
            let mut pick = n - 1;
            for (i, &w) in dist.iter().enumerate() {
                if target < w {
                    pick = i;
                    break;
                }
                target -= w;
            }
            pick
        };
        centroids.extend_from_slice(row(pick));
        for (i, di) in dist.iter_mut().enumerate() {
            *di = di.min((2.0 - 2.0 * dot(row(i), row(pick))).max(0.0));
        }
    }
    let mut assign = vec![usize::MAX; n];
    let mut sims = vec![0.0; n];
    for _ in 0..max_iter {
        let mut changed = false;
        for i in 0..n {
            let (mut bc, mut bs) = (0, f64::NEG_INFINITY);
            for c in 0..k {
                let s = dot(row(i), &centroids[c * d..(c + 1) * d]);
                if s > bs {
                    (bc, bs) = (c, s);
                }
            }
            sims[i] = bs;
            if assign[i] != bc {
                assign[i] = bc;
                changed = true;
            }
        }
        if !changed {
            break;
        }
        let mut sums = vec![0.0; k * d];
        let mut counts = vec![0usize; k];
        for (i, &c) in assign.iter().enumerate() {
            counts[c] += 1;
            axpy64(1.0, row(i), &mut sums[c * d..(c + 1) * d]);
        }
        for c in 0..k {
            if counts[c] == 0 {
                // An empty cluster takes the point its cluster fits worst.
                let worst = (0..n)
                    .min_by(|&a, &b| sims[a].total_cmp(&sims[b]))
                    .unwrap_or(0);
                sums[c * d..(c + 1) * d].copy_from_slice(row(worst));
                sims[worst] = 1.0;
            }
            let s = &mut sums[c * d..(c + 1) * d];
            let norm = s.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > 0.0 {
                s.iter_mut().for_each(|v| *v /= norm);
            }
        }
        centroids = sums;
    }
    // Final assignment against the final centroids.
    let mut total = 0.0;
    for (i, a) in assign.iter_mut().enumerate() {
        let (mut bc, mut bs) = (0, f64::NEG_INFINITY);
        for c in 0..k {
            let s = dot(row(i), &centroids[c * d..(c + 1) * d]);
            if s > bs {
                (bc, bs) = (c, s);
            }
        }
        *a = bc;
        total += bs;
    }
    (total, assign, centroids)
}

/// Word uni- and bigrams that best tell each cluster from the rest: a term scores
/// `p_c * ln(p_c / p)`, with `p_c` its document frequency share inside the cluster and `p` over
/// all texts, so words common everywhere ("my", "the") score near zero. Only content words and
/// phrases are candidates (no function words, numbers or symbols: see
/// [`text::is_content_phrase`]); a unigram already inside a chosen bigram is skipped.
fn key_phrases(
    texts: &[&str],
    usable: &[usize],
    assign: &[usize],
    k: usize,
    want: usize,
) -> Vec<Vec<String>> {
    let mut scratch = Scratch::default();
    let mut term_ids: HashMap<String, usize> = HashMap::new();
    let mut df_all: Vec<usize> = Vec::new();
    let mut df_in: Vec<HashMap<usize, usize>> = vec![HashMap::new(); k];
    let mut size = vec![0usize; k];
    let mut seen: Vec<usize> = Vec::new();
    for (r, &i) in usable.iter().enumerate() {
        let c = assign[r];
        size[c] += 1;
        text::tokenize(texts[i], &mut scratch);
        let toks: Vec<&str> = text::tokens(&scratch).collect();
        seen.clear();
        let grams = toks
            .iter()
            .map(|t| t.to_string())
            .chain(toks.windows(2).map(|w| format!("{} {}", w[0], w[1])));
        for g in grams {
            let next = term_ids.len();
            let id = *term_ids.entry(g).or_insert(next);
            if id == df_all.len() {
                df_all.push(0);
            }
            seen.push(id);
        }
        seen.sort_unstable();
        seen.dedup();
        for &id in &seen {
            df_all[id] += 1;
            *df_in[c].entry(id).or_default() += 1;
        }
    }
    let names: BTreeMap<usize, &str> = term_ids.iter().map(|(t, &i)| (i, t.as_str())).collect();
    let n = usable.len() as f64;
    (0..k)
        .map(|c| {
            if size[c] == 0 {
                return Vec::new();
            }
            let mut scored: Vec<(f64, usize)> = df_in[c]
                .iter()
                .filter(|&(_, &cnt)| cnt >= 2 || size[c] < 4)
                .filter(|&(&id, _)| names.get(&id).is_some_and(|t| text::is_content_phrase(t)))
                .map(|(&id, &cnt)| {
                    let pc = cnt as f64 / size[c] as f64;
                    let p = df_all[id] as f64 / n;
                    (pc * (pc / p).ln(), id)
                })
                .collect();
            // Equal scores (to 9 digits) go to the longer phrase: "top up" reads better than
            // "top". Quantising keeps the order total, which sort requires.
            let words = |id: usize| names.get(&id).map_or(0, |t| t.split(' ').count());
            scored.sort_by_key(|&(score, id)| {
                (
                    std::cmp::Reverse((score * 1e9).round() as i64),
                    std::cmp::Reverse(words(id)),
                    id,
                )
            });
            // First terms at least twice as common in the cluster as overall (so that words of
            // a large mixed cluster do not pass as its key phrases), then, if that leaves too
            // few, the best of the rest; a theme with fewer content words has fewer phrases.
            let lift = |id: usize| {
                let cnt = df_in[c].get(&id).copied().unwrap_or(0) as f64 / size[c] as f64;
                cnt / (df_all[id] as f64 / n)
            };
            let mut chosen: Vec<String> = Vec::new();
            for strict in [true, false] {
                for &(_, id) in &scored {
                    if chosen.len() == want {
                        break;
                    }
                    if strict && lift(id) < 2.0 {
                        continue;
                    }
                    let Some(&term) = names.get(&id) else {
                        continue;
                    };
                    let redundant = chosen.iter().any(|c| {
                        c == term
                            || c.split(' ').any(|w| w == term)
                            || term.split(' ').any(|w| w == c)
                    });
                    if !redundant {
                        chosen.push(term.to_string());
                    }
                }
            }
            chosen
        })
        .collect()
}

const DAY: i64 = 86_400;

/// `Timestamp` as Unix seconds; the model crate keeps its types free of a wire format.
mod unix_seconds {
    use hearken_model::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(t.unix())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        i64::deserialize(d).map(Timestamp::from_unix)
    }
}

/// Index of the Monday-starting week of a Unix time (1970-01-01 was a Thursday).
fn week_index(t: Timestamp) -> i64 {
    (t.unix().div_euclid(DAY) + 3).div_euclid(7)
}

/// First and last week of the whole input (empty texts included: they are part of the period).
fn week_range(ts: &[Timestamp]) -> (i64, i64) {
    let weeks = ts.iter().map(|&t| week_index(t));
    let lo = weeks.clone().min().unwrap_or(0);
    let hi = weeks.max().unwrap_or(0);
    (lo, hi)
}

fn weekly_counts(members: &[usize], ts: &[Timestamp], (lo, hi): (i64, i64)) -> Vec<WeekCount> {
    // Bounded by the input: at most one entry per week between the first and last text, and a
    // span over ~20 years is cut to keep a malformed timestamp from allocating absurdly.
    let hi = hi.min(lo + 52 * 20);
    let mut counts = vec![0usize; (hi - lo + 1) as usize];
    for &m in members {
        let w = week_index(ts[m]);
        if (lo..=hi).contains(&w) {
            counts[(w - lo) as usize] += 1;
        }
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| WeekCount {
            // Saturating: a timestamp near the end of i64 must not overflow into a panic.
            week_start: Timestamp::from_unix(
                (lo + i as i64)
                    .saturating_mul(7)
                    .saturating_sub(3)
                    .saturating_mul(DAY),
            ),
            count,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> ThemeConfig {
        ThemeConfig {
            k: 2,
            lsa_dims: 0,
            features: FeatureConfig {
                min_df: 1,
                ..FeatureConfig::default()
            },
            ..ThemeConfig::default()
        }
    }

    const TEXTS: [&str; 8] = [
        "my card has not arrived yet",
        "card still not arrived after a week",
        "when will my new card arrive",
        "the card has not arrived",
        "how do i top up with cash",
        "top up by bank transfer",
        "can i top up using apple pay",
        "",
    ];

    #[test]
    fn two_obvious_themes_are_found_with_their_words() {
        let themes = discover_themes(&TEXTS, None, &small()).unwrap();
        assert_eq!(themes.len(), 2);
        assert_eq!(themes[0].members, [0, 1, 2, 3]);
        assert_eq!(themes[1].members, [4, 5, 6]);
        assert!(themes[0].key_phrases.iter().any(|p| p.contains("arrived")));
        assert!(themes[1].key_phrases.iter().any(|p| p.contains("top up")));
        assert!(themes[0].weekly.is_empty());
        let lsa = ThemeConfig {
            lsa_dims: 3,
            ..small()
        };
        let again = discover_themes(&TEXTS, None, &lsa).unwrap();
        assert_eq!(again[0].members, themes[0].members);
    }

    #[test]
    fn weekly_counts_start_on_monday_and_fill_gaps() {
        let monday = Timestamp::from_ymd(2024, 3, 4).unwrap();
        let ts: Vec<Timestamp> = (0..TEXTS.len() as i64)
            .map(|i| Timestamp::from_unix(monday.unix() + i * 4 * DAY))
            .collect();
        let themes = discover_themes(&TEXTS, Some(&ts), &small()).unwrap();
        let w = &themes[1].weekly;
        // Texts span days 0..28 -> five weeks from 2024-03-04.
        assert_eq!(w.len(), 5);
        assert_eq!(w[0].week_start, monday);
        assert_eq!(w.iter().map(|c| c.count).sum::<usize>(), 3);
        // Absurd timestamps give a bounded trend, not an overflow.
        let mut wild = ts.clone();
        wild[0] = Timestamp::from_unix(i64::MIN);
        wild[1] = Timestamp::from_unix(i64::MAX);
        let themes = discover_themes(&TEXTS, Some(&wild), &small()).unwrap();
        assert!(themes.iter().all(|t| t.weekly.len() <= 52 * 20 + 1));
        let e = discover_themes(&TEXTS, Some(&ts[..2]), &small()).unwrap_err();
        assert!(matches!(e, TopicsError::TimestampCount { .. }));
    }

    /// Support tweets: handles, links, numbers and function words everywhere; the key phrases
    /// must still be the words that say what each theme is about.
    #[test]
    fn key_phrases_of_tweets_are_content_words() {
        let texts = [
            "@AmazonHelp my package never arrived, order 112-3456 https://t.co/aB3dE @AmazonHelp",
            "@AmazonHelp where is my package?? tracking says delivered but nothing https://t.co/xx1",
            "@AmazonHelp package was not delivered and the driver never came to the door",
            "RT @AmazonHelp: my package is lost again, 3rd time this month https://t.co/q9",
            "@AmazonHelp package missing, tracking number 9876543210 shows delivered",
            "@AppleSupport my iphone battery drains so fast after the update https://t.co/zz",
            "@AppleSupport battery dies in 2 hours since the ios update, please help",
            "@AppleSupport the update killed my battery &amp; now the phone is hot",
            "@AppleSupport iphone battery at 40% after one hour, update broke it",
            "@AppleSupport is there a fix for the battery drain on the latest update? www.apple.com/x",
        ];
        let themes = discover_themes(&texts, None, &small()).unwrap();
        assert_eq!(themes.len(), 2);
        let all: Vec<&String> = themes.iter().flat_map(|t| &t.key_phrases).collect();
        assert!(!all.is_empty());
        for p in &all {
            assert!(
                text::is_content_phrase(p),
                "'{p}' is not a content phrase: {all:?}"
            );
            for bad in [
                "amazonhelp",
                "applesupport",
                "https",
                "co",
                "rt",
                "amp",
                "@",
            ] {
                assert!(
                    !p.split(' ').any(|w| w == bad),
                    "'{p}' has '{bad}': {all:?}"
                );
            }
        }
        assert!(all.iter().any(|p| p.contains("package")), "{all:?}");
        assert!(all.iter().any(|p| p.contains("battery")), "{all:?}");
    }

    #[test]
    fn empty_input_gives_no_themes_and_k_zero_is_rejected() {
        assert_eq!(discover_themes(&[], None, &small()).unwrap(), []);
        assert_eq!(discover_themes(&["", " ... "], None, &small()).unwrap(), []);
        let bad = ThemeConfig { k: 0, ..small() };
        assert!(discover_themes(&TEXTS, None, &bad).is_err());
    }
}
