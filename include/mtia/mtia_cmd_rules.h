/* SPDX-License-Identifier: MIT */
/*
 * The command contract: per opcode, which fields of struct mtia_cmd it uses
 * and which values are valid, as one const table, and the one checker that
 * applies it, mtia_cmd_check(). The device core (before it executes), the
 * firmware (before it dispatches) and the driver (before it submits) all
 * call it, so they cannot disagree; docs/queues.md "Command rules" is the
 * table in prose, and tests/unit/cmd_corpus.h the cases every layer must
 * judge alike.
 *
 * Fields an opcode does not use (len and operands of NOP/FENCE, src of
 * FILL/TIMESTAMP, value outside FILL/COMPUTE) are ignored, never checked:
 * the firmware reads only the SQE words mtia_cmd_words() names, which keeps
 * a NOP at three CC_SQE reads. ctx, address ranges and SG tables are the
 * engine's translate-and-check (BAD_ADDRESS, DMA_ERROR), not rules here.
 *
 * Plain C over mtia_spec.h: kernel C, freestanding RV32 C (no 64-bit
 * division: alignments are masks) and C++.
 */
#ifndef MTIA_CMD_RULES_H
#define MTIA_CMD_RULES_H

#include "mtia_spec.h"

/* Fields an opcode reads (struct mtia_cmd_rule.uses). */
#define MTIA_CMD_USES_LEN         (1u << 0)
#define MTIA_CMD_USES_VALUE       (1u << 1)
#define MTIA_CMD_USES_SRC         (1u << 2)
#define MTIA_CMD_USES_DST         (1u << 3)

#define MTIA_CMD_OPCODES          (MTIA_CMD_COMPUTE + 1) /* 0..COMPUTE are defined */

struct mtia_cmd_rule {
    const char *name;
    uint8_t uses;            /* MTIA_CMD_USES_* */
    uint8_t flags;           /* MTIA_CMD_F_* allowed; any other flag: BAD_FIELD */
    uint8_t len8_flags;      /* with one of these flags, len % 8 == 0 (FILL64) */
    uint8_t dst_no_sgt;      /* dst must not be MTIA_ADDR_SGT, else BAD_ADDRESS (COMPUTE's
                              * arena: whether it is device memory is the
                              * engine's translate-and-check, MMU or not) */
    uint64_t len_min;        /* if USES_LEN: len_min <= len <= len_max, */
    uint64_t len_max;
    uint64_t len_align_mask; /* and len & len_align_mask == 0 */
    uint64_t value_min;      /* if USES_VALUE: value >= value_min, */
    uint8_t tail_flags;      /* and with one of these flags value >= value_min + the tail: */
    uint8_t tail_len_shift;  /* tail_base + (len >> tail_len_shift) bytes the device keeps */
    uint32_t tail_base;      /* at the end of dst (COMPUTE's profile); len_max < 2^32
                              * (a 32-bit shift: RV32 has no 64-bit one) */
};

MTIA_STATIC_ASSERT(MTIA_CMD_NOP == 0 && MTIA_CMD_COPY == 1 && MTIA_CMD_FILL == 2 &&
                   MTIA_CMD_FENCE == 3 && MTIA_CMD_TIMESTAMP == 4 && MTIA_CMD_COMPUTE == 5);
MTIA_STATIC_ASSERT((MTIA_OP_BYTES & (MTIA_OP_BYTES - 1)) == 0); /* align as a mask */
/* COMPUTE's profile tail as a shift: MTIA_PROFILE_BYTES(len / MTIA_OP_BYTES)
 * == header + (len >> MTIA_PROFILE_LEN_SHIFT) for whole ops. */
#define MTIA_PROFILE_LEN_SHIFT    3
MTIA_STATIC_ASSERT((MTIA_OP_BYTES >> MTIA_PROFILE_LEN_SHIFT) == sizeof(struct mtia_op_profile));
MTIA_STATIC_ASSERT((uint64_t)MTIA_MAX_PROGRAM_OPS * MTIA_OP_BYTES < (1ull << 32));
MTIA_STATIC_ASSERT(MTIA_PROFILE_BYTES(2) ==
                   sizeof(struct mtia_profile_header) + ((2 * MTIA_OP_BYTES) >> MTIA_PROFILE_LEN_SHIFT));

/* The rule of opcode op, or NULL for an undefined opcode (BAD_OPCODE). */
static inline const struct mtia_cmd_rule *mtia_cmd_rule(uint32_t op)
{
    /* Positional (C++ has no array designators): one row per opcode, in
     * opcode order (asserted below). ~0 is "no upper bound". */
    static const struct mtia_cmd_rule rules[MTIA_CMD_OPCODES] = {
        /* name, uses, flags allowed, len % 8 with flags, dst not SGT,
         * len min, max, align mask, value min, tail flags, tail len shift,
         * tail base */
        { "NOP", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
        { "COPY", MTIA_CMD_USES_LEN | MTIA_CMD_USES_SRC | MTIA_CMD_USES_DST, 0, 0, 0,
          1, ~(uint64_t)0, 0, 0, 0, 0, 0 },
        { "FILL", MTIA_CMD_USES_LEN | MTIA_CMD_USES_VALUE | MTIA_CMD_USES_DST,
          MTIA_CMD_F_FILL64, MTIA_CMD_F_FILL64, 0, 1, ~(uint64_t)0, 0, 0, 0, 0, 0 },
        { "FENCE", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
        /* TIMESTAMP writes 8 bytes, and len must say so */
        { "TIMESTAMP", MTIA_CMD_USES_LEN | MTIA_CMD_USES_DST, 0, 0, 0, 8, 8, 0, 0, 0, 0, 0 },
        /* COMPUTE: len is the program (whole ops), value the arena's bytes;
         * with F_PROFILE the arena ends in the profile, and must hold more */
        { "COMPUTE", MTIA_CMD_USES_LEN | MTIA_CMD_USES_VALUE | MTIA_CMD_USES_SRC |
                     MTIA_CMD_USES_DST,
          MTIA_CMD_F_PROFILE, 0, 1, MTIA_OP_BYTES, (uint64_t)MTIA_MAX_PROGRAM_OPS * MTIA_OP_BYTES,
          MTIA_OP_BYTES - 1, 1, MTIA_CMD_F_PROFILE, MTIA_PROFILE_LEN_SHIFT,
          sizeof(struct mtia_profile_header) },
    };

    return op < MTIA_CMD_OPCODES ? &rules[op] : NULL;
}

/* MTIA_CMD_USES_* of opcode op (0 for an undefined one): the fields a
 * translator (driver SUBMIT, libmtia's direct queues) fills in. */
static inline uint32_t mtia_cmd_uses(uint32_t op)
{
    const struct mtia_cmd_rule *r = mtia_cmd_rule(op);

    return r ? r->uses : 0;
}

/* Bit w set: mtia_cmd_check() may read SQE word w (MTIA_CMD_W_*) of a
 * command whose opcode has rule r. Word 0 and reserved always. */
static inline uint32_t mtia_cmd_words(const struct mtia_cmd_rule *r)
{
    uint32_t w = 1u << MTIA_CMD_W_HEAD | 3u << MTIA_CMD_W_RESERVED;

    if (!r)
        return w;
    if (r->uses & MTIA_CMD_USES_LEN)
        w |= 3u << MTIA_CMD_W_LEN;
    if (r->uses & MTIA_CMD_USES_VALUE)
        w |= 3u << MTIA_CMD_W_VALUE;
    if (r->uses & MTIA_CMD_USES_SRC)
        w |= 2u << MTIA_CMD_W_SRC_ADDR;   /* the tag is in the high word */
    if (r->uses & MTIA_CMD_USES_DST)
        w |= 2u << MTIA_CMD_W_DST_ADDR;
    return w;
}

/* Both tag bits: no such kind of operand. */
static inline int mtia_cmd_addr_tag_bad(uint64_t addr)
{
    return (addr & MTIA_ADDR_TAG_MASK) == MTIA_ADDR_TAG_MASK;
}

/*
 * MTIA_CQE_OK, or the status a device completes the command with, checked
 * in this order: BAD_OPCODE (undefined opcode); BAD_FIELD (reserved != 0,
 * a flag the opcode does not allow, len out of range or misaligned, value
 * below its minimum (with a tail flag: its minimum plus the tail), a used operand with both tag bits); BAD_ADDRESS
 * (COMPUTE arena in an SG buffer; an arena that does not translate to
 * contiguous device memory is the engine's BAD_ADDRESS). r is mtia_cmd_rule(c->opcode): a
 * caller that looked it up already passes it (the firmware's NOP path).
 */
static inline uint32_t mtia_cmd_check_rule(const struct mtia_cmd_rule *r, const struct mtia_cmd *c)
{
    if (!r)
        return MTIA_CQE_BAD_OPCODE;
    if (c->reserved)
        return MTIA_CQE_BAD_FIELD;
    if (c->flags & ~r->flags)
        return MTIA_CQE_BAD_FIELD;
    if (!r->uses)   /* NOP, FENCE: nothing more to look at (the fast path) */
        return MTIA_CQE_OK;
    if (r->uses & MTIA_CMD_USES_LEN) {
        if (c->len < r->len_min || c->len > r->len_max || (c->len & r->len_align_mask))
            return MTIA_CQE_BAD_FIELD;
        if ((c->flags & r->len8_flags) && (c->len & 7))
            return MTIA_CQE_BAD_FIELD;
    }
    if ((r->uses & MTIA_CMD_USES_VALUE) &&
        (c->value < r->value_min ||
         ((c->flags & r->tail_flags) &&
          c->value - r->value_min <
              r->tail_base + (uint64_t)((uint32_t)c->len >> r->tail_len_shift))))
        return MTIA_CQE_BAD_FIELD;
    if ((r->uses & MTIA_CMD_USES_SRC) && mtia_cmd_addr_tag_bad(c->src.addr))
        return MTIA_CQE_BAD_FIELD;
    if ((r->uses & MTIA_CMD_USES_DST) && mtia_cmd_addr_tag_bad(c->dst.addr))
        return MTIA_CQE_BAD_FIELD;
    if (r->dst_no_sgt && (c->dst.addr & MTIA_ADDR_TAG_MASK) == MTIA_ADDR_SGT)
        return MTIA_CQE_BAD_ADDRESS;
    return MTIA_CQE_OK;
}

static inline uint32_t mtia_cmd_check(const struct mtia_cmd *c)
{
    return mtia_cmd_check_rule(mtia_cmd_rule(c->opcode), c);
}

#endif /* MTIA_CMD_RULES_H */
