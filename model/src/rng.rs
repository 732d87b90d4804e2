//! The project's one small deterministic PRNG (xorshift64*): workloads,
//! generators and stall patterns that are the same on every machine and in
//! every crate (model, harnesses, CLI benchmarks).

#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seed 0 (a fixed point of xorshift) is taken as 1.
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// True with probability `p_percent`/100.
    pub fn chance(&mut self, p_percent: u8) -> bool {
        self.below(100) < u64::from(p_percent)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}
