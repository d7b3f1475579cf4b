// SPDX-License-Identifier: MIT
// The mtia device's behaviour (see mtia_core.h and docs/device-spec.md):
// BAR0 registers, the boot ROM, the admin mailbox and the control core (an
// RV32IMC hart from rv32/ running firmware on a thread of its own); the
// hardware queues and data engine are in mtia_queues.cc (docs/queues.md),
// the board telemetry model in mtia_telemetry.cc (docs/telemetry.md).
// C++ inside, C ABI outside.
//
// Locking. Three things, always taken in this order:
//   ctl_mu_  serialises the host's control operations (boot, reset, pause,
//            attach, save, load, free): the ones that start or join the
//            control-core thread. The control-core thread never takes it.
//   mu_      guards the register state (regs_, running_, the CPU's
//            architectural state while the thread is stopped). Taken by host
//            MMIO and by the control core's MMIO callbacks.
//   the Cpu's internal wake mutex (set_external_irq / set_mtip take it).
// Host ops are never called with mu_ held (Locked collects them and calls
// them after unlocking): in QEMU raise_irq may need the BQL, and a vCPU
// thread holds the BQL while it waits for mu_. The thread is joined only
// with mu_ released, because it may be waiting for mu_ in an MMIO callback.
// The queue engine has its own locks (mtia_queues.cc) and is never entered
// with mu_ held, except to load a snapshot (engine idle); it calls back
// (queue_error) without its locks. meip_mu_ is a leaf: it orders updates of
// the core's MEIP line, whose inputs are the mailbox doorbell and the engine.
// tel_mu_ is a leaf too: it guards the telemetry model, which the telemetry
// thread advances and register accesses (mu_ held) read. The infoROM's lock
// (mtia_inforom.h) is taken without tel_mu_ (with mu_ for a register write)
// and takes tel_mu_ inside it to read the counts it writes.
#include "mtia_core.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "mtia/mtia_boot_status.h"
#include "mtia/mtia_cmd_rules.h"
#include "mtia/mtia_spec.h"
#include "mtia_bootrom.h"
#include "mtia_inforom.h"
#include "mtia_mmu.h"
#include "mtia_queues.h"
#include "mtia_telemetry.h"
#include "mtia_telemetry_regs.h"
#include "rv32_cpu.h"

static_assert(MTIA_CORE_CC_SRAM_BYTES == MTIA_CC_SRAM_SIZE, "snapshot SRAM size");
static_assert(sizeof(mtia_fw_header) == MTIA_FW_HEADER_SIZE, "firmware header layout");
static_assert(MTIA_CORE_MBOX_WORDS * 4 == MTIA_MBOX_MSG_BYTES, "mailbox size");
static_assert(sizeof(mtia_core_config::fw_pubkey) == MTIA_FW_PUBKEY_SIZE, "fw_pubkey size");

namespace {

using mtia::rv32::Cpu;
using mtia::rv32::RamRegion;
using mtia::rv32::RunResult;
using mtia::rv32::StopReason;

bool is_pow2(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// The control core runs in slices of this many instructions: between slices
// the thread refreshes the timer line and publishes instret.
constexpr uint64_t kSliceInsns = 200'000;
// Longest sleep in WFI without a timer deadline (stop requests and interrupt
// lines wake it at once; this only bounds a missed wake-up).
constexpr std::chrono::nanoseconds kMaxSleep = std::chrono::milliseconds(100);
// fault-fw-trap: an instruction access fault (a bus error fetching the next
// instruction), the kind of hardware fault firmware cannot recover from.
constexpr uint32_t kInjectedTrapCause = 1;

struct Regs {
    uint32_t scratch, irq_status, irq_mask, reset_count, err_status, err_addr;
    uint32_t fw_stage_lo, fw_stage_hi, fw_stage_size, fw_boot_status, fw_status, fw_version, fw_heartbeat,
        fw_trap_cause, fw_trap_pc, fw_trap_tval, fw_log_addr, fw_log_size;
    uint32_t mbox_cmd[MTIA_CORE_MBOX_WORDS], mbox_resp[MTIA_CORE_MBOX_WORDS], mbox_doorbell;
};

bool in_mbox(uint64_t off, uint32_t base) { return off - base < MTIA_MBOX_MSG_BYTES; }

static_assert(MTIA_TEL_SAMPLE_MS * 1'000'000ull == mtia::TelemetryParams{}.sample_ns, "telemetry sample period");
static_assert(MTIA_TEL_WINDOW_MS * 1'000'000ull == mtia::TelemetryParams{}.window_ns, "telemetry window");

}  // namespace

struct mtia_core final : public mtia::rv32::Bus, public mtia::QueueHost {
    mtia_core(const mtia_core_config &c, const mtia_core_host_ops *o, void *op)
        : cfg(c),
          ops(o ? *o : mtia_core_host_ops{}),
          opaque(op),
          sram_(MTIA_CC_SRAM_SIZE, 0),
          cpu_(*this, mtia::rv32::CpuConfig{MTIA_CC_SRAM_BASE, 0}),
          epoch_(std::chrono::steady_clock::now()),
          tel_(mtia::TelemetryParams{}, 0)
    {
        queues_.reset(new mtia::QueueEngine(*this, cfg.msix_vectors, cfg.pe_rows, cfg.pe_cols, cfg.mmu != 0,
                                            cfg.defer_threads != 0));
        {
            std::lock_guard<std::mutex> ctl(ctl_mu_);
            Locked l(*this);
            reset_locked();
        }
        if (!cfg.defer_threads) tel_thread_ = std::thread(&mtia_core::telemetry_main, this);
    }
    ~mtia_core() override
    {
        {
            std::lock_guard<std::mutex> l(tel_mu_);
            tel_quit_ = true;
        }
        tel_cv_.notify_all();
        if (tel_thread_.joinable()) tel_thread_.join();
        std::lock_guard<std::mutex> ctl(ctl_mu_);
        stop_thread();
        queues_.reset();  // joins the engine's workers while the rest is alive
    }

    // ---- mtia::QueueHost: what the queue engine asks of the device ----------
    // (fault-link-down: no DMA, no interrupts reach the host.)
    int dma_read(uint64_t addr, void *buf, uint64_t len) override
    {
        if (queues_->faults().link_down()) return -1;
        return ops.dma_read ? ops.dma_read(opaque, addr, buf, len) : -1;
    }
    int dma_write(uint64_t addr, const void *buf, uint64_t len) override
    {
        if (queues_->faults().link_down()) return -1;
        return ops.dma_write ? ops.dma_write(opaque, addr, buf, len) : -1;
    }
    void raise_irq(unsigned vector) override
    {
        mtia::FaultInjector &f = queues_->faults();
        if (f.link_down()) return;
        if (f.take_lost_irq()) {
            queues_->fault(MTIA_CORE_FAULT_LOST_IRQ, MTIA_CORE_TRACE_NO_QUEUE, 0, 0, vector);
            return;
        }
        if (ops.raise_irq) ops.raise_irq(opaque, vector);
    }
    void meip_changed() override
    {
        std::lock_guard<std::mutex> l(meip_mu_);
        cpu_.set_external_irq(mbox_bell_.load() || (queues_ && queues_->meip()));
    }
    void queue_error(unsigned) override
    {
        Locked l(*this);
        set_irq(MTIA_IRQ_ERROR);
    }
    uint64_t device_ns() override { return host_ns() + mtime_offset_ * (1'000'000'000u / MTIA_CC_TIMEBASE_HZ); }
    // The governor's clock, as of the last telemetry sample: the engines
    // are paced to it (mtia_pacer.h).
    mtia::EngineClock engine_clock() override
    {
        return mtia::EngineClock{clk_mhz_.load(std::memory_order_relaxed), mtia::TelemetryParams{}.clk_max_mhz};
    }
    bool tracing() const override { return trace_fn_ != nullptr; }
    void trace(const mtia_core_trace_event &ev) override
    {
        if (trace_fn_) trace_fn_(trace_opaque_, &ev);
    }
    // The host's monotonic clock since the core was made.
    uint64_t host_ns() const
    {
        return static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - epoch_).count());
    }

    const mtia_core_config cfg;
    const mtia_core_host_ops ops;
    void *const opaque;
    // mtia_core_set_trace(): set while the queues are idle, read by any thread.
    mtia_core_trace_fn trace_fn_ = nullptr;
    void *trace_opaque_ = nullptr;

    // ---- host effects, delivered after mu_ is released ------------------
    // Locks mu_; on destruction unlocks it, then raises the interrupt and
    // reports the guest error the locked section asked for.
    class Locked {
    public:
        explicit Locked(mtia_core &c) : c_(c), lk_(c.mu_) {}
        ~Locked()
        {
            bool raise = c_.raise_pending_;
            c_.raise_pending_ = false;
            std::string err;
            err.swap(c_.err_pending_);
            lk_.unlock();
            if (raise) c_.raise_irq(MTIA_MSIX_VEC_ADMIN);
            if (!err.empty() && c_.ops.guest_error) c_.ops.guest_error(c_.opaque, err.c_str());
        }
        Locked(const Locked &) = delete;
        Locked &operator=(const Locked &) = delete;

    private:
        mtia_core &c_;
        std::unique_lock<std::mutex> lk_;
    };

    void guest_error(const char *fmt, uint64_t arg)
    {  // mu_ held
        char msg[160];
        std::snprintf(msg, sizeof(msg), fmt, static_cast<unsigned long long>(arg));
        err_pending_ = msg;
    }

    // Latch a bad access for the driver to read and signal MTIA_IRQ_ERROR.
    void flag_error(uint32_t bit, uint64_t offset)
    {  // mu_ held
        r_.err_status |= bit;
        r_.err_addr = static_cast<uint32_t>(offset);
        set_irq(MTIA_IRQ_ERROR);
    }

    // Raise the admin vector if any pending cause in @causes is unmasked.
    void update_irq(uint32_t causes)
    {  // mu_ held
        if (causes & r_.irq_status & ~r_.irq_mask) raise_pending_ = true;
    }

    void set_irq(uint32_t cause)
    {  // mu_ held
        bool was_pending = r_.irq_status & cause;
        r_.irq_status |= cause;
        if (!was_pending) update_irq(cause);
    }

    void set_doorbell(uint32_t v)
    {  // mu_ held
        r_.mbox_doorbell = v;
        mbox_bell_.store(v != 0);
        meip_changed();  // MEIP follows the doorbell (and the queue engine)
    }

    // Registers to reset values; the control core must be stopped.
    void reset_locked()
    {
        uint32_t resets = r_.reset_count;
        r_ = Regs{};
        r_.irq_mask = MTIA_IRQ_ALL;
        r_.reset_count = resets;
        r_.fw_boot_status = MTIA_BOOT_IDLE;
        r_.fw_status = MTIA_FW_STATUS_OFF;
        set_doorbell(0);
        running_ = false;
        mtimecmp_.store(~uint64_t{0});
        cpu_.set_mtip(false);
        cpu_.set_msip(false);
        cpu_.reset();
        std::fill(sram_.begin(), sram_.end(), 0);
        instret_.store(0);
    }

    // The full device reset (MTIA_REG_RESET, PCI reset). ctl_mu_ held.
    void device_reset(bool count)
    {
        stop_thread();
        queues_->reset();
        Locked l(*this);
        reset_locked();
        if (count) r_.reset_count++;
    }

    // ---- host view of BAR0 ----------------------------------------------
    // Returns false for an unmapped offset. mu_ held.
    bool read_reg(uint64_t off, uint32_t *val)
    {
        if (mtia::Mmu::owns(off))  // the MMU's own lock is a leaf
            return queues_->mmu() && queues_->mmu()->read(off, val) == mtia::Mmu::Access::kOk;
        if (off >= MTIA_REG_TEL_BASE && off < MTIA_REG_TEL_END) return read_tel(off, val);
        if (in_mbox(off, MTIA_REG_MBOX_CMD)) {
            *val = r_.mbox_cmd[(off - MTIA_REG_MBOX_CMD) / 4];
            return true;
        }
        if (in_mbox(off, MTIA_REG_MBOX_RESP)) {
            *val = r_.mbox_resp[(off - MTIA_REG_MBOX_RESP) / 4];
            return true;
        }
        switch (off) {
            case MTIA_REG_MAGIC:
                *val = MTIA_MAGIC_VALUE;
                break;
            case MTIA_REG_IF_VERSION:
                *val = mtia_if_version(MTIA_IF_VERSION_MAJOR, MTIA_IF_VERSION_MINOR);
                break;
            case MTIA_REG_CHIP_ID:
                *val = MTIA_CHIP_ID_MTIA1;
                break;
            case MTIA_REG_REVISION:
                *val = cfg.revision;
                break;
            case MTIA_REG_PE_GRID:
                *val = mtia_pe_grid(cfg.pe_rows, cfg.pe_cols);
                break;
            case MTIA_REG_MSIX_VECTORS:
                *val = cfg.msix_vectors;
                break;
            case MTIA_REG_SRAM_SIZE_LO:
                *val = static_cast<uint32_t>(cfg.sram_bytes);
                break;
            case MTIA_REG_SRAM_SIZE_HI:
                *val = static_cast<uint32_t>(cfg.sram_bytes >> 32);
                break;
            case MTIA_REG_DEVMEM_SIZE_LO:
                *val = static_cast<uint32_t>(cfg.devmem_bytes);
                break;
            case MTIA_REG_DEVMEM_SIZE_HI:
                *val = static_cast<uint32_t>(cfg.devmem_bytes >> 32);
                break;
            case MTIA_REG_CAPS:
                *val = queues_->mmu() ? MTIA_CAP_MMU : 0;
                break;
            case MTIA_REG_SCRATCH:
                *val = r_.scratch;
                break;
            case MTIA_REG_RESET:
            case MTIA_REG_DEVMEM_ZERO:  // write-only
                *val = 0;
                break;
            case MTIA_REG_STATUS:
                *val = MTIA_STATUS_READY;
                break;
            case MTIA_REG_RESET_COUNT:
                *val = r_.reset_count;
                break;
            case MTIA_REG_IRQ_STATUS:
                *val = r_.irq_status;
                break;
            case MTIA_REG_IRQ_MASK:
                *val = r_.irq_mask;
                break;
            case MTIA_REG_IRQ_TEST:
                *val = 0;
                break;
            case MTIA_REG_ERR_STATUS:
                *val = r_.err_status;
                break;
            case MTIA_REG_ERR_ADDR:
                *val = r_.err_addr;
                break;
            case MTIA_REG_FW_STAGE_LO:
                *val = r_.fw_stage_lo;
                break;
            case MTIA_REG_FW_STAGE_HI:
                *val = r_.fw_stage_hi;
                break;
            case MTIA_REG_FW_STAGE_SIZE:
                *val = r_.fw_stage_size;
                break;
            case MTIA_REG_FW_BOOT:
                *val = 0;
                break;
            case MTIA_REG_FW_BOOT_STATUS:
                *val = r_.fw_boot_status;
                break;
            case MTIA_REG_FW_STATUS:
                *val = r_.fw_status;
                break;
            case MTIA_REG_FW_VERSION:
                *val = r_.fw_version;
                break;
            case MTIA_REG_FW_HEARTBEAT:
                *val = r_.fw_heartbeat;
                break;
            case MTIA_REG_FW_TRAP_CAUSE:
                *val = r_.fw_trap_cause;
                break;
            case MTIA_REG_FW_TRAP_PC:
                *val = r_.fw_trap_pc;
                break;
            case MTIA_REG_FW_TRAP_TVAL:
                *val = r_.fw_trap_tval;
                break;
            case MTIA_REG_FW_LOG_ADDR:
                *val = r_.fw_log_addr;
                break;
            case MTIA_REG_FW_LOG_SIZE:
                *val = r_.fw_log_size;
                break;
            case MTIA_REG_FW_INSTRET_LO:
                *val = static_cast<uint32_t>(instret_.load());
                break;
            case MTIA_REG_FW_INSTRET_HI:
                *val = static_cast<uint32_t>(instret_.load() >> 32);
                break;
            case MTIA_REG_MBOX_DOORBELL:
                *val = r_.mbox_doorbell;
                break;
            default:
                return false;
        }
        return true;
    }

    // Host writes except the two that start or stop the core. mu_ held.
    void write_reg(uint64_t off, uint32_t val)
    {
        if (in_mbox(off, MTIA_REG_MBOX_CMD)) {
            r_.mbox_cmd[(off - MTIA_REG_MBOX_CMD) / 4] = val;
            return;
        }
        if (mtia::Mmu::owns(off) && queues_->mmu()) {
            const auto a = queues_->mmu()->write(off, val);
            if (a == mtia::Mmu::Access::kBadWrite) {
                flag_error(MTIA_ERR_BAD_WRITE, off);
                guest_error("mtia: MMU register write refused at 0x%llx (read-only, MMU enabled, or a bad value)", off);
            } else if (a == mtia::Mmu::Access::kBadOffset) {
                flag_error(MTIA_ERR_BAD_OFFSET, off);
                guest_error("mtia: write to unmapped offset 0x%llx", off);
            }
            return;
        }
        switch (off) {
            case MTIA_REG_SCRATCH:
                r_.scratch = val;
                return;
            case MTIA_REG_DEVMEM_ZERO:
                if (!queues_->devmem_zero(uint64_t{MTIA_FIELD_GET(MTIA_DEVMEM_ZERO_PAGE_MASK, val)},
                                          MTIA_FIELD_GET(MTIA_DEVMEM_ZERO_COUNT_MASK, val) + 1u)) {
                    flag_error(MTIA_ERR_BAD_WRITE, off);
                    guest_error("mtia: DEVMEM_ZERO 0x%llx reaches past device memory", val);
                }
                return;
            case MTIA_REG_RESET:  // the key was handled by the caller
                flag_error(MTIA_ERR_BAD_WRITE, off);
                guest_error("mtia: bad reset key written at 0x%llx", off);
                return;
            case MTIA_REG_FW_BOOT:  // likewise
                flag_error(MTIA_ERR_BAD_WRITE, off);
                guest_error("mtia: bad firmware boot key written at 0x%llx", off);
                return;
            case MTIA_REG_IRQ_STATUS:
                r_.irq_status &= ~val;
                return;
            case MTIA_REG_IRQ_MASK: {
                uint32_t unmasked = r_.irq_mask & ~val;
                r_.irq_mask = val & MTIA_IRQ_ALL;
                update_irq(unmasked);  // a pending cause fires when unmasked
                return;
            }
            case MTIA_REG_IRQ_TEST:
                if (val & 1) set_irq(MTIA_IRQ_TEST);
                return;
            case MTIA_REG_ERR_STATUS:
                r_.err_status &= ~val;
                return;
            case MTIA_REG_FW_STAGE_LO:
                r_.fw_stage_lo = val;
                return;
            case MTIA_REG_FW_STAGE_HI:
                r_.fw_stage_hi = val;
                return;
            case MTIA_REG_FW_STAGE_SIZE:
                r_.fw_stage_size = val;
                return;
            case MTIA_REG_MBOX_DOORBELL:
                if (val & 1) set_doorbell(1);
                return;
            case MTIA_REG_TEL_POWER_CAP:
            case MTIA_REG_TEL_ECC_INJECT:
            case MTIA_REG_TEL_ECC_CLEAR: {
                mtia::TelemetryWrite w;
                {
                    std::lock_guard<std::mutex> t(tel_mu_);
                    w = mtia::telemetry_write(tel_, off, val);
                }
                if (w == mtia::TelemetryWrite::kOk) {
                    if (off != MTIA_REG_TEL_POWER_CAP) sync_inforom();
                    return;
                }
                flag_error(MTIA_ERR_BAD_WRITE, off);
                if (off == MTIA_REG_TEL_POWER_CAP)
                    guest_error("mtia: power limit %llu mW out of range", val);
                else
                    guest_error("mtia: ECC_CLEAR 0x%llx has unknown bits", val);
                return;
            }
            default: {
                uint32_t dummy;
                if (read_reg(off, &dummy)) {
                    flag_error(MTIA_ERR_BAD_WRITE, off);
                    guest_error("mtia: write to read-only register 0x%llx", off);
                } else {
                    flag_error(MTIA_ERR_BAD_OFFSET, off);
                    guest_error("mtia: write to unmapped offset 0x%llx", off);
                }
                return;
            }
        }
    }

    // ---- telemetry (mtia_telemetry.h) --------------------------------------
    // MTIA_REG_TEL_* reads. mu_ held; takes tel_mu_ (a leaf).
    bool read_tel(uint64_t off, uint32_t *val)
    {
        std::lock_guard<std::mutex> t(tel_mu_);
        return mtia::telemetry_read(tel_, cfg.serial, off, val);
    }

    mtia::EngineBusy engine_busy() const
    {
        mtia::EngineBusy b;
        b.ns[static_cast<unsigned>(mtia::Engine::kCc)] = cc_busy_ns_.load();
        b.ns[static_cast<unsigned>(mtia::Engine::kDma)] = queues_->dma_busy_ns();
        b.ns[static_cast<unsigned>(mtia::Engine::kPe)] = queues_->pe_busy_ns();
        return b;
    }

    // mtia_core_config.defer_threads: the threads the constructor did not
    // start, at the first BAR0 access (or snapshot load). threads_started_
    // makes every later call one atomic load. A thread that cannot be
    // created (host out of resources) is retried at the next access; until
    // then the device runs without it (no telemetry samples, or a queue
    // whose work waits).
    void start_deferred_threads()
    {
        if (!cfg.defer_threads || threads_started_.load(std::memory_order_acquire)) return;
        std::lock_guard<std::mutex> l(threads_mu_);
        if (threads_started_.load(std::memory_order_relaxed)) return;
        try {
            queues_->start_workers();
            if (!tel_thread_.joinable()) tel_thread_ = std::thread(&mtia_core::telemetry_main, this);
            threads_started_.store(true, std::memory_order_release);
        } catch (const std::system_error &) {
        }
    }

    // mtia_core_wait_idle's test: no engine work, and the control core
    // stopped or asleep with none of its interrupt inputs raised. The core
    // is looked at before and after the engine, and must not have woken in
    // between: looking at the engine alone first once saw it idle just
    // before the firmware dispatched a command and went to sleep.
    bool idle()
    {
        const uint64_t wakes = cc_wakes_.load();
        return core_asleep() && queues_->idle() && core_asleep() && cc_wakes_.load() == wakes;
    }
    bool core_asleep()
    {
        uint32_t doorbell;
        {
            std::lock_guard<std::mutex> l(mu_);
            if (!running_) return true;
            doorbell = r_.mbox_doorbell;
        }
        return cc_wfi_.load() && doorbell == 0 && !queues_->meip();
    }

    // The telemetry thread: advances the model on the host's clock, so it
    // runs whether or not anyone reads it (and while the VM is stopped: the
    // board stays powered and cools down).
    void telemetry_main()
    {
        pthread_setname_np(pthread_self(), "mtia-telemetry");  // for top -H, perf, gdb
        const auto period = std::chrono::milliseconds(MTIA_TEL_SAMPLE_MS);
        std::unique_lock<std::mutex> l(tel_mu_);
        while (!tel_cv_.wait_for(l, period, [this] { return tel_quit_; })) {
            tel_.advance(host_ns(), engine_busy());
            clk_mhz_.store(tel_.clk_mhz(), std::memory_order_relaxed);
            for (bool ue : {false, true}) {  // fault-ecc-ce / fault-ecc-ue
                const uint64_t n = queues_->faults().take_ecc(ue);
                if (!n) continue;
                tel_.inject_ecc(ue, static_cast<uint32_t>(n));
                queues_->fault(ue ? MTIA_CORE_FAULT_ECC_UE : MTIA_CORE_FAULT_ECC_CE, MTIA_CORE_TRACE_NO_QUEUE, 0, 0, n);
                l.unlock();  // the infoROM's lock comes first
                sync_inforom();
                l.lock();
            }
        }
    }

    // Writes the aggregate ECC counts to the infoROM if they changed (not
    // with tel_mu_ held).
    void sync_inforom()
    {
        inforom_.sync([this] {
            std::lock_guard<std::mutex> t(tel_mu_);
            return mtia::InforomCounts{tel_.ecc_corrected_agg(), tel_.ecc_uncorrected_agg()};
        });
    }

    int open_inforom(const char *path, std::string *why)
    {
        mtia::InforomCounts c;
        if (!inforom_.open(path, &c, why)) return -1;
        std::lock_guard<std::mutex> t(tel_mu_);
        tel_.set_ecc_aggregate(c.ecc_corrected, c.ecc_uncorrected);
        return 0;
    }

    // ---- firmware view (rv32::Bus), called on the control-core thread ----
    std::vector<RamRegion> ram_regions() override
    {
        std::vector<RamRegion> r;
        r.push_back(RamRegion{MTIA_CC_SRAM_BASE, MTIA_CC_SRAM_SIZE, sram_.data(), true, true});
        if (devmem_) {
            uint64_t window = std::min<uint64_t>(devmem_size_, MTIA_CC_DEVMEM_WINDOW) & ~uint64_t{3};
            if (window)
                r.push_back(RamRegion{MTIA_CC_DEVMEM_BASE, static_cast<uint32_t>(window), devmem_, true, false, true});
        }
        return r;
    }

    uint64_t mtime() override
    {
        auto ns =
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - epoch_).count();
        uint64_t ticks =
            static_cast<uint64_t>(static_cast<unsigned __int128>(ns) * MTIA_CC_TIMEBASE_HZ / 1'000'000'000u);
        return ticks + mtime_offset_;
    }

    void update_mtip() { cpu_.set_mtip(mtime() >= mtimecmp_.load()); }

    bool mmio_read(uint32_t addr, unsigned size, uint32_t *value) override
    {
        instret_.store(cpu_.instret(), std::memory_order_relaxed);  // keep FW_INSTRET fresh
        return fw_read(addr - MTIA_CC_REGS_BASE, size, value);
    }

    // Firmware register block access at offset @off (also the test hook).
    bool fw_read(uint32_t off, unsigned size, uint32_t *value)
    {
        if (off >= MTIA_BAR0_SIZE) return false;
        if (mtia::QueueEngine::fw_owns(off)) return queues_->fw_read(off, size, value);
        if (mtia::QueueEngine::owns(off))
            return size == 4 && !(off & 3) && queues_->host_read(off, value) == mtia::QueueEngine::Access::kOk;
        if (in_mbox(off, MTIA_REG_MBOX_CMD) || in_mbox(off, MTIA_REG_MBOX_RESP)) {
            // The message buffers are byte-addressable for firmware.
            uint32_t word;
            {
                Locked l(*this);
                read_reg(off & ~3u, &word);
            }
            word >>= 8 * (off & 3);
            *value = size == 4 ? word : word & ((1u << 8 * size) - 1);
            return true;
        }
        if (size != 4) return false;
        switch (off) {
            case MTIA_CC_REG_MTIME_LO:
                *value = static_cast<uint32_t>(mtime());
                return true;
            case MTIA_CC_REG_MTIME_HI:
                *value = static_cast<uint32_t>(mtime() >> 32);
                return true;
            case MTIA_CC_REG_MTIMECMP_LO:
                *value = static_cast<uint32_t>(mtimecmp_.load());
                return true;
            case MTIA_CC_REG_MTIMECMP_HI:
                *value = static_cast<uint32_t>(mtimecmp_.load() >> 32);
                return true;
            case MTIA_CC_REG_MBOX_POST:
            case MTIA_CC_REG_EVENT:
                *value = 0;
                return true;
            default:
                break;
        }
        Locked l(*this);
        return read_reg(off, value);
    }

    // A firmware store into the device-memory window (watched): tracked.
    void ram_stored(uint32_t addr, unsigned size) override
    {
        queues_->wrote(devmem_ + (addr - MTIA_CC_DEVMEM_BASE), size);
    }

    bool mmio_write(uint32_t addr, unsigned size, uint32_t value) override
    {
        instret_.store(cpu_.instret(), std::memory_order_relaxed);
        return fw_write(addr - MTIA_CC_REGS_BASE, size, value);
    }

    bool fw_write(uint32_t off, unsigned size, uint32_t value)
    {
        if (off >= MTIA_BAR0_SIZE) return false;
        if (mtia::QueueEngine::fw_owns(off)) return queues_->fw_write(off, size, value);
        if (in_mbox(off, MTIA_REG_MBOX_RESP)) {
            Locked l(*this);
            uint32_t &w = r_.mbox_resp[(off - MTIA_REG_MBOX_RESP) / 4];
            unsigned shift = 8 * (off & 3);
            uint32_t mask = size == 4 ? ~0u : ((1u << 8 * size) - 1) << shift;
            w = (w & ~mask) | ((value << shift) & mask);
            return true;
        }
        if (size != 4) return false;
        switch (off) {
            case MTIA_CC_REG_MTIMECMP_LO:
                mtimecmp_.store((mtimecmp_.load() & ~uint64_t{0xffffffff}) | value);
                update_mtip();
                return true;
            case MTIA_CC_REG_MTIMECMP_HI:
                mtimecmp_.store((mtimecmp_.load() & 0xffffffff) | uint64_t{value} << 32);
                update_mtip();
                return true;
            default:
                break;
        }
        Locked l(*this);
        switch (off) {
            case MTIA_REG_FW_STATUS:
                if (value != r_.fw_status) {
                    r_.fw_status = value;
                    set_irq(MTIA_IRQ_FW_EVENT);
                }
                return true;
            case MTIA_REG_FW_VERSION:
                r_.fw_version = value;
                return true;
            case MTIA_REG_FW_HEARTBEAT:
                r_.fw_heartbeat = value;
                return true;
            case MTIA_REG_FW_LOG_ADDR:
                r_.fw_log_addr = value;
                return true;
            case MTIA_REG_FW_LOG_SIZE:
                r_.fw_log_size = value;
                return true;
            case MTIA_REG_MBOX_DOORBELL:
                set_doorbell(r_.mbox_doorbell & ~value);
                return true;
            case MTIA_CC_REG_MBOX_POST:
                if (value & 1) set_irq(MTIA_IRQ_MBOX);
                return true;
            case MTIA_CC_REG_EVENT:
                if (value & 1) set_irq(MTIA_IRQ_FW_EVENT);
                return true;
            default:
                return false;  // host-only or read-only: store access fault
        }
    }

    // ---- the control-core thread ------------------------------------------
    void thread_main()
    {
        pthread_setname_np(pthread_self(), "mtia-control");
        for (;;) {
            if (quit_.load()) return;
            update_mtip();
            uint64_t t0 = host_ns();
            RunResult r = cpu_.run(kSliceInsns);
            cc_busy_ns_ += host_ns() - t0;  // time not asleep in WFI (telemetry)
            instret_.store(cpu_.instret());
            switch (r.reason) {
                case StopReason::kBudget:
                case StopReason::kStopped:
                    break;
                case StopReason::kWaitForInterrupt:
                    cc_wfi_.store(true);
                    cpu_.wait_for_interrupt(sleep_time());
                    cc_wakes_++;
                    cc_wfi_.store(false);
                    break;
                case StopReason::kHaltedOnTrap:
                    halt_on_trap(r.cause, r.pc, r.tval);
                    return;
            }
            if (queues_->faults().take_fw_trap()) {  // fault-fw-trap
                const uint32_t pc = cpu_.pc();
                queues_->fault(MTIA_CORE_FAULT_FW_TRAP, MTIA_CORE_TRACE_NO_QUEUE, 0, 0, pc);
                halt_on_trap(kInjectedTrapCause, pc, pc);
                return;
            }
        }
    }

    // The control core halted on a trap it could not take. Its thread ends.
    void halt_on_trap(uint32_t cause, uint32_t pc, uint32_t tval)
    {
        Locked l(*this);
        running_ = false;
        r_.fw_boot_status = MTIA_BOOT_HALTED;
        r_.fw_trap_cause = cause;
        r_.fw_trap_pc = pc;
        r_.fw_trap_tval = tval;
        set_irq(MTIA_IRQ_FW_EVENT);
    }

    // How long a WFI may sleep: until the timer deadline, at most kMaxSleep.
    std::chrono::nanoseconds sleep_time()
    {
        uint64_t now = mtime(), cmp = mtimecmp_.load();
        if (cmp <= now) return kMaxSleep;  // MTIP already high (and not enabled)
        uint64_t ticks = cmp - now;
        if (ticks >= uint64_t{MTIA_CC_TIMEBASE_HZ}) return kMaxSleep;
        auto ns = std::chrono::nanoseconds(ticks * 1'000'000'000u / MTIA_CC_TIMEBASE_HZ + 1);
        return std::min(ns, kMaxSleep);
    }

    // ctl_mu_ held, thread not running.
    void start_thread()
    {
        quit_.store(false);
        ran_.store(true);
        thread_ = std::thread(&mtia_core::thread_main, this);
    }

    // ctl_mu_ held, mu_ NOT held. Also joins a thread that ended on a trap.
    void stop_thread()
    {
        if (!thread_.joinable()) return;
        quit_.store(true);
        cpu_.request_stop();
        thread_.join();
        quit_.store(false);
    }

    // Start the thread if the core should be running. ctl_mu_ held.
    void maybe_start()
    {
        bool run;
        {
            std::lock_guard<std::mutex> l(mu_);
            run = running_ && vm_running_;
        }
        if (run && !thread_.joinable()) start_thread();
    }

    // ---- boot ROM (mtia_bootrom.cc) ---------------------------------------------
    // ctl_mu_ held, thread stopped; reads guest memory without mu_.
    uint32_t load_image(uint64_t stage, uint64_t stage_size, uint32_t *entry, uint32_t *flags)
    {
        mtia::BootImage img;
        uint32_t status = mtia::bootrom_load(devmem_, devmem_size_, stage, stage_size, sram_.data(), sram_.size(), &img,
                                             cfg.fw_pubkey);
        *entry = img.entry;
        *flags = img.flags;
        return status;
    }

    // FW_BOOT written with the key. ctl_mu_ held.
    void boot()
    {
        uint64_t stage, stage_size;
        {
            Locked l(*this);
            if (running_) {  // the core keeps running the image it has
                r_.fw_boot_status = MTIA_BOOT_ERR_BUSY;
                set_irq(MTIA_IRQ_FW_EVENT);
                guest_error("mtia: firmware boot while the control core runs (0x%llx)", MTIA_REG_FW_BOOT);
                return;
            }
            stage = uint64_t{r_.fw_stage_hi} << 32 | r_.fw_stage_lo;
            stage_size = r_.fw_stage_size;
        }
        stop_thread();  // a core that halted on a trap left its thread to join
        uint32_t entry = 0, flags = 0;
        uint32_t status = load_image(stage, stage_size, &entry, &flags);
        {
            Locked l(*this);
            r_.fw_boot_status = status;
            set_irq(MTIA_IRQ_FW_EVENT);
            if (status != MTIA_BOOT_RUNNING) {
                char fmt[128];  // the status in words, for -d guest_errors and the trace
                std::snprintf(fmt, sizeof(fmt), "mtia: firmware boot refused: %s, FW_BOOT_STATUS 0x%%llx",
                              mtia_boot_status_name(status));
                guest_error(fmt, status);
                return;
            }
            r_.fw_status = MTIA_FW_STATUS_OFF;
            r_.fw_version = r_.fw_heartbeat = 0;
            r_.fw_trap_cause = r_.fw_trap_pc = r_.fw_trap_tval = 0;
            r_.fw_log_addr = r_.fw_log_size = 0;
            mtimecmp_.store(~uint64_t{0});
            cpu_.set_mtip(false);
            cpu_.reset();
            cpu_.invalidate_code(MTIA_CC_SRAM_BASE, MTIA_CC_SRAM_SIZE);
            cpu_.set_pc(entry);
            cpu_.set_reg(10, flags);
            cpu_.set_reg(11, status);
            instret_.store(0);
            running_ = true;
        }
        maybe_start();
    }

    // ---- snapshot --------------------------------------------------------------
    static constexpr uint16_t kSavedCsrs[] = {
        mtia::rv32::csr::kMisa,   mtia::rv32::csr::kMstatus,  mtia::rv32::csr::kMie,
        mtia::rv32::csr::kMtvec,  mtia::rv32::csr::kMscratch, mtia::rv32::csr::kMepc,
        mtia::rv32::csr::kMcause, mtia::rv32::csr::kMtval,    mtia::rv32::csr::kMcountinhibit};

    void save(mtia_core_snapshot *s)
    {  // ctl_mu_ held, thread stopped
        std::lock_guard<std::mutex> l(mu_);
        s->scratch = r_.scratch;
        s->irq_status = r_.irq_status;
        s->irq_mask = r_.irq_mask;
        s->reset_count = r_.reset_count;
        s->err_status = r_.err_status;
        s->err_addr = r_.err_addr;
        s->fw_stage_lo = r_.fw_stage_lo;
        s->fw_stage_hi = r_.fw_stage_hi;
        s->fw_stage_size = r_.fw_stage_size;
        s->fw_boot_status = r_.fw_boot_status;
        s->fw_status = r_.fw_status;
        s->fw_version = r_.fw_version;
        s->fw_heartbeat = r_.fw_heartbeat;
        s->fw_trap_cause = r_.fw_trap_cause;
        s->fw_trap_pc = r_.fw_trap_pc;
        s->fw_trap_tval = r_.fw_trap_tval;
        s->fw_log_addr = r_.fw_log_addr;
        s->fw_log_size = r_.fw_log_size;
        std::memcpy(s->mbox_cmd, r_.mbox_cmd, sizeof(s->mbox_cmd));
        std::memcpy(s->mbox_resp, r_.mbox_resp, sizeof(s->mbox_resp));
        s->mbox_doorbell = r_.mbox_doorbell;
        s->cc_running = running_;
        s->cc_mtime = mtime();
        s->cc_mtimecmp = mtimecmp_.load();
        for (unsigned i = 0; i < 32; i++) s->cc_x[i] = cpu_.reg(i);
        s->cc_pc = cpu_.pc();
        uint32_t *csrs[] = {&s->cc_misa, &s->cc_mstatus, &s->cc_mie,   &s->cc_mtvec,        &s->cc_mscratch,
                            &s->cc_mepc, &s->cc_mcause,  &s->cc_mtval, &s->cc_mcountinhibit};
        for (size_t i = 0; i < std::size(kSavedCsrs); i++) cpu_.read_csr(kSavedCsrs[i], csrs[i]);
        s->cc_cycle = cpu_.cycle();
        s->cc_instret = cpu_.instret();
        std::memcpy(s->cc_sram, sram_.data(), MTIA_CC_SRAM_SIZE);
        std::lock_guard<std::mutex> t(tel_mu_);
        mtia::TelemetryState ts = tel_.state();
        s->tel_temp_mc = static_cast<uint32_t>(ts.temp_mc);
        s->tel_power_cap_mw = ts.power_cap_mw;
        s->tel_energy_mj = ts.energy_mj;
        s->tel_ecc_corrected = ts.ecc_corrected;
        s->tel_ecc_uncorrected = ts.ecc_uncorrected;
        s->tel_ecc_agg_present = 1;
        s->tel_ecc_corrected_agg = ts.ecc_corrected_agg;
        s->tel_ecc_uncorrected_agg = ts.ecc_uncorrected_agg;
    }

    static mtia::TelemetryState tel_state_of(const mtia_core_snapshot *s)
    {
        return mtia::TelemetryState{static_cast<int32_t>(s->tel_temp_mc),
                                    s->tel_power_cap_mw,
                                    s->tel_energy_mj,
                                    s->tel_ecc_corrected,
                                    s->tel_ecc_uncorrected,
                                    s->tel_ecc_corrected_agg,
                                    s->tel_ecc_uncorrected_agg};
    }

    static bool valid_boot_status(uint32_t v)
    {
        return v <= MTIA_BOOT_HALTED || (v >= MTIA_BOOT_ERR_BAD_STAGE && v <= MTIA_BOOT_ERR_BAD_SIGNATURE);
    }

    void load(const mtia_core_snapshot *s)
    {  // ctl_mu_ held, thread stopped, s valid
        queues_->reset();
        queues_->load(s);
        queues_->devmem_track().wrote_all();  // device memory came with the snapshot
        Locked l(*this);
        reset_locked();
        r_.scratch = s->scratch;
        r_.irq_status = s->irq_status;
        r_.irq_mask = s->irq_mask;
        r_.reset_count = s->reset_count;
        r_.err_status = s->err_status;
        r_.err_addr = s->err_addr;
        r_.fw_stage_lo = s->fw_stage_lo;
        r_.fw_stage_hi = s->fw_stage_hi;
        r_.fw_stage_size = s->fw_stage_size;
        r_.fw_boot_status = s->fw_boot_status;
        r_.fw_status = s->fw_status;
        r_.fw_version = s->fw_version;
        r_.fw_heartbeat = s->fw_heartbeat;
        r_.fw_trap_cause = s->fw_trap_cause;
        r_.fw_trap_pc = s->fw_trap_pc;
        r_.fw_trap_tval = s->fw_trap_tval;
        r_.fw_log_addr = s->fw_log_addr;
        r_.fw_log_size = s->fw_log_size;
        std::memcpy(r_.mbox_cmd, s->mbox_cmd, sizeof(r_.mbox_cmd));
        std::memcpy(r_.mbox_resp, s->mbox_resp, sizeof(r_.mbox_resp));
        set_doorbell(s->mbox_doorbell);
        running_ = s->cc_running != 0;
        mtime_offset_ = 0;
        mtime_offset_ = s->cc_mtime - mtime();
        mtimecmp_.store(running_ ? s->cc_mtimecmp : ~uint64_t{0});
        std::memcpy(sram_.data(), s->cc_sram, MTIA_CC_SRAM_SIZE);
        cpu_.invalidate_code(MTIA_CC_SRAM_BASE, MTIA_CC_SRAM_SIZE);
        for (unsigned i = 1; i < 32; i++) cpu_.set_reg(i, s->cc_x[i]);
        cpu_.set_pc(s->cc_pc);
        const uint32_t csrs[] = {s->cc_misa, s->cc_mstatus, s->cc_mie,   s->cc_mtvec,        s->cc_mscratch,
                                 s->cc_mepc, s->cc_mcause,  s->cc_mtval, s->cc_mcountinhibit};
        for (size_t i = 0; i < std::size(kSavedCsrs); i++) cpu_.write_csr(kSavedCsrs[i], csrs[i]);
        using namespace mtia::rv32::csr;
        cpu_.write_csr(kMcycle, static_cast<uint32_t>(s->cc_cycle));
        cpu_.write_csr(kMcycleh, static_cast<uint32_t>(s->cc_cycle >> 32));
        cpu_.write_csr(kMinstret, static_cast<uint32_t>(s->cc_instret));
        cpu_.write_csr(kMinstreth, static_cast<uint32_t>(s->cc_instret >> 32));
        instret_.store(s->cc_instret);
        update_mtip();
        if (s->tel_power_cap_mw) {  // else an older stream: telemetry stays as it is
            std::lock_guard<std::mutex> t(tel_mu_);
            mtia::TelemetryState ts = tel_state_of(s);
            if (!s->tel_ecc_agg_present) {  // before version 6: the board's own
                ts.ecc_corrected_agg = tel_.ecc_corrected_agg();
                ts.ecc_uncorrected_agg = tel_.ecc_uncorrected_agg();
            }
            tel_.set_state(ts);
        }
    }

    // ---- state ---------------------------------------------------------------
    std::mutex ctl_mu_;
    std::mutex mu_;
    Regs r_{};
    bool running_ = false;        // mu_: firmware accepted and not halted
    bool vm_running_ = true;      // ctl_mu_
    bool raise_pending_ = false;  // mu_
    std::string err_pending_;     // mu_
    uint8_t *devmem_ = nullptr;   // changed only with the thread stopped
    uint64_t devmem_size_ = 0;
    std::vector<uint8_t> sram_;  // the control core's SRAM
    Cpu cpu_;                    // after sram_: its constructor maps it
    std::chrono::steady_clock::time_point epoch_;
    uint64_t mtime_offset_ = 0;  // changed only with the thread stopped
    std::atomic<uint64_t> mtimecmp_{~uint64_t{0}};
    std::atomic<uint64_t> instret_{0};  // published by the thread (per slice, per MMIO)
    std::atomic<bool> quit_{false};
    std::atomic<bool> ran_{false};  // the thread ran since set_vm_running last asked
    std::thread thread_;            // ctl_mu_
    std::mutex meip_mu_;            // leaf: orders MEIP updates
    std::atomic<bool> mbox_bell_{false};
    std::atomic<uint64_t> cc_busy_ns_{0};  // control core time outside WFI
    std::atomic<uint32_t> clk_mhz_{0};     // tel_'s clock, published each sample (0: none yet)
    std::atomic<bool> cc_wfi_{false};      // control core asleep in WFI (idle())
    std::atomic<uint64_t> cc_wakes_{0};    // times it woke from WFI (idle())
    std::mutex tel_mu_;                    // leaf: guards tel_, tel_quit_
    std::condition_variable tel_cv_;
    mtia::Telemetry tel_;
    bool tel_quit_ = false;
    std::thread tel_thread_;
    mtia::Inforom inforom_;  // the aggregate ECC counts' file, if any
    // Protects the start of deferred threads (start_deferred_threads): a
    // leaf lock; threads_started_ says they run.
    std::mutex threads_mu_;
    std::atomic<bool> threads_started_{false};
    std::unique_ptr<mtia::QueueEngine> queues_;  // last: destroyed first
};

extern "C" {

void mtia_core_config_default(struct mtia_core_config *cfg)
{
    *cfg = mtia_core_config{};
    cfg->pe_rows = MTIA_DEFAULT_PE_ROWS;
    cfg->pe_cols = MTIA_DEFAULT_PE_COLS;
    cfg->sram_bytes = MTIA_DEFAULT_SRAM_BYTES;
    cfg->devmem_bytes = MTIA_DEFAULT_DEVMEM_BYTES;
    cfg->msix_vectors = MTIA_DEFAULT_MSIX_VECTORS;
    cfg->revision = MTIA_PCI_REVISION;
    cfg->mmu = 1;
    std::memcpy(cfg->fw_pubkey, mtia::kFwDevPubkey, sizeof(cfg->fw_pubkey));
}

int mtia_core_config_validate(const struct mtia_core_config *cfg, char *err, size_t errlen)
{
    const char *why = nullptr;
    if (cfg->pe_rows < 1 || cfg->pe_rows > 64) {
        why = "pe-rows must be between 1 and 64";
    } else if (cfg->pe_cols < 1 || cfg->pe_cols > 64) {
        why = "pe-cols must be between 1 and 64";
    } else if (!is_pow2(cfg->sram_bytes) || cfg->sram_bytes < (1ull << 20) || cfg->sram_bytes > (1ull << 30)) {
        why = "sram-size must be a power of two between 1M and 1G";
    } else if (!is_pow2(cfg->devmem_bytes) || cfg->devmem_bytes < MTIA_MIN_DEVMEM_BYTES ||
               cfg->devmem_bytes > MTIA_MAX_DEVMEM_BYTES) {
        why = "devmem-size must be a power of two between 1M and 64G";
    } else if (cfg->msix_vectors < 1 || cfg->msix_vectors > MTIA_MAX_MSIX_VECTORS) {
        why = "msix-vectors must be between 1 and 32";
    } else if (cfg->revision > 0xff) {
        why = "revision must fit in 8 bits";
    } else if (cfg->mmu > 1) {
        why = "mmu must be on or off";
    } else if (mtia::fw_pubkey_check(cfg->fw_pubkey)) {
        why = "fw-pubkey is not an Ed25519 public key";
    }
    if (!why) {
        return 0;
    }
    if (err && errlen) {
        std::snprintf(err, errlen, "%s", why);
    }
    return -1;
}

int mtia_core_parse_fw_pubkey(const char *hex, uint8_t key[32], char *err, size_t errlen)
{
    const char *why = mtia::fw_pubkey_parse(hex, key);
    if (!why) return 0;
    if (err && errlen) std::snprintf(err, errlen, "fw-pubkey: %s", why);
    return -1;
}

struct mtia_core *mtia_core_new(const struct mtia_core_config *cfg, const struct mtia_core_host_ops *ops, void *opaque)
{
    if (mtia_core_config_validate(cfg, nullptr, 0) != 0) {
        return nullptr;
    }
    try {
        return new mtia_core(*cfg, ops, opaque);
    } catch (...) {
        return nullptr;
    }
}

void mtia_core_free(struct mtia_core *core) { delete core; }

int mtia_core_open_inforom(struct mtia_core *core, const char *path, char *err, size_t errlen)
{
    std::string why;
    if (core->open_inforom(path, &why) == 0) return 0;
    if (err && errlen) std::snprintf(err, errlen, "%s", why.c_str());
    return -1;
}

void mtia_core_set_trace(struct mtia_core *core, mtia_core_trace_fn fn, void *opaque)
{
    core->trace_opaque_ = opaque;
    core->trace_fn_ = fn;
}

const char *mtia_core_opcode_name(uint32_t opcode)
{
    const struct mtia_cmd_rule *r = mtia_cmd_rule(opcode);
    return r ? r->name : "?";
}

const char *mtia_core_trace_source_name(uint32_t source)
{
    switch (source) {
        case MTIA_CORE_TRACE_BY_FIRMWARE:
            return "firmware";
        case MTIA_CORE_TRACE_BY_ENGINE:
            return "engine";
        case MTIA_CORE_TRACE_BY_RING:
            return "ring";
        default:
            return "?";
    }
}

uint64_t mtia_core_mmio_read(struct mtia_core *core, uint64_t offset, unsigned size)
{
    core->start_deferred_threads();
    if (core->queues_->faults().link_down())  // a dead link: the root port completes with all-ones
        return size >= 8 ? ~uint64_t{0} : (uint64_t{1} << 8 * size) - 1;
    if (size == 4 && !(offset & 3) && mtia::QueueEngine::owns(offset)) {
        uint32_t val = 0;
        if (core->queues_->host_read(offset, &val) != mtia::QueueEngine::Access::kOk) {
            mtia_core::Locked l(*core);
            core->flag_error(MTIA_ERR_BAD_OFFSET, offset);
            core->guest_error("mtia: read of unmapped offset 0x%llx", offset);
        }
        return val;
    }
    mtia_core::Locked l(*core);
    if (size != 4 || (offset & 3)) {
        core->flag_error(MTIA_ERR_BAD_SIZE, offset);
        core->guest_error("mtia: read of bad size or alignment at 0x%llx", offset);
        return 0;
    }
    uint32_t val = 0;
    if (!core->read_reg(offset, &val)) {
        core->flag_error(MTIA_ERR_BAD_OFFSET, offset);
        core->guest_error("mtia: read of unmapped offset 0x%llx", offset);
        return 0;
    }
    return val;
}

void mtia_core_mmio_write(struct mtia_core *core, uint64_t offset, uint64_t value, unsigned size)
{
    core->start_deferred_threads();
    if (core->queues_->faults().link_down()) return;  // posted writes into a dead link are lost
    if (size == 4 && offset == MTIA_REG_RESET && value == MTIA_RESET_KEY) {
        std::lock_guard<std::mutex> ctl(core->ctl_mu_);
        core->device_reset(true);
        return;
    }
    if (size == 4 && offset == MTIA_REG_FW_BOOT && value == MTIA_FW_BOOT_KEY) {
        std::lock_guard<std::mutex> ctl(core->ctl_mu_);
        core->boot();
        return;
    }
    if (size == 4 && !(offset & 3) && mtia::QueueEngine::owns(offset)) {
        // Without mu_: disabling a queue waits for its engine worker.
        auto a = core->queues_->host_write(offset, static_cast<uint32_t>(value));
        if (a == mtia::QueueEngine::Access::kOk) return;
        mtia_core::Locked l(*core);
        switch (a) {
            case mtia::QueueEngine::Access::kBadWrite:
                core->flag_error(MTIA_ERR_BAD_WRITE, offset);
                core->guest_error(
                    "mtia: queue register write refused at 0x%llx (read-only, "
                    "queue enabled, or a bad value)",
                    offset);
                break;
            case mtia::QueueEngine::Access::kBadDoorbell:
                core->guest_error("mtia: doorbell value out of range at 0x%llx (STATUS_BAD_DB)", offset);
                break;
            default:
                core->flag_error(MTIA_ERR_BAD_OFFSET, offset);
                core->guest_error("mtia: write to unmapped offset 0x%llx", offset);
                break;
        }
        return;
    }
    mtia_core::Locked l(*core);
    if (size != 4 || (offset & 3)) {
        core->flag_error(MTIA_ERR_BAD_SIZE, offset);
        core->guest_error("mtia: write of bad size or alignment at 0x%llx", offset);
        return;
    }
    core->write_reg(offset, static_cast<uint32_t>(value));
}

void mtia_core_reset(struct mtia_core *core)
{
    std::lock_guard<std::mutex> ctl(core->ctl_mu_);
    core->device_reset(false);
}

void mtia_core_attach_devmem(struct mtia_core *core, void *host, uint64_t size)
{
    std::lock_guard<std::mutex> ctl(core->ctl_mu_);
    core->stop_thread();
    {
        std::lock_guard<std::mutex> l(core->mu_);
        core->devmem_ = host ? static_cast<uint8_t *>(host) : nullptr;
        core->devmem_size_ = host ? std::min(size, core->cfg.devmem_bytes) : 0;
    }
    core->queues_->attach_devmem(core->devmem_, core->devmem_size_);
    core->cpu_.remap();
    core->maybe_start();
}

void mtia_core_devmem_write(struct mtia_core *core, uint64_t offset, uint64_t value, unsigned size)
{
    core->queues_->devmem_write(offset, value, size);
}

uint64_t mtia_core_devmem_generation(struct mtia_core *core) { return core->queues_->devmem_track().now(); }

uint64_t mtia_core_devmem_last_write(struct mtia_core *core, uint64_t offset, uint64_t len)
{
    return core->queues_->devmem_track().last_write(offset, len);
}

int mtia_core_wait_idle(struct mtia_core *core, uint64_t timeout_us)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(timeout_us);
    while (!core->idle()) {
        if (std::chrono::steady_clock::now() >= deadline) return -1;
        std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
    return 0;
}

int mtia_core_set_vm_running(struct mtia_core *core, int running)
{
    std::lock_guard<std::mutex> ctl(core->ctl_mu_);
    bool ran = core->ran_.exchange(false);
    core->vm_running_ = running != 0;
    if (running) {
        core->queues_->resume();  // COMPUTE programs parked by the stop go on
        core->maybe_start();
    } else {
        core->stop_thread();
        core->queues_->quiesce();  // copies run to completion, programs park
    }
    if (core->queues_->take_devmem_dirty()) ran = true;
    return ran ? 1 : 0;
}

int mtia_core_save(struct mtia_core *core, struct mtia_core_snapshot *snap)
{
    std::lock_guard<std::mutex> ctl(core->ctl_mu_);
    core->stop_thread();
    core->save(snap);
    int rc = core->queues_->save(snap);
    core->maybe_start();
    return rc;
}

int mtia_core_load(struct mtia_core *core, const struct mtia_core_snapshot *snap)
{
    core->start_deferred_threads();
    if ((snap->irq_status | snap->irq_mask) & ~MTIA_IRQ_ALL) {
        return -1;
    }
    if (snap->err_addr >= MTIA_BAR0_SIZE) {
        return -1;
    }
    if (!mtia_core::valid_boot_status(snap->fw_boot_status) || snap->mbox_doorbell > 1 || snap->cc_running > 1) {
        return -1;
    }
    if (snap->cc_running && snap->fw_boot_status != MTIA_BOOT_RUNNING && snap->fw_boot_status != MTIA_BOOT_ERR_BUSY) {
        return -1;
    }
    if (!mtia::QueueEngine::snapshot_valid(snap, core->cfg.mmu != 0)) {
        return -1;
    }
    if (snap->tel_power_cap_mw &&
        !mtia::Telemetry::state_valid(mtia_core::tel_state_of(snap), mtia::TelemetryParams{})) {
        return -1;
    }
    std::lock_guard<std::mutex> ctl(core->ctl_mu_);
    core->stop_thread();
    core->load(snap);
    core->maybe_start();
    core->sync_inforom();  // the board's counts came with it
    return 0;
}

void mtia_core_get_queue_stats(struct mtia_core *core, unsigned q, struct mtia_core_queue_stats *out)
{
    core->queues_->stats(q, out);
}

int mtia_core_fault_set(struct mtia_core *core, uint32_t kind, uint64_t value)
{
    if (!core->queues_->faults().set(kind, value)) return -1;
    if (kind == MTIA_CORE_FAULT_HANG) core->queues_->fault_changed();
    if (kind == MTIA_CORE_FAULT_FW_TRAP && value) core->cpu_.request_stop();  // out of WFI to take it
    if ((kind == MTIA_CORE_FAULT_LINK_DOWN || kind == MTIA_CORE_FAULT_HANG) && value)
        core->queues_->fault(kind, MTIA_CORE_TRACE_NO_QUEUE, 0, 0, value);  // a state: traced when switched on
    return 0;
}

uint64_t mtia_core_fault_get(struct mtia_core *core, uint32_t kind) { return core->queues_->faults().get(kind); }

uint64_t mtia_core_fault_injected(struct mtia_core *core, uint32_t kind)
{
    return core->queues_->faults().injected(kind);
}

const char *mtia_core_fault_name(uint32_t kind)
{
    static const char *const names[MTIA_CORE_FAULT_KINDS] = {
        nullptr,  "dma-error", "hang",      "fw-trap",    "lost-irq",
        "ecc-ce", "ecc-ue",    "link-down", "latency-us", "translation",
    };
    return kind && kind < MTIA_CORE_FAULT_KINDS ? names[kind] : "?";
}

int mtia_core_fault_is_bool(uint32_t kind)
{
    return kind == MTIA_CORE_FAULT_HANG || kind == MTIA_CORE_FAULT_FW_TRAP || kind == MTIA_CORE_FAULT_LINK_DOWN;
}

int mtia_core_fw_read(struct mtia_core *core, uint32_t off, unsigned size, uint32_t *val)
{
    return core->fw_read(off, size, val) ? 0 : -1;
}

int mtia_core_fw_write(struct mtia_core *core, uint32_t off, unsigned size, uint32_t val)
{
    return core->fw_write(off, size, val) ? 0 : -1;
}

}  // extern "C"
