using Tessera.Dialects.Graph;

namespace Tessera.Onnx;

/// <summary>numpy.testing.assert_allclose semantics: |actual - expected| ≤ atol + rtol·|expected|, NaN equal to NaN.
/// Float tensors of different element types (f16 against f32) compare by value.</summary>
public static class Compare
{
    public sealed record Result(bool Ok, string Message, double MaxAbs, double MaxRel);

    public static Result AllClose(NDArray actual, NDArray expected, double rtol, double atol)
    {
        if (!actual.Shape.SequenceEqual(expected.Shape))
        {
            return new(false, $"shape [{string.Join(", ", actual.Shape)}] but expected [{string.Join(", ", expected.Shape)}]", double.NaN, double.NaN);
        }

        // Floats of different widths compare by value: a model demoted to f16 is checked against f32 references.
        if (actual.ElementType != expected.ElementType && !(actual.IsFloat && expected.IsFloat))
        {
            return new(false, $"element type {actual.ElementType} but expected {expected.ElementType}", double.NaN, double.NaN);
        }

        double maxAbs = 0, maxRel = 0;
        long bad = 0, firstBad = -1;
        for (long i = 0; i < actual.Length; i++)
        {
            double a = actual.GetF(i), e = expected.GetF(i);
            if (double.IsNaN(a) && double.IsNaN(e))
            {
                continue;
            }

            if (a == e)
            {
                continue;
            }

            double abs = Math.Abs(a - e);
            double rel = e == 0 ? double.PositiveInfinity : abs / Math.Abs(e);
            if (double.IsNaN(abs))
            {
                abs = double.PositiveInfinity;
            }

            maxAbs = Math.Max(maxAbs, abs);
            maxRel = Math.Max(maxRel, rel);
            if (!(abs <= atol + rtol * Math.Abs(e)))
            {
                bad++;
                if (firstBad < 0)
                {
                    firstBad = i;
                }
            }
        }

        return bad == 0
            ? new(true, $"max abs error {maxAbs:G4}, max rel error {maxRel:G4}", maxAbs, maxRel)
            : new(false, $"{bad} of {actual.Length} elements differ (first at flat index {firstBad}: {actual.GetF(firstBad)} vs {expected.GetF(firstBad)}); max abs error {maxAbs:G4}, max rel error {maxRel:G4}", maxAbs, maxRel);
    }
}
