//! The generator's own random numbers: xoshiro256++ seeded through SplitMix64, and the handful of
//! distributions the simulation draws from.
//!
//! Kept in-crate on purpose: "same seed, same bytes, always" must not depend on the version of a
//! random-number crate or on how it implements a distribution. Both algorithms are the published
//! ones (Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2021).

/// One step of SplitMix64: a good 64-bit mixer, used to expand seeds into generator states.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xoshiro256++: fast, small, statistically strong for simulation (not for cryptography).
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// An independent stream for `(seed, stream)`, e.g. one per chunk of customers, so chunks can
    /// be generated on any thread in any order and still give the same numbers.
    pub(crate) fn new(seed: u64, stream: u64) -> Rng {
        let mut sm = seed;
        let mixed_seed = splitmix64(&mut sm);
        let mut sm = mixed_seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
        let mut s = [0u64; 4];
        for word in &mut s {
            *word = splitmix64(&mut sm);
        }
        // An all-zero state is the one state xoshiro cannot leave; SplitMix64 never yields four
        // zeros in a row, but keep the guard so the invariant is local.
        if s == [0; 4] {
            s[0] = 1;
        }
        Rng { s }
    }

    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform on [0, 1).
    #[inline]
    pub(crate) fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform on 0..n (n > 0). Lemire's multiply-shift; the bias for the small n used here is
    /// below 2^-32 and irrelevant to a simulation.
    #[inline]
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * u64::from(n)) >> 32) as u32
    }

    /// Uniform on lo..hi (hi > lo), for seconds and similar i64 spans.
    #[inline]
    pub(crate) fn range_i64(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo).max(1) as u64;
        lo + ((u128::from(self.next_u64()) * u128::from(span)) >> 64) as i64
    }

    #[inline]
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Standard normal (Box-Muller, one of the pair).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.f64(); // (0, 1]: ln is finite
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Exponential with the given mean.
    pub(crate) fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.f64()).ln()
    }

    /// Poisson(lambda). Inversion by sequential search below 30 (exact); above, the normal
    /// approximation, which is within a fraction of a percent there and keeps the cost flat.
    pub(crate) fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 || !lambda.is_finite() {
            return 0;
        }
        if lambda < 30.0 {
            let u = self.f64();
            let mut p = (-lambda).exp();
            let mut cdf = p;
            let mut k = 0u64;
            while u > cdf && k < 200 {
                k += 1;
                p *= lambda / k as f64;
                cdf += p;
            }
            k
        } else {
            let x = lambda + lambda.sqrt() * self.normal();
            x.round().max(0.0) as u64
        }
    }
}

/// A categorical distribution as a cumulative table scaled to 2^32, drawn with one random number
/// and a binary search.
#[derive(Debug, Clone)]
pub(crate) struct Categorical {
    cum: Vec<u64>,
}

impl Categorical {
    /// Weights need not sum to one; negative or non-finite weights count as zero. An all-zero
    /// table draws index 0.
    pub(crate) fn new(weights: &[f64]) -> Categorical {
        let clean: Vec<f64> = weights
            .iter()
            .map(|w| if w.is_finite() && *w > 0.0 { *w } else { 0.0 })
            .collect();
        let total: f64 = clean.iter().sum();
        let mut cum = Vec::with_capacity(clean.len());
        let mut acc = 0.0;
        for w in &clean {
            acc += w;
            let c = if total > 0.0 { acc / total } else { 1.0 };
            cum.push((c * 4_294_967_296.0) as u64);
        }
        if let Some(last) = cum.last_mut() {
            *last = 1 << 32;
        }
        Categorical { cum }
    }

    #[inline]
    pub(crate) fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.next_u64() >> 32;
        self.cum
            .partition_point(|&c| c <= u)
            .min(self.cum.len().saturating_sub(1))
    }
}

/// Standard normal CDF (Abramowitz & Stegun 7.1.26 erf, |error| < 1.5e-7), for the intended
/// Pareto shares written to the truth.
pub(crate) fn normal_cdf(x: f64) -> f64 {
    let z = x / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    let erf = if z >= 0.0 { erf } else { -erf };
    0.5 * (1.0 + erf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..8).map(|_| Rng::new(7, 3).next_u64()).collect();
        assert!(
            a.windows(2).all(|w| w[0] == w[1]),
            "same seed and stream, same first value"
        );
        let mut x = Rng::new(7, 3);
        let mut y = Rng::new(7, 4);
        let mut z = Rng::new(8, 3);
        let xs: Vec<u64> = (0..16).map(|_| x.next_u64()).collect();
        let ys: Vec<u64> = (0..16).map(|_| y.next_u64()).collect();
        let zs: Vec<u64> = (0..16).map(|_| z.next_u64()).collect();
        assert_ne!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn moments_match_the_distributions() {
        let mut r = Rng::new(1, 0);
        let n = 200_000;
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let var = |v: &[f64]| {
            let m = mean(v);
            v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64
        };
        let u: Vec<f64> = (0..n).map(|_| r.f64()).collect();
        assert!((mean(&u) - 0.5).abs() < 0.005);
        assert!(u.iter().all(|x| (0.0..1.0).contains(x)));
        let z: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        assert!(mean(&z).abs() < 0.01);
        assert!((var(&z) - 1.0).abs() < 0.02);
        let e: Vec<f64> = (0..n).map(|_| r.exp(3.0)).collect();
        assert!((mean(&e) - 3.0).abs() < 0.05);
        for lambda in [0.3, 4.0, 25.0, 80.0] {
            let p: Vec<f64> = (0..n).map(|_| r.poisson(lambda) as f64).collect();
            assert!(
                (mean(&p) - lambda).abs() < 0.02 * lambda.max(1.0),
                "{lambda}"
            );
            assert!(
                (var(&p) - lambda).abs() < 0.05 * lambda.max(1.0),
                "{lambda}"
            );
        }
        let counts = (0..n).fold([0u32; 7], |mut c, _| {
            c[r.below(7) as usize] += 1;
            c
        });
        for c in counts {
            assert!((f64::from(c) / n as f64 - 1.0 / 7.0).abs() < 0.005);
        }
    }

    #[test]
    fn categorical_follows_weights() {
        let mut r = Rng::new(2, 0);
        let cat = Categorical::new(&[1.0, 0.0, 3.0, -1.0, f64::NAN]);
        let mut counts = [0u32; 5];
        for _ in 0..100_000 {
            counts[cat.sample(&mut r)] += 1;
        }
        assert_eq!(counts[1] + counts[3] + counts[4], 0);
        let share = f64::from(counts[2]) / 100_000.0;
        assert!((share - 0.75).abs() < 0.01, "{share}");
        assert_eq!(Categorical::new(&[0.0, 0.0]).sample(&mut r), 0);
    }

    #[test]
    fn normal_cdf_matches_integrated_density() {
        // Composite Simpson's rule over the density, an independent route to the same numbers.
        let pdf = |x: f64| (-0.5 * x * x).exp() / (std::f64::consts::TAU).sqrt();
        let integrate = |to: f64| {
            let (a, n) = (-10.0, 20_000);
            let h = (to - a) / f64::from(n);
            let mut s = pdf(a) + pdf(to);
            for i in 1..n {
                let w = if i % 2 == 1 { 4.0 } else { 2.0 };
                s += w * pdf(a + h * f64::from(i));
            }
            s * h / 3.0
        };
        for x in [-2.5, -0.84, 0.0, 0.3, 1.0, 1.96, 3.0] {
            assert!((normal_cdf(x) - integrate(x)).abs() < 1e-6, "{x}");
            assert!((normal_cdf(x) + normal_cdf(-x) - 1.0).abs() < 1e-7);
        }
    }
}
