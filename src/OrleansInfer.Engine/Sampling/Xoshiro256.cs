namespace OrleansInfer.Engine.Sampling;

/// <summary>
/// xoshiro256** with SplitMix64 seeding: a small generator whose whole state can be saved and restored, so a
/// seeded request draws the same numbers on any machine, in any batch, and after a move between workers.
/// </summary>
public struct Xoshiro256
{
    private ulong _s0, _s1, _s2, _s3;

    public Xoshiro256(ulong seed)
    {
        _s0 = SplitMix(ref seed);
        _s1 = SplitMix(ref seed);
        _s2 = SplitMix(ref seed);
        _s3 = SplitMix(ref seed);
    }

    public readonly (ulong, ulong, ulong, ulong) State => (_s0, _s1, _s2, _s3);

    public static Xoshiro256 FromState((ulong S0, ulong S1, ulong S2, ulong S3) state) =>
        new() { _s0 = state.S0, _s1 = state.S1, _s2 = state.S2, _s3 = state.S3 };

    public ulong NextUInt64()
    {
        var result = RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));

    private static ulong SplitMix(ref ulong x)
    {
        var z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
