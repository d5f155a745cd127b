using OrleansInfer.Backends.Cpu.Kernels;
using OrleansInfer.Model;

namespace OrleansInfer.Backends.Cpu;

public sealed unsafe partial class CpuModelRunner
{
    /// <summary>Row-wise kernels over the step's tokens: RMSNorm, the gated activation, post norms, soft-capping.</summary>
    private sealed class RowJob(CpuModelRunner r) : IParallelWork
    {
        private enum Op { RmsNorm, RmsNormAdd, SwiGlu, GeGlu, Softcap }

        private Op _op;
        private float* _out;
        private float* _in;
        private float* _weight;
        private int _size;
        private float _cap;

        /// <summary>output = rmsnorm(input) * weight, per row of <paramref name="size"/>.</summary>
        public void RmsNorm(float* output, float* input, float* weight, int size, int tokens) => Run(Op.RmsNorm, output, input, weight, size, tokens);

        /// <summary>x += rmsnorm(a) * weight per row (a overwritten): gemma's post norms.</summary>
        public void RmsNormAdd(float* x, float* a, float* weight, int size, int tokens) => Run(Op.RmsNormAdd, x, a, weight, size, tokens);

        /// <summary>hb = act(hb) * hb2 over rows of <paramref name="hidden"/> (SiLU, or ggml's table GELU for gemma).</summary>
        public void Gate(int tokens, int hidden) =>
            Run(r._c.Activation == FeedForwardActivation.GeluTanh ? Op.GeGlu : Op.SwiGlu, r._hb.Pointer, r._hb2.Pointer, null, hidden, tokens);

        /// <summary>Rows of <paramref name="size"/> values become cap * tanh(value / cap).</summary>
        public void Softcap(float* values, int size, int rows, float cap)
        {
            _cap = cap;
            Run(Op.Softcap, values, null, null, size, rows);
        }

        private void Run(Op op, float* output, float* input, float* weight, int size, int rows)
        {
            _op = op;
            _out = output;
            _in = input;
            _weight = weight;
            _size = size;
            r._pool.Run(this, rows, parallel: (long)rows * size * 8 >= SerialThreshold);
        }

        public void Execute(int t, int worker)
        {
            var offset = (long)t * _size;
            switch (_op)
            {
                case Op.RmsNorm:
                    Norms.RmsNorm(_out + offset, _in + offset, _weight, _size, r._c.RmsEpsilon);
                    break;
                case Op.RmsNormAdd:
                    Norms.RmsNormAdd(_out + offset, _in + offset, _weight, _size, r._c.RmsEpsilon);
                    break;
                case Op.SwiGlu:
                    Norms.SwiGlu(_out + offset, _in + offset, _size);
                    break;
                case Op.GeGlu:
                    Gelu.GeGlu(_out + offset, _in + offset, _size);
                    break;
                default:
                    Norms.Softcap(_out + offset, _size, _cap);
                    break;
            }
        }
    }
}
