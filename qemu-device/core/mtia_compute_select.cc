// SPDX-License-Identifier: MIT
// Selection ops over BOOL tensors (one byte, 0 or 1): the comparisons of
// BINARY (EQUAL, LESS, GREATER: f32 in, BOOL out) and WHERE (BOOL cond picks
// x or y). Plain broadcasting loops: they are masks for attention, cheap next
// to the matmuls, and oneDNN 2.6's comparisons write f32, not bytes.
#include "mtia_compute_impl.h"

namespace mtia {
namespace compute {

namespace {

using Desc = mtia_tensor_desc;

class CompareKernel final : public Kernel {
public:
    explicit CompareKernel(const mtia_op &op) : kind_(op.attrs[MTIA_BINARY_KIND]) {}
    bool run(const mtia_op &op, uint8_t *arena, Exec &) override
    {
        const float *a = ptr(arena, op.in[0]), *b = ptr(arena, op.in[1]);
        uint8_t *y = bool_ptr(arena, op.out);
        const Desc *ins[2] = {&op.in[0], &op.in[1]};
        for_each_row(op.out, ins, 2, [&](uint64_t yo, const uint64_t *off, const uint64_t *in, uint64_t n) {
            const float *pa = a + off[0], *pb = b + off[1];
            uint8_t *py = y + yo;
            switch (kind_) {
                case MTIA_BINARY_EQUAL:
                    for (uint64_t i = 0; i < n; i++) py[i] = pa[i * in[0]] == pb[i * in[1]];
                    break;
                case MTIA_BINARY_LESS:
                    for (uint64_t i = 0; i < n; i++) py[i] = pa[i * in[0]] < pb[i * in[1]];
                    break;
                default:
                    for (uint64_t i = 0; i < n; i++) py[i] = pa[i * in[0]] > pb[i * in[1]];
                    break;
            }
        });
        return true;
    }

private:
    uint32_t kind_;
};

class WhereKernel final : public Kernel {
public:
    explicit WhereKernel(const mtia_op &op) : act_(op) {}
    bool run(const mtia_op &op, uint8_t *arena, Exec &) override
    {
        const uint8_t *c = bool_ptr(arena, op.in[0]);
        const float *x = ptr(arena, op.in[1]), *z = ptr(arena, op.in[2]);
        float *y = ptr(arena, op.out);
        const Desc *ins[3] = {&op.in[0], &op.in[1], &op.in[2]};
        // Each output element is written after its inputs were read, so x or
        // y being out itself (validated: same shape) is fine.
        for_each_row(op.out, ins, 3, [&](uint64_t yo, const uint64_t *off, const uint64_t *in, uint64_t n) {
            const uint8_t *pc = c + off[0];
            const float *px = x + off[1], *pz = z + off[2];
            float *py = y + yo;
            for (uint64_t i = 0; i < n; i++) py[i] = pc[i * in[0]] ? px[i * in[1]] : pz[i * in[2]];
            act_.apply(py, py, n);
        });
        return true;
    }

private:
    Act act_;
};

}  // namespace

std::unique_ptr<Kernel> make_compare(const mtia_op &op) { return std::make_unique<CompareKernel>(op); }
std::unique_ptr<Kernel> make_where(const mtia_op &op) { return std::make_unique<WhereKernel>(op); }

}  // namespace compute
}  // namespace mtia
