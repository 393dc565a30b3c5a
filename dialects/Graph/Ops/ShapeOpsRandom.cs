namespace Tessera.Dialects.Graph;

/// <summary>
/// The Mersenne Twister MT19937 as numpy's legacy <c>RandomState(seed)</c> seeds and uses it: <see cref="NextDouble"/>
/// is <c>random_sample()</c> (53 bits from two 32-bit draws). Used to reproduce seeded reference results.
/// </summary>
internal sealed class NumpyMt19937
{
    private const int N = 624, M = 397;
    private readonly uint[] _mt = new uint[N];
    private int _index;

    public NumpyMt19937(uint seed)
    {
        _mt[0] = seed;
        for (int i = 1; i < N; i++)
        {
            _mt[i] = unchecked((1812433253u * (_mt[i - 1] ^ (_mt[i - 1] >> 30))) + (uint)i);
        }

        _index = N;
    }

    public uint NextUInt()
    {
        if (_index >= N)
        {
            for (int i = 0; i < N; i++)
            {
                uint y = (_mt[i] & 0x80000000u) | (_mt[(i + 1) % N] & 0x7fffffffu);
                _mt[i] = _mt[(i + M) % N] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908b0dfu : 0u);
            }

            _index = 0;
        }

        uint x = _mt[_index++];
        x ^= x >> 11;
        x ^= (x << 7) & 0x9d2c5680u;
        x ^= (x << 15) & 0xefc60000u;
        x ^= x >> 18;
        return x;
    }

    public double NextDouble()
    {
        long a = NextUInt() >> 5, b = NextUInt() >> 6;
        return ((a * 67108864.0) + b) / 9007199254740992.0;
    }
}
