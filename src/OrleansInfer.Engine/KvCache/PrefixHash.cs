using System.Runtime.InteropServices;

namespace OrleansInfer.Engine.KvCache;

/// <summary>
/// The prefix cache's block keys: each full block of tokens hashed together with the previous block's hash, so a
/// key stands for the whole prefix up to its block. Routers compute the same keys to find which worker already
/// holds a prompt's leading blocks.
/// </summary>
public static class PrefixHash
{
    /// <summary>The hash of one block given the previous block's (0 for the first).</summary>
    public static ulong Block(ulong parent, ReadOnlySpan<int> tokens)
    {
        var h = parent ^ 0x9E3779B97F4A7C15UL;
        foreach (var t in MemoryMarshal.Cast<int, uint>(tokens))
        {
            h ^= t;
            h *= 0xBF58476D1CE4E5B9UL;
            h ^= h >> 31;
        }
        h ^= (ulong)tokens.Length;
        h *= 0x94D049BB133111EBUL;
        return h ^ (h >> 29);
    }

    /// <summary>The chained hashes of every full block of <paramref name="tokens"/>.</summary>
    public static ulong[] Chain(ReadOnlySpan<int> tokens, int blockSize)
    {
        var hashes = new ulong[tokens.Length / blockSize];
        ulong parent = 0;
        for (var b = 0; b < hashes.Length; b++) parent = hashes[b] = Block(parent, tokens.Slice(b * blockSize, blockSize));
        return hashes;
    }
}
