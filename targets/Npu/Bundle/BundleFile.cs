using System.Security.Cryptography;

namespace Tessera.Npu.Bundle;

/// <summary>One bundle file written in pieces and hashed as it goes, so that a gigabyte DRAM image (and its hex text,
/// 2.25 times larger) never has to be held in memory whole.</summary>
internal sealed class BundleFile : IDisposable
{
    private readonly FileStream _fs;
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _hex = new byte[HexChunk * 3];   // one-byte words take the most text: 3 bytes each

    /// <summary>Bytes of data (a multiple of every word size) turned into hex text at a time.</summary>
    public const int HexChunk = 1 << 20;

    public long Length { get; private set; }

    public BundleFile(string path) => _fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);

    public void Write(ReadOnlySpan<byte> bytes)
    {
        _fs.Write(bytes);
        _sha.AppendData(bytes);
        Length += bytes.Length;
    }

    /// <summary>Appends <paramref name="data"/> as <c>$readmemh</c> text (see <see cref="NpuBundle.Hex"/>); every piece but
    /// the last must be a whole number of words.</summary>
    public void WriteHex(ReadOnlySpan<byte> data, int wordBytes)
    {
        for (int i = 0; i < data.Length; i += HexChunk)
        {
            var part = data.Slice(i, Math.Min(HexChunk, data.Length - i));
            Write(_hex.AsSpan(0, Encode(part, wordBytes, _hex)));
        }
    }

    /// <summary>Writes the text of <paramref name="data"/> into <paramref name="buffer"/>; returns its length.</summary>
    public static int Encode(ReadOnlySpan<byte> data, int wordBytes, Span<byte> buffer)
    {
        int o = 0;
        if (wordBytes == 4)
        {
            // The DRAM image's words, with no per-byte bounds test (this loop turns gigabytes into text).
            int whole = data.Length / 4 * 4;
            for (int i = 0; i < whole; i += 4, o += 9)
            {
                for (int j = 3; j >= 0; j--)
                {
                    ushort p = Pairs[data[i + j]];
                    buffer[o + 6 - 2 * j] = (byte)p;
                    buffer[o + 7 - 2 * j] = (byte)(p >> 8);
                }

                buffer[o + 8] = (byte)'\n';
            }

            return o + EncodeWords(data[whole..], wordBytes, buffer[o..]);
        }

        return EncodeWords(data, wordBytes, buffer);
    }

    /// <summary>Two ASCII hex digits per byte value, as one little-endian ushort.</summary>
    private static readonly ushort[] Pairs = [.. Enumerable.Range(0, 256).Select(b => (ushort)("0123456789abcdef"[b >> 4] | "0123456789abcdef"[b & 15] << 8))];

    private static int EncodeWords(ReadOnlySpan<byte> data, int wordBytes, Span<byte> buffer)
    {
        int o = 0;
        for (int i = 0; i < data.Length; i += wordBytes)
        {
            for (int j = wordBytes - 1; j >= 0; j--)
            {
                int b = i + j < data.Length ? data[i + j] : 0;
                buffer[o++] = Digits[b >> 4];
                buffer[o++] = Digits[b & 15];
            }

            buffer[o++] = (byte)'\n';
        }

        return o;
    }

    private static ReadOnlySpan<byte> Digits => "0123456789abcdef"u8;

    /// <summary>Closes the file; returns its manifest entry's size and sha256.</summary>
    public (long Bytes, string Sha256) Finish()
    {
        _fs.Flush();
        return (Length, Convert.ToHexStringLower(_sha.GetHashAndReset()));
    }

    public void Dispose()
    {
        _fs.Dispose();
        _sha.Dispose();
    }
}
