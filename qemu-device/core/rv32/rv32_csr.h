// SPDX-License-Identifier: MIT
// Machine-mode CSR numbers, status bits and trap causes (privileged spec
// 1.12). The CSR read/write semantics live in rv32_csr.cc.
#ifndef MTIA_RV32_CSR_H
#define MTIA_RV32_CSR_H

#include <cstdint>

namespace mtia::rv32 {

namespace csr {
constexpr uint16_t kMstatus = 0x300, kMisa = 0x301, kMie = 0x304, kMtvec = 0x305;
constexpr uint16_t kMstatush = 0x310, kMcountinhibit = 0x320;
constexpr uint16_t kMhpmevent3 = 0x323, kMhpmevent31 = 0x33f;
constexpr uint16_t kMscratch = 0x340, kMepc = 0x341, kMcause = 0x342, kMtval = 0x343, kMip = 0x344;
constexpr uint16_t kMcycle = 0xb00, kMinstret = 0xb02, kMhpmcounter3 = 0xb03, kMhpmcounter31 = 0xb1f;
constexpr uint16_t kMcycleh = 0xb80, kMinstreth = 0xb82, kMhpmcounter3h = 0xb83, kMhpmcounter31h = 0xb9f;
constexpr uint16_t kCycle = 0xc00, kTime = 0xc01, kInstret = 0xc02, kHpmcounter3 = 0xc03, kHpmcounter31 = 0xc1f;
constexpr uint16_t kCycleh = 0xc80, kTimeh = 0xc81, kInstreth = 0xc82, kHpmcounter3h = 0xc83, kHpmcounter31h = 0xc9f;
constexpr uint16_t kMvendorid = 0xf11, kMarchid = 0xf12, kMimpid = 0xf13, kMhartid = 0xf14, kMconfigptr = 0xf15;
}  // namespace csr

// mstatus fields implemented by an M-mode-only hart.
constexpr uint32_t kMstatusMie = 1u << 3;
constexpr uint32_t kMstatusMpie = 1u << 7;
constexpr uint32_t kMstatusMpp = 3u << 11;  // hardwired to M (0b11)

// mie / mip bits.
constexpr uint32_t kIrqMsi = 1u << 3;   // machine software interrupt
constexpr uint32_t kIrqMti = 1u << 7;   // machine timer interrupt
constexpr uint32_t kIrqMei = 1u << 11;  // machine external interrupt
constexpr uint32_t kIrqAll = kIrqMsi | kIrqMti | kIrqMei;

// misa: MXL = 1 (32-bit), extensions I, M, C. Only C is writable.
constexpr uint32_t kMisaC = 1u << ('C' - 'A');
constexpr uint32_t kMisaValue = 1u << 30 | 1u << ('I' - 'A') | 1u << ('M' - 'A') | kMisaC;

// mcause values.
constexpr uint32_t kInterruptBit = 1u << 31;
namespace cause {
constexpr uint32_t kInsnMisaligned = 0, kInsnAccessFault = 1, kIllegalInsn = 2, kBreakpoint = 3, kLoadMisaligned = 4,
                   kLoadAccessFault = 5, kStoreMisaligned = 6, kStoreAccessFault = 7, kEcallM = 11;
constexpr uint32_t kMachineSoftIrq = kInterruptBit | 3, kMachineTimerIrq = kInterruptBit | 7,
                   kMachineExtIrq = kInterruptBit | 11;
}  // namespace cause

// Identity CSRs: no JEDEC vendor id (non-commercial), open-source arch id 0.
constexpr uint32_t kMvendorid = 0, kMarchid = 0, kMimpid = 0x00010000;  // 1.0

}  // namespace mtia::rv32

#endif  // MTIA_RV32_CSR_H
