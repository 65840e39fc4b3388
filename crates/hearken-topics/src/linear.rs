//! Multinomial logistic regression (softmax) over sparse vectors, trained by stochastic gradient
//! descent with L2 regularisation.
//!
//! Weights are stored feature-major (`w[feature * k + class]`), so scoring a sparse text walks a
//! few hundred contiguous rows of `k` floats, which the compiler vectorises. The L2 shrinkage is
//! applied through one global scale factor (Bottou's trick), so each step costs only the text's
//! non-zeros, never the whole weight matrix.

use crate::features::Csr;

/// A trained softmax layer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Linear {
    pub k: usize,
    pub w: Vec<f32>,
    pub b: Vec<f32>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct SgdConfig {
    pub epochs: u32,
    pub learning_rate: f32,
    /// L2 penalty per example (lambda in `loss + lambda/2 * |w|^2`).
    pub l2: f32,
    /// Share of a text's features hidden at each step (dropout training).
    pub dropout: f32,
    /// Weigh each example by `n / (k * n_class)` so every class counts the same in the loss.
    pub balance: bool,
    /// Average the weights at the end of this many final epochs (1: the last iterate only).
    /// Averaging iterates (Polyak & Juditsky 1992) smooths out where the last noisy steps of
    /// dropout SGD happened to land, so models trained with different seeds agree more.
    pub average_epochs: u32,
    pub seed: u64,
}

/// A small, stable pseudo-random generator (SplitMix64). Its own so that a dependency upgrade can
/// never change which model a seed trains.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0); the tiny modulo bias does not matter for shuffling.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

// The numeric kernels have two bodies computing the same thing. Optimised builds use the
// forms LLVM vectorises best (plain zips; four partial sums for the dot product). Unoptimised
// builds, which is how the test profile compiles this crate, use `while` loops over four lanes,
// because there every iterator step is a function call: that alone made the banking77 tests
// several times slower.

/// `y += a * x`.
#[cfg(not(debug_assertions))]
#[inline]
pub(crate) fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (yy, xx) in y.iter_mut().zip(x) {
        *yy += a * xx;
    }
}

/// `y += a * x` with `x` in bf16.
#[cfg(not(debug_assertions))]
#[inline]
pub(crate) fn axpy_bf16(a: f32, x: &[u16], y: &mut [f32]) {
    for (yy, &xx) in y.iter_mut().zip(x) {
        *yy += a * from_bf16(xx);
    }
}

/// `y += a * x` in f64.
#[cfg(not(debug_assertions))]
#[inline]
pub(crate) fn axpy64(a: f64, x: &[f64], y: &mut [f64]) {
    for (yy, xx) in y.iter_mut().zip(x) {
        *yy += a * xx;
    }
}

/// `x . y` in f64, with four partial sums.
#[cfg(not(debug_assertions))]
#[inline]
pub(crate) fn dot64(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    let mut acc = [0.0f64; 4];
    let (xc, yc) = (x.chunks_exact(4), y.chunks_exact(4));
    let rest: f64 = xc
        .remainder()
        .iter()
        .zip(yc.remainder())
        .map(|(a, b)| a * b)
        .sum();
    for (xx, yy) in xc.zip(yc) {
        acc[0] += xx[0] * yy[0];
        acc[1] += xx[1] * yy[1];
        acc[2] += xx[2] * yy[2];
        acc[3] += xx[3] * yy[3];
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + rest
}

#[cfg(debug_assertions)]
pub(crate) use unoptimised::{axpy, axpy_bf16, axpy64, dot64};

#[cfg(debug_assertions)]
mod unoptimised {
    use super::from_bf16;

    macro_rules! lanes {
        ($n:expr, $i:ident, $body:block) => {
            let mut $i = 0;
            while $i + 4 <= $n {
                $body;
                $i += 1;
                $body;
                $i += 1;
                $body;
                $i += 1;
                $body;
                $i += 1;
            }
            while $i < $n {
                $body;
                $i += 1;
            }
        };
    }

    pub(crate) fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
        let n = x.len().min(y.len());
        lanes!(n, i, { y[i] += a * x[i] });
    }

    pub(crate) fn axpy_bf16(a: f32, x: &[u16], y: &mut [f32]) {
        let n = x.len().min(y.len());
        lanes!(n, i, { y[i] += a * from_bf16(x[i]) });
    }

    pub(crate) fn axpy64(a: f64, x: &[f64], y: &mut [f64]) {
        let n = x.len().min(y.len());
        lanes!(n, i, { y[i] += a * x[i] });
    }

    pub(crate) fn dot64(x: &[f64], y: &[f64]) -> f64 {
        let n = x.len().min(y.len());
        let mut s = 0.0;
        lanes!(n, i, { s += x[i] * y[i] });
        s
    }
}

/// The first `k` of every `stride` values.
fn unpad(w: &[f32], k: usize, stride: usize) -> Vec<f32> {
    w.chunks_exact(stride)
        .flat_map(|r| &r[..k])
        .copied()
        .collect()
}

/// `out[..stride] += sum of val[i] * row(idx[i])` of a row-major matrix with padded rows, in
/// the order of [`Bf16Rows::gather`] and for the same reason (training is memory-bound too).
fn gather_f32(w: &[f32], stride: usize, idx: &[u32], val: &[f32], out: &mut [f32]) {
    for c0 in (0..stride).step_by(LANES) {
        let mut acc = [0f32; LANES];
        for (&j, &a) in idx.iter().zip(val) {
            let o = j as usize * stride + c0;
            // Every column index is below the matrix's row count (the vectorizer made both).
            if let Some(x) = w
                .get(o..o + LANES)
                .and_then(|x| <&[f32; LANES]>::try_from(x).ok())
            {
                for (acc, &x) in acc.iter_mut().zip(x) {
                    *acc += a * x;
                }
            }
        }
        if let Some(out) = out.get_mut(c0..c0 + LANES) {
            for (o, a) in out.iter_mut().zip(acc) {
                *o += a;
            }
        }
    }
}

/// In-place softmax with the vectorising [`exp_neg`].
pub(crate) fn softmax(z: &mut [f32]) {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    z.iter_mut().for_each(|v| *v = exp_neg(*v - max));
    let mut acc = [0f32; 8];
    let chunks = z.chunks_exact(8);
    let rest: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    let inv = 1.0 / (acc.iter().sum::<f32>() + rest);
    z.iter_mut().for_each(|v| *v *= inv);
}

/// bfloat16: the top 16 bits of an f32, rounded to nearest even. Keeps 8 bits of mantissa,
/// ample for weights, and halves the memory that prediction reads (it was memory-bound).
pub(crate) fn to_bf16(x: f32) -> u16 {
    let bits = x.to_bits();
    let round = 0x7fff + ((bits >> 16) & 1);
    (bits.wrapping_add(round) >> 16) as u16
}

pub(crate) fn from_bf16(h: u16) -> f32 {
    f32::from_bits(u32::from(h) << 16)
}

/// Classes per step of [`Bf16Rows::gather`]: 16 bf16 values are 32 bytes, four SSE registers
/// of accumulators.
pub(crate) const LANES: usize = 16;

/// A row-major bf16 matrix with `k` values per row, each row padded with zeros to a multiple of
/// [`LANES`] so that prediction walks whole fixed-size chunks (no remainder loop).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Bf16Rows {
    pub k: usize,
    stride: usize,
    data: Vec<u16>,
}

impl Bf16Rows {
    /// Rows of `k` values taken in order from `values` (whose length is a multiple of `k`).
    pub fn new(k: usize, values: impl IntoIterator<Item = u16>) -> Bf16Rows {
        let stride = k.div_ceil(LANES) * LANES;
        let mut data = Vec::new();
        let mut in_row = 0;
        for v in values {
            data.push(v);
            in_row += 1;
            if in_row == k {
                data.resize(data.len() + stride - k, 0);
                in_row = 0;
            }
        }
        Bf16Rows { k, stride, data }
    }

    pub fn from_f32(k: usize, values: &[f32]) -> Bf16Rows {
        Bf16Rows::new(k, values.iter().map(|&x| to_bf16(x)))
    }

    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Row `j` without its padding.
    pub fn row(&self, j: usize) -> &[u16] {
        &self.data[j * self.stride..j * self.stride + self.k]
    }

    /// All values row by row, without padding (the saved form).
    pub fn values(&self) -> impl Iterator<Item = u16> + '_ {
        self.data
            .chunks_exact(self.stride.max(1))
            .flat_map(|r| &r[..self.k])
            .copied()
    }

    /// `out[..stride] += sum of a * row(j)` over `rows` of `(j, a)`.
    ///
    /// Walks the classes in chunks on the outside and the rows on the inside: prediction is
    /// bound by fetching rows from memory, and this order lets the processor have the next
    /// chunk of every row in flight at once (row by row, the loads queue behind each row's
    /// arithmetic and only a row or two are fetched at a time). With the vectorised softmax
    /// and batched lookups it made prediction about 20% faster on banking77.
    pub fn gather(&self, rows: &[(u32, f32)], out: &mut [f32]) {
        for c0 in (0..self.stride).step_by(LANES) {
            let mut acc = [0f32; LANES];
            for &(j, a) in rows {
                let o = j as usize * self.stride + c0;
                // In range for every row index the model made; an impossible miss adds nothing.
                if let Some(x) = self
                    .data
                    .get(o..o + LANES)
                    .and_then(|x| <&[u16; LANES]>::try_from(x).ok())
                {
                    for (acc, &x) in acc.iter_mut().zip(x) {
                        *acc += a * from_bf16(x);
                    }
                }
            }
            if let Some(out) = out.get_mut(c0..c0 + LANES) {
                for (o, a) in out.iter_mut().zip(acc) {
                    *o += a;
                }
            }
        }
    }
}

/// A softmax layer as used for prediction: bf16 weights (feature-major, padded rows), f32
/// biases.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Compact {
    pub k: usize,
    pub w: Bf16Rows,
    pub b: Vec<f32>,
}

impl Compact {
    pub fn from_linear(l: &Linear) -> Compact {
        Compact {
            k: l.k,
            w: Bf16Rows::from_f32(l.k, &l.w),
            b: l.b.clone(),
        }
    }

    /// `out += x . W` for sparse entries `(column, value)`.
    pub fn accumulate(&self, entries: &[(u32, f32)], out: &mut [f32]) {
        for &(j, v) in entries {
            axpy_bf16(v, self.w.row(j as usize), out);
        }
    }

    /// `out = b + x . W` for one sparse row (the slow path prediction is checked against).
    #[cfg(test)]
    pub fn scores(&self, idx: &[u32], val: &[f32], out: &mut [f32]) {
        out.copy_from_slice(&self.b);
        for (&j, &v) in idx.iter().zip(val) {
            axpy_bf16(v, self.w.row(j as usize), out);
        }
    }
}

/// `e^x` for `x <= 0` (arguments below -87 give 0), to about 2 ulp. Written as plain arithmetic
/// so that a loop over it vectorises, which `f32::exp` (a libm call) does not: the softmax over
/// a few dozen topics was a tenth of prediction time.
#[inline]
pub(crate) fn exp_neg(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding 1.5 * 2^23 rounds to an integer in the low mantissa bits (no SSE4 round needed).
    const SHIFT: f32 = 12_582_912.0;
    let x = x.max(-87.0);
    let t = x * LOG2E + SHIFT;
    let n = t - SHIFT;
    let r = x - n * LN2_HI - n * LN2_LO;
    // Cephes expf polynomial on [-ln2/2, ln2/2].
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let e = p * r * r + r + 1.0;
    // 2^n from the integer in t's low bits; n is in -126..=0 here.
    let n_int = t.to_bits().wrapping_sub(SHIFT.to_bits()) as i32;
    let pow2 = f32::from_bits(((n_int + 127) as u32) << 23);
    e * pow2
}

impl Linear {
    /// Trains on rows of `x` with classes `y` (each `< k`). Deterministic for a given seed.
    pub fn train(x: &Csr, y: &[u32], dim: usize, k: usize, cfg: &SgdConfig) -> Linear {
        // Rows padded to whole chunks while training, for `gather_f32`; stripped at the end.
        let stride = k.div_ceil(LANES) * LANES;
        let mut w = vec![0f32; dim * stride];
        let mut b = vec![0f32; k];
        // w_true = scale * w; shrinking `scale` applies the L2 step to every weight at once.
        let mut scale = 1.0f32;
        let mut rng = Rng::new(cfg.seed);
        let mut order: Vec<usize> = (0..x.rows()).collect();
        let mut z = vec![0f32; stride];
        let total = (cfg.epochs as usize * order.len()).max(1) as f32;
        let mut class_weight = vec![1.0f32; k];
        if cfg.balance {
            let mut counts = vec![0usize; k];
            y.iter().for_each(|&c| counts[c as usize] += 1);
            for (w, &c) in class_weight.iter_mut().zip(&counts) {
                *w = if c > 0 {
                    y.len() as f32 / (k * c) as f32
                } else {
                    0.0
                };
            }
        }
        let mut t = 0usize;
        let (mut kidx, mut kval) = (Vec::new(), Vec::new());
        let keep = 1.0 - cfg.dropout;
        let keep_bits = (f64::from(keep) * (1u64 << 32) as f64) as u64;
        let n_avg = cfg.average_epochs.clamp(1, cfg.epochs);
        let (mut sum_w, mut sum_b) = (Vec::new(), vec![0f32; k]);
        for epoch in 0..cfg.epochs {
            rng.shuffle(&mut order);
            for &i in &order {
                // Linear decay to zero: large steps early, a settled model at the end.
                let lr = cfg.learning_rate * (1.0 - t as f32 / total);
                t += 1;
                let (idx, val) = x.row(i);
                let (idx, val) = if cfg.dropout > 0.0 {
                    kidx.clear();
                    kval.clear();
                    for (&j, &v) in idx.iter().zip(val) {
                        if rng.next_u64() >> 32 < keep_bits {
                            kidx.push(j);
                            kval.push(v / keep);
                        }
                    }
                    (&kidx[..], &kval[..])
                } else {
                    (idx, val)
                };
                z.iter_mut().for_each(|v| *v = 0.0);
                gather_f32(&w, stride, idx, val, &mut z);
                for (zc, &bc) in z.iter_mut().zip(&b) {
                    // The sum used the unscaled weights.
                    *zc = *zc * scale + bc;
                }
                softmax(&mut z[..k]);
                z[y[i] as usize] -= 1.0;
                let cw = class_weight[y[i] as usize];
                if cw != 1.0 {
                    z.iter_mut().for_each(|g| *g *= cw);
                }
                scale *= 1.0 - lr * cfg.l2;
                let step = lr / scale;
                for (&j, &v) in idx.iter().zip(val) {
                    let j = j as usize;
                    axpy(-step * v, &z[..k], &mut w[j * stride..j * stride + k]);
                }
                axpy(-lr, &z, &mut b);
                if scale < 1e-4 {
                    for v in &mut w {
                        *v *= scale;
                    }
                    scale = 1.0;
                }
            }
            if n_avg > 1 && epoch + n_avg >= cfg.epochs {
                if sum_w.is_empty() {
                    sum_w = vec![0f32; w.len()];
                }
                axpy(scale, &w, &mut sum_w);
                axpy(1.0, &b, &mut sum_b);
            }
        }
        if n_avg > 1 {
            let inv = 1.0 / n_avg as f32;
            sum_w.iter_mut().for_each(|v| *v *= inv);
            sum_b.iter_mut().for_each(|v| *v *= inv);
            return Linear {
                k,
                w: unpad(&sum_w, k, stride),
                b: sum_b,
            };
        }
        for v in &mut w {
            *v *= scale;
        }
        Linear {
            k,
            w: unpad(&w, k, stride),
            b,
        }
    }
}
