// SPDX-License-Identifier: MIT
#include "mtia_op_build.h"

#include <cstring>

#include "mtia/mtia_model.h"

namespace mtia::compiler {

namespace fb = mtia::model;

namespace {

std::string check_tensor(const fb::Model& m, const fb::Tensor& t, uint64_t weights_len, size_t k) {
  const std::string what = "tensor " + std::to_string(k);
  if (!t.shape() || t.shape()->size() < 1 || t.shape()->size() > MTIA_MAX_DIMS) return what + ": rank not in 1..6";
  if (t.dtype() != fb::DType::F32) return what + ": dtype not F32";
  uint64_t n = 4;
  for (uint32_t d : *t.shape()) {
    if (d == 0) return what + ": zero dim";
    if (n > (uint64_t{1} << 40) / d) return what + ": too large";
    n *= d;
  }
  if (t.size() != n) return what + ": size differs from its shape";
  if (t.offset() % MTIA_MODEL_TENSOR_ALIGN) return what + ": offset not 64-byte aligned";
  if (t.offset() > m.arena_size() || t.size() > m.arena_size() - t.offset()) return what + ": outside the arena";
  const bool weight = t.kind() == fb::TensorKind::Weight;
  if (weight && t.offset() + t.size() > weights_len) return what + ": weight outside the weights image";
  if (!weight && t.offset() < weights_len) return what + ": activation inside the weights image";
  if (static_cast<unsigned>(t.kind()) > static_cast<unsigned>(fb::TensorKind::Output)) return what + ": bad kind";
  return "";
}

}  // namespace

std::string validate_model_buffer(const void* data, size_t size) {
  if (!data || size < 8) return "too small to be a .mtia file";
  if (!fb::ModelBufferHasIdentifier(data)) return "not a .mtia file (identifier is not " MTIA_MODEL_FILE_IDENTIFIER ")";
  flatbuffers::Verifier v(static_cast<const uint8_t*>(data), size);
  if (!fb::VerifyModelBuffer(v)) return "corrupt .mtia file (FlatBuffers verification failed)";
  const fb::Model& m = *fb::GetModel(data);
  if ((m.format_version() >> 16) != MTIA_MODEL_FORMAT_MAJOR)
    return "format version " + std::to_string(m.format_version() >> 16) + "." +
           std::to_string(m.format_version() & 0xffff) + " is not supported (major " +
           std::to_string(MTIA_MODEL_FORMAT_MAJOR) + ")";
  if (!m.tensors() || !m.ops() || m.ops()->size() == 0) return "no tensors or no ops";
  if (m.ops()->size() > MTIA_MAX_PROGRAM_OPS) return "too many ops";
  const uint64_t wlen = m.weights() ? m.weights()->size() : 0;
  if (wlen > m.arena_size()) return "weights larger than the arena";
  if (wlen && reinterpret_cast<uintptr_t>(m.weights()->data()) % MTIA_MODEL_TENSOR_ALIGN !=
                         reinterpret_cast<uintptr_t>(data) % MTIA_MODEL_TENSOR_ALIGN)
    return "weights not 64-byte aligned in the file";
  const uint32_t nt = m.tensors()->size();
  for (uint32_t k = 0; k < nt; ++k) {
    std::string why = check_tensor(m, *m.tensors()->Get(k), wlen, k);
    if (!why.empty()) return why;
  }
  for (const auto* list : {m.inputs(), m.outputs()}) {
    if (!list || list->size() == 0) return "no inputs or no outputs";
    for (uint32_t t : *list) {
      if (t >= nt) return "input/output index out of range";
      auto kind = m.tensors()->Get(t)->kind();
      if (kind == fb::TensorKind::Weight) return "a graph input/output is a weight";
    }
  }
  for (uint32_t k = 0; k < m.ops()->size(); ++k) {
    const fb::Op& op = *m.ops()->Get(k);
    const std::string what = "op " + std::to_string(k);
    auto kind = static_cast<unsigned>(op.kind());
    if (kind < MTIA_OP_CONV || kind > MTIA_OP_LAST) return what + ": bad kind";
    if (!op.inputs() || op.inputs()->size() < 1 || op.inputs()->size() > MTIA_OP_MAX_IN) return what + ": 1..3 inputs";
    for (uint32_t t : *op.inputs())
      if (t >= nt) return what + ": input index out of range";
    if (op.output() >= nt) return what + ": output index out of range";
    auto okind = m.tensors()->Get(op.output())->kind();
    if (okind == fb::TensorKind::Weight || okind == fb::TensorKind::Input) return what + ": writes a weight or an input";
    if (static_cast<unsigned>(op.act()) > MTIA_ACT_LAST) return what + ": bad activation";
    if (op.attrs() && op.attrs()->size() > MTIA_OP_MAX_ATTRS) return what + ": too many attributes";
  }
  return "";
}

std::string build_mtia_op(const fb::Model& m, const fb::Op& op, struct mtia_op* out) {
  std::memset(out, 0, sizeof *out);
  auto desc = [&](uint32_t index, struct mtia_tensor_desc* d) {
    const fb::Tensor& t = *m.tensors()->Get(index);
    d->offset = t.offset();
    d->dtype = MTIA_DTYPE_F32;
    d->ndim = static_cast<uint8_t>(t.shape()->size());
    for (uint32_t k = 0; k < t.shape()->size() && k < MTIA_MAX_DIMS; ++k) d->dims[k] = t.shape()->Get(k);
  };
  if (!op.inputs() || op.inputs()->size() > MTIA_OP_MAX_IN) return "bad input count";
  if (op.attrs() && op.attrs()->size() > MTIA_OP_MAX_ATTRS) return "too many attributes";
  out->opcode = static_cast<uint16_t>(op.kind());
  out->n_in = static_cast<uint8_t>(op.inputs()->size());
  out->act = static_cast<uint8_t>(op.act());
  float lo = op.act_min(), hi = op.act_max();
  std::memcpy(&out->act_min, &lo, 4);
  std::memcpy(&out->act_max, &hi, 4);
  for (uint32_t k = 0; k < op.inputs()->size(); ++k) desc(op.inputs()->Get(k), &out->in[k]);
  desc(op.output(), &out->out);
  if (op.attrs())
    for (uint32_t k = 0; k < op.attrs()->size(); ++k) out->attrs[k] = op.attrs()->Get(k);
  return "";
}

}  // namespace mtia::compiler
