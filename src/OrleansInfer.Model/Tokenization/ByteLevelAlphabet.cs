namespace OrleansInfer.Model.Tokenization;

/// <summary>
/// GPT-2's bytes_to_unicode: every byte gets a printable code point so byte-level BPE tokens are ordinary strings.
/// Printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves; the other 68 take U+0100 onwards in byte order.
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] CharOfByte = BuildCharOfByte();
    private static readonly short[] ByteOfChar = BuildByteOfChar();

    public static char ToChar(byte b) => CharOfByte[b];

    /// <summary>The byte a code point of the alphabet stands for, or -1 when it is not in the alphabet.</summary>
    public static int ToByte(int codepoint) => (uint)codepoint < (uint)ByteOfChar.Length ? ByteOfChar[codepoint] : -1;

    private static bool StandsForItself(int b) => b is (>= 0x21 and <= 0x7E) or (>= 0xA1 and <= 0xAC) or (>= 0xAE and <= 0xFF);

    private static char[] BuildCharOfByte()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++) map[b] = (char)(StandsForItself(b) ? b : next++);
        return map;
    }

    private static short[] BuildByteOfChar()
    {
        var map = new short[512];
        Array.Fill(map, (short)-1);
        for (var b = 0; b < 256; b++) map[CharOfByte[b]] = (short)b;
        return map;
    }
}
