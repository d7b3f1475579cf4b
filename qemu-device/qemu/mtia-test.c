/*
 * QTest for the mtia-open "mtia" PCIe device (hw/misc/mtia.c).
 *
 * Each case boots its own q35 machine with -device mtia at a fixed slot and
 * drives the device through libqos' PCI helpers: config space identity,
 * BAR0 registers, bad accesses, IRQ status/mask, the MSI-X test interrupt,
 * the register reset, BAR2 device memory, migration of the core state, and
 * the firmware boot ROM: images staged into BAR2 (SHA-256 from GChecksum,
 * signed with libsodium by a key made for the run, which the device trusts
 * through its fw-pubkey property; the signature checks),
 * a tiny hand-assembled RV32 firmware run by the control core, the mailbox,
 * the error codes, traps and reset of a running core; the hardware queues:
 * registers, doorbells, commands in guest RAM run by a dispatch-loop
 * firmware (or the real one), CQEs and the queue's MSI-X vector.
 *
 * SPDX-License-Identifier: MIT
 */

#include "qemu/osdep.h"
#include <glib/gstdio.h>
#include <sodium.h>
#include "qemu/bswap.h"
#include "libqtest.h"
#include "libqos/pci-pc.h"
#include "qapi/qmp/qdict.h"
#include "hw/pci/pci_regs.h"

#include "mtia/mtia_spec.h"

#define MTIA_SLOT       4
#define MTIA_DEVFN      QPCI_DEVFN(MTIA_SLOT, 0)
#define MSI_ADDR        0x400000ULL   /* guest RAM the MSI-X message lands in */
#define MSI_DATA        0x4d544941U

typedef struct {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar bar0;
} Mtia;

/*
 * The firmware signing key of this run: test images are signed with it, and
 * devices trust it (QT_KEY_PROP) unless a test wants the default key.
 */
static uint8_t qt_pk[crypto_sign_PUBLICKEYBYTES], qt_sk[crypto_sign_SECRETKEYBYTES];
static char qt_key_prop[sizeof("fw-pubkey=") + 2 * crypto_sign_PUBLICKEYBYTES];
#define QT_KEY_PROP qt_key_prop

static void qt_key_init(void)
{
    char hex[2 * crypto_sign_PUBLICKEYBYTES + 1];

    g_assert(sodium_init() >= 0);
    crypto_sign_keypair(qt_pk, qt_sk);
    sodium_bin2hex(hex, sizeof(hex), qt_pk, sizeof(qt_pk));
    snprintf(qt_key_prop, sizeof(qt_key_prop), "fw-pubkey=%s", hex);
}

/* A device that trusts @key_prop ("fw-pubkey=..."; NULL: the default key). */
static void mtia_start_key(Mtia *m, const char *props, const char *key_prop)
{
    m->qts = qtest_initf("-machine q35 -device mtia,addr=%d.0%s%s%s%s",
                         MTIA_SLOT, props ? "," : "", props ? props : "",
                         key_prop ? "," : "", key_prop ? key_prop : "");
    m->bus = qpci_new_pc(m->qts, NULL);
    m->dev = qpci_device_find(m->bus, MTIA_DEVFN);
    g_assert(m->dev != NULL);
    qpci_device_enable(m->dev);
    m->bar0 = qpci_iomap(m->dev, MTIA_BAR_REGS, NULL);
}

static void mtia_start(Mtia *m, const char *props)
{
    mtia_start_key(m, props, QT_KEY_PROP);
}

static void mtia_stop(Mtia *m)
{
    g_free(m->dev);
    qpci_free_pc(m->bus);
    qtest_quit(m->qts);
}

static uint32_t rd(Mtia *m, uint32_t reg)
{
    return qpci_io_readl(m->dev, m->bar0, reg);
}

static void wr(Mtia *m, uint32_t reg, uint32_t val)
{
    qpci_io_writel(m->dev, m->bar0, reg, val);
}

/* PCI identity, the PCIe capability and the BAR layout. */
static void test_pci_config(void)
{
    Mtia m;
    uint8_t exp;
    uint32_t lnkcap;
    uint16_t lnksta;
    uint64_t size;

    mtia_start(&m, "devmem-size=64M,revision=2");
    g_assert_cmphex(qpci_config_readw(m.dev, PCI_VENDOR_ID), ==,
                    MTIA_PCI_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(m.dev, PCI_DEVICE_ID), ==,
                    MTIA_PCI_DEVICE_ID);
    g_assert_cmphex(qpci_config_readw(m.dev, PCI_CLASS_DEVICE), ==,
                    MTIA_PCI_CLASS_ACCEL);
    g_assert_cmphex(qpci_config_readb(m.dev, PCI_REVISION_ID), ==, 2);

    exp = qpci_find_capability(m.dev, PCI_CAP_ID_EXP, 0);
    g_assert_cmphex(exp, !=, 0);
    lnkcap = qpci_config_readl(m.dev, exp + PCI_EXP_LNKCAP);
    g_assert_cmphex(lnkcap & PCI_EXP_LNKCAP_SLS, ==, 4);            /* 16GT/s */
    g_assert_cmphex((lnkcap & PCI_EXP_LNKCAP_MLW) >> 4, ==, 8);     /* x8 */
    lnksta = qpci_config_readw(m.dev, exp + PCI_EXP_LNKSTA);
    g_assert_cmphex(lnksta & PCI_EXP_LNKSTA_CLS, ==, 4);
    g_assert_cmphex((lnksta & PCI_EXP_LNKSTA_NLW) >> 4, ==, 8);
    g_assert_cmphex(qpci_find_capability(m.dev, PCI_CAP_ID_MSIX, 0), !=, 0);

    /* BAR2: 64-bit prefetchable memory of devmem-size bytes. */
    qpci_config_writel(m.dev, PCI_BASE_ADDRESS_2, 0xffffffff);
    qpci_config_writel(m.dev, PCI_BASE_ADDRESS_3, 0xffffffff);
    size = qpci_config_readl(m.dev, PCI_BASE_ADDRESS_2);
    g_assert_cmphex(size & PCI_BASE_ADDRESS_MEM_TYPE_MASK, ==,
                    PCI_BASE_ADDRESS_MEM_TYPE_64);
    g_assert(size & PCI_BASE_ADDRESS_MEM_PREFETCH);
    size = ((uint64_t)qpci_config_readl(m.dev, PCI_BASE_ADDRESS_3) << 32) |
           (size & PCI_BASE_ADDRESS_MEM_MASK);
    g_assert_cmphex(~size + 1, ==, 64 * 1024 * 1024);
    qpci_config_writel(m.dev, PCI_BASE_ADDRESS_2, 0);
    qpci_config_writel(m.dev, PCI_BASE_ADDRESS_3, 0);
    mtia_stop(&m);
}

static void check_identity(const char *props, uint32_t rows, uint32_t cols,
                           uint32_t vectors, uint64_t sram, uint64_t devmem,
                           uint32_t revision)
{
    Mtia m;

    mtia_start(&m, props);
    g_assert_cmphex(rd(&m, MTIA_REG_MAGIC), ==, MTIA_MAGIC_VALUE);
    g_assert_cmphex(rd(&m, MTIA_REG_IF_VERSION), ==,
                    mtia_if_version(MTIA_IF_VERSION_MAJOR, MTIA_IF_VERSION_MINOR));
    g_assert_cmphex(rd(&m, MTIA_REG_CHIP_ID), ==, MTIA_CHIP_ID_MTIA1);
    g_assert_cmphex(rd(&m, MTIA_REG_REVISION), ==, revision);
    g_assert_cmphex(rd(&m, MTIA_REG_PE_GRID), ==, mtia_pe_grid(rows, cols));
    g_assert_cmphex(rd(&m, MTIA_REG_MSIX_VECTORS), ==, vectors);
    g_assert_cmphex(rd(&m, MTIA_REG_SRAM_SIZE_LO), ==, (uint32_t)sram);
    g_assert_cmphex(rd(&m, MTIA_REG_SRAM_SIZE_HI), ==, (uint32_t)(sram >> 32));
    g_assert_cmphex(rd(&m, MTIA_REG_DEVMEM_SIZE_LO), ==, (uint32_t)devmem);
    g_assert_cmphex(rd(&m, MTIA_REG_DEVMEM_SIZE_HI), ==,
                    (uint32_t)(devmem >> 32));
    g_assert_cmphex(rd(&m, MTIA_REG_STATUS) & MTIA_STATUS_READY, ==,
                    MTIA_STATUS_READY);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_MASK), ==, MTIA_IRQ_ALL);
    g_assert_cmphex(qpci_msix_table_size(m.dev), ==, vectors);
    mtia_stop(&m);
}

static void test_identity_default(void)
{
    check_identity(NULL, MTIA_DEFAULT_PE_ROWS, MTIA_DEFAULT_PE_COLS,
                   MTIA_DEFAULT_MSIX_VECTORS, MTIA_DEFAULT_SRAM_BYTES,
                   MTIA_DEFAULT_DEVMEM_BYTES, MTIA_PCI_REVISION);
}

static void test_identity_props(void)
{
    check_identity("devmem-size=64M,sram-size=256M,pe-rows=4,pe-cols=16,"
                   "msix-vectors=4,revision=3",
                   4, 16, 4, 256ULL << 20, 64ULL << 20, 3);
    /* Sizes above 4 GiB need the _HI registers. */
    check_identity("devmem-size=4G", MTIA_DEFAULT_PE_ROWS,
                   MTIA_DEFAULT_PE_COLS, MTIA_DEFAULT_MSIX_VECTORS,
                   MTIA_DEFAULT_SRAM_BYTES, 4ULL << 30, MTIA_PCI_REVISION);
}

static void test_scratch(void)
{
    Mtia m;

    mtia_start(&m, "devmem-size=64M");
    g_assert_cmphex(rd(&m, MTIA_REG_SCRATCH), ==, 0);
    wr(&m, MTIA_REG_SCRATCH, 0xdeadbeef);
    g_assert_cmphex(rd(&m, MTIA_REG_SCRATCH), ==, 0xdeadbeef);
    wr(&m, MTIA_REG_SCRATCH, 0x12345678);
    g_assert_cmphex(rd(&m, MTIA_REG_SCRATCH), ==, 0x12345678);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, 0);
    mtia_stop(&m);
}

static void test_bad_access(void)
{
    Mtia m;

    mtia_start(&m, "devmem-size=64M");

    /* Unmapped offset: reads 0, latches BAD_OFFSET and the offset. */
    g_assert_cmphex(rd(&m, 0x1000), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, MTIA_ERR_BAD_OFFSET);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_ADDR), ==, 0x1000);
    wr(&m, MTIA_REG_ERR_STATUS, MTIA_ERR_BAD_OFFSET);     /* W1C */
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, 0);

    /* Unmapped write near the end of BAR0. */
    wr(&m, MTIA_BAR0_SIZE - 4, 0x1);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, MTIA_ERR_BAD_OFFSET);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_ADDR), ==, MTIA_BAR0_SIZE - 4);
    wr(&m, MTIA_REG_ERR_STATUS, 0xffffffff);

    /* Write to a read-only register: ignored, BAD_WRITE. */
    wr(&m, MTIA_REG_MAGIC, 0x11111111);
    g_assert_cmphex(rd(&m, MTIA_REG_MAGIC), ==, MTIA_MAGIC_VALUE);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, MTIA_ERR_BAD_WRITE);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_ADDR), ==, MTIA_REG_MAGIC);
    wr(&m, MTIA_REG_ERR_STATUS, 0xffffffff);

    /* Bad sizes and alignment: reads return 0, BAD_SIZE. */
    g_assert_cmphex(qpci_io_readb(m.dev, m.bar0, MTIA_REG_MAGIC), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, MTIA_ERR_BAD_SIZE);
    wr(&m, MTIA_REG_ERR_STATUS, 0xffffffff);
    g_assert_cmphex(qpci_io_readw(m.dev, m.bar0, MTIA_REG_SCRATCH + 2), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, MTIA_ERR_BAD_SIZE);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_ADDR), ==, MTIA_REG_SCRATCH + 2);
    wr(&m, MTIA_REG_ERR_STATUS, 0xffffffff);
    qpci_io_writeq(m.dev, m.bar0, MTIA_REG_SCRATCH, 0x1122334455667788ULL);
    g_assert_cmphex(rd(&m, MTIA_REG_SCRATCH), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, MTIA_ERR_BAD_SIZE);
    wr(&m, MTIA_REG_ERR_STATUS, 0xffffffff);

    /* The error cause was latched in IRQ_STATUS (masked, so nothing sent). */
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS) & MTIA_IRQ_ERROR, ==,
                    MTIA_IRQ_ERROR);

    /* Still alive and well. */
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_MAGIC), ==, MTIA_MAGIC_VALUE);
    wr(&m, MTIA_REG_SCRATCH, 0xcafef00d);
    g_assert_cmphex(rd(&m, MTIA_REG_SCRATCH), ==, 0xcafef00d);
    mtia_stop(&m);
}

static void test_irq_status_mask(void)
{
    Mtia m;

    mtia_start(&m, "devmem-size=64M");
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_MASK), ==, MTIA_IRQ_ALL);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS), ==, 0);

    wr(&m, MTIA_REG_IRQ_TEST, 1);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS), ==, MTIA_IRQ_TEST);
    /* Writing 0 clears nothing; writing the bit clears it (W1C). */
    wr(&m, MTIA_REG_IRQ_STATUS, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS), ==, MTIA_IRQ_TEST);
    wr(&m, MTIA_REG_IRQ_STATUS, MTIA_IRQ_TEST);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS), ==, 0);

    /* IRQ_MASK is plain RW. */
    wr(&m, MTIA_REG_IRQ_MASK, MTIA_IRQ_ERROR);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_MASK), ==, MTIA_IRQ_ERROR);
    wr(&m, MTIA_REG_IRQ_MASK, MTIA_IRQ_ALL);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_MASK), ==, MTIA_IRQ_ALL);
    mtia_stop(&m);
}

/* Program MSI-X vector @vec to write MSI_DATA to @addr, unmasked. */
static void msix_program(Mtia *m, int vec, uint64_t addr)
{
    QPCIBar t = m->dev->msix_table_bar;
    uint64_t e = m->dev->msix_table_off + vec * PCI_MSIX_ENTRY_SIZE;

    qpci_io_writel(m->dev, t, e + PCI_MSIX_ENTRY_LOWER_ADDR, (uint32_t)addr);
    qpci_io_writel(m->dev, t, e + PCI_MSIX_ENTRY_UPPER_ADDR, addr >> 32);
    qpci_io_writel(m->dev, t, e + PCI_MSIX_ENTRY_DATA, MSI_DATA);
    qpci_io_writel(m->dev, t, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
}

static uint32_t msi_landed(Mtia *m)
{
    uint32_t v = qtest_readl(m->qts, MSI_ADDR);

    qtest_writel(m->qts, MSI_ADDR, 0);
    return v;
}

static void test_msix(void)
{
    Mtia m;

    mtia_start(&m, "devmem-size=64M");
    qpci_msix_enable(m.dev);
    g_assert(qpci_msix_masked(m.dev, MTIA_MSIX_VEC_ADMIN));   /* reset state */
    msix_program(&m, MTIA_MSIX_VEC_ADMIN, MSI_ADDR);
    g_assert(!qpci_msix_masked(m.dev, MTIA_MSIX_VEC_ADMIN));
    qtest_writel(m.qts, MSI_ADDR, 0);

    /* Cause masked (reset state): status latches, no message. */
    wr(&m, MTIA_REG_IRQ_TEST, 1);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS), ==, MTIA_IRQ_TEST);
    g_assert_cmphex(msi_landed(&m), ==, 0);
    wr(&m, MTIA_REG_IRQ_STATUS, MTIA_IRQ_TEST);

    /* Unmask with nothing pending: still nothing. */
    wr(&m, MTIA_REG_IRQ_MASK, MTIA_IRQ_ALL & ~MTIA_IRQ_TEST);
    g_assert_cmphex(msi_landed(&m), ==, 0);

    /* Unmasked: the test interrupt is delivered on vector 0. */
    wr(&m, MTIA_REG_IRQ_TEST, 1);
    g_assert_cmphex(msi_landed(&m), ==, MSI_DATA);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS), ==, MTIA_IRQ_TEST);
    wr(&m, MTIA_REG_IRQ_STATUS, MTIA_IRQ_TEST);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS), ==, 0);
    g_assert_cmphex(msi_landed(&m), ==, 0);

    /* Again, to show it is an edge per raise, not a one-off. */
    wr(&m, MTIA_REG_IRQ_TEST, 1);
    g_assert_cmphex(msi_landed(&m), ==, MSI_DATA);
    wr(&m, MTIA_REG_IRQ_STATUS, MTIA_IRQ_TEST);

    /* Pending while masked, then unmasked: delivered on unmask. */
    wr(&m, MTIA_REG_IRQ_MASK, MTIA_IRQ_ALL);
    wr(&m, MTIA_REG_IRQ_TEST, 1);
    g_assert_cmphex(msi_landed(&m), ==, 0);
    wr(&m, MTIA_REG_IRQ_MASK, MTIA_IRQ_ALL & ~MTIA_IRQ_TEST);
    g_assert_cmphex(msi_landed(&m), ==, MSI_DATA);
    wr(&m, MTIA_REG_IRQ_STATUS, MTIA_IRQ_TEST);

    /* MSI-X vector masked: PBA pending; delivered when the vector unmasks. */
    qpci_io_writel(m.dev, m.dev->msix_table_bar,
                   m.dev->msix_table_off + PCI_MSIX_ENTRY_VECTOR_CTRL,
                   PCI_MSIX_ENTRY_CTRL_MASKBIT);
    wr(&m, MTIA_REG_IRQ_TEST, 1);
    g_assert_cmphex(msi_landed(&m), ==, 0);
    g_assert(qpci_msix_pending(m.dev, MTIA_MSIX_VEC_ADMIN));
    qpci_io_writel(m.dev, m.dev->msix_table_bar,
                   m.dev->msix_table_off + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
    g_assert_cmphex(msi_landed(&m), ==, MSI_DATA);
    wr(&m, MTIA_REG_IRQ_STATUS, MTIA_IRQ_TEST);

    /* MSI-X disabled: nothing is sent, and nothing breaks. */
    qpci_msix_disable(m.dev);
    wr(&m, MTIA_REG_IRQ_TEST, 1);
    g_assert_cmphex(msi_landed(&m), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS), ==, MTIA_IRQ_TEST);
    mtia_stop(&m);
}

/* An unmasked error cause raises the admin vector on a bad access. */
static void test_msix_error_irq(void)
{
    Mtia m;

    mtia_start(&m, "devmem-size=64M,msix-vectors=4");
    qpci_msix_enable(m.dev);
    msix_program(&m, MTIA_MSIX_VEC_ADMIN, MSI_ADDR);
    qtest_writel(m.qts, MSI_ADDR, 0);
    wr(&m, MTIA_REG_IRQ_MASK, MTIA_IRQ_ALL & ~MTIA_IRQ_ERROR);
    g_assert_cmphex(msi_landed(&m), ==, 0);
    rd(&m, 0x2000);
    g_assert_cmphex(msi_landed(&m), ==, MSI_DATA);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS), ==, MTIA_IRQ_ERROR);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, MTIA_ERR_BAD_OFFSET);
    mtia_stop(&m);
}

static void test_reset(void)
{
    Mtia m;
    uint32_t count;

    mtia_start(&m, "devmem-size=64M");
    count = rd(&m, MTIA_REG_RESET_COUNT);

    wr(&m, MTIA_REG_SCRATCH, 0xdeadbeef);
    wr(&m, MTIA_REG_IRQ_MASK, 0);
    wr(&m, MTIA_REG_IRQ_TEST, 1);

    /* A wrong key does nothing but flag BAD_WRITE. */
    wr(&m, MTIA_REG_RESET, 0x12345678);
    g_assert_cmphex(rd(&m, MTIA_REG_SCRATCH), ==, 0xdeadbeef);
    g_assert_cmphex(rd(&m, MTIA_REG_RESET_COUNT), ==, count);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS) & MTIA_ERR_BAD_WRITE, ==,
                    MTIA_ERR_BAD_WRITE);

    /* The key resets scratch, IRQ and error state, and counts. */
    wr(&m, MTIA_REG_RESET, MTIA_RESET_KEY);
    g_assert_cmphex(rd(&m, MTIA_REG_SCRATCH), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_RESET_COUNT), ==, count + 1);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_MASK), ==, MTIA_IRQ_ALL);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_STATUS), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_MAGIC), ==, MTIA_MAGIC_VALUE);

    wr(&m, MTIA_REG_RESET, MTIA_RESET_KEY);
    g_assert_cmphex(rd(&m, MTIA_REG_RESET_COUNT), ==, count + 2);
    mtia_stop(&m);
}

/* A machine reset puts the registers back to their reset values. */
static void test_system_reset(void)
{
    Mtia m;

    mtia_start(&m, "devmem-size=64M");
    wr(&m, MTIA_REG_SCRATCH, 0xdeadbeef);
    wr(&m, MTIA_REG_IRQ_MASK, 0);
    qtest_qmp_assert_success(m.qts, "{ 'execute': 'system_reset' }");
    qtest_qmp_eventwait(m.qts, "RESET");
    /* Firmware would program the BARs again; so do we. */
    qpci_device_enable(m.dev);
    m.bar0 = qpci_iomap(m.dev, MTIA_BAR_REGS, NULL);
    g_assert_cmphex(rd(&m, MTIA_REG_SCRATCH), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_IRQ_MASK), ==, MTIA_IRQ_ALL);
    g_assert_cmphex(rd(&m, MTIA_REG_MAGIC), ==, MTIA_MAGIC_VALUE);
    mtia_stop(&m);
}

/* BAR2 is plain memory. */
static void test_devmem(void)
{
    Mtia m;
    QPCIBar bar2;
    uint64_t size;
    uint8_t buf[256], back[256];
    size_t i;

    mtia_start(&m, "devmem-size=64M");
    bar2 = qpci_iomap(m.dev, MTIA_BAR_DEVMEM, &size);
    g_assert_cmphex(size, ==, 64 * 1024 * 1024);
    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = i * 7 + 1;
    }
    qpci_memwrite(m.dev, bar2, 0, buf, sizeof(buf));
    qpci_memwrite(m.dev, bar2, size - sizeof(buf), buf, sizeof(buf));
    qpci_memread(m.dev, bar2, 0, back, sizeof(back));
    g_assert_cmpmem(buf, sizeof(buf), back, sizeof(back));
    qpci_memread(m.dev, bar2, size - sizeof(back), back, sizeof(back));
    g_assert_cmpmem(buf, sizeof(buf), back, sizeof(back));
    qpci_io_writeq(m.dev, bar2, 0x1000, 0x0123456789abcdefULL);
    g_assert_cmphex(qpci_io_readq(m.dev, bar2, 0x1000), ==,
                    0x0123456789abcdefULL);
    /* Register access is unaffected. */
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, 0);
    mtia_stop(&m);
}

/* ---- firmware boot -------------------------------------------------------- */

/*
 * Test firmware, RV32I (assembled with riscv64-unknown-elf-as -march=rv32i,
 * position independent): READY, then count FW_HEARTBEAT as fast as it can
 * and poll the mailbox doorbell; a command is answered with word 0 echoed,
 * status OK and args[0] + 1. Header flag TEST_TRAP: illegal instruction at
 * offset 0xc before anything else (no mtvec: the core halts).
 */
static const uint32_t test_fw[] = {
    0x20000437, /* 00 lui   s0, 0x20000       regs */
    0x00257293, /* 04 andi  t0, a0, 2         MTIA_FW_FLAG_TEST_TRAP */
    0x00028463, /* 08 beqz  t0, 0x10 */
    0x00000000, /* 0c .word 0                 illegal */
    0x000102b7, /* 10 lui   t0, 0x10 */
    0x20328293, /* 14 addi  t0, t0, 0x203 */
    0x10542c23, /* 18 sw    t0, FW_VERSION(s0) */
    0x00200293, /* 1c li    t0, 2 */
    0x10542a23, /* 20 sw    t0, FW_STATUS(s0) READY */
    0x11c42303, /* 24 loop: lw t1, FW_HEARTBEAT(s0) */
    0x00130313, /* 28 addi  t1, t1, 1 */
    0x10642e23, /* 2c sw    t1, FW_HEARTBEAT(s0) */
    0x28042383, /* 30 lw    t2, MBOX_DOORBELL(s0) */
    0xfe0388e3, /* 34 beqz  t2, loop */
    0x20042e03, /* 38 lw    t3, MBOX_CMD(s0) */
    0x25c42023, /* 3c sw    t3, MBOX_RESP(s0) */
    0x20842e03, /* 40 lw    t3, MBOX_CMD + 8(s0) */
    0x001e0e13, /* 44 addi  t3, t3, 1 */
    0x25c42423, /* 48 sw    t3, MBOX_RESP + 8(s0) */
    0x24042223, /* 4c sw    zero, MBOX_RESP + 4(s0) */
    0x00100e93, /* 50 li    t4, 1 */
    0x29d42023, /* 54 sw    t4, MBOX_DOORBELL(s0)   RW1C */
    0x41d42823, /* 58 sw    t4, MBOX_POST(s0) */
    0xfc9ff06f, /* 5c j     loop */
};
#define TEST_FW_TRAP_OFF 0xc
#define FW_LOAD (MTIA_CC_SRAM_BASE + 0x1000)

/* Header + @code + room for the signature block; not signed yet. */
static size_t fw_image_of(uint8_t *buf, const uint32_t *code, size_t code_len,
                          uint32_t flags)
{
    struct mtia_fw_header h = {
        .magic = MTIA_FW_MAGIC,
        .format_version = MTIA_FW_FORMAT_VERSION,
        .header_size = MTIA_FW_HEADER_SIZE,
        .load_addr = FW_LOAD,
        .entry = FW_LOAD,
        .payload_size = code_len,
        .fw_version = MTIA_FW_VERSION(0, 0, 1),
        .flags = flags,
        .sig_size = MTIA_FW_SIG_SIZE,
    };

    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), code, code_len);
    memset(buf + sizeof(h) + code_len, 0, MTIA_FW_SIG_SIZE);
    return sizeof(h) + code_len + MTIA_FW_SIG_SIZE;
}

/* Header + payload, signed; the caller may break it afterwards. */
static size_t fw_image(uint8_t *buf, uint32_t flags)
{
    return fw_image_of(buf, test_fw, sizeof(test_fw), flags);
}

/* The digest of an image of @len bytes whose last @sig bytes are not hashed. */
static void fw_rehash(uint8_t *img, size_t len, size_t sig)
{
    GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
    gsize dlen = 32;

    memset(img + offsetof(struct mtia_fw_header, sha256), 0, 32);
    g_checksum_update(c, img, len - sig);
    g_checksum_get_digest(c, img + offsetof(struct mtia_fw_header, sha256), &dlen);
    g_assert_cmpuint(dlen, ==, 32);
    g_checksum_free(c);
}

/* Digest and signature block of a fw_image_of() image, with key @pk/@sk. */
static void fw_sign_with(uint8_t *img, size_t len, const uint8_t *pk, const uint8_t *sk)
{
    uint8_t *sig = img + len - MTIA_FW_SIG_SIZE;
    uint8_t id[crypto_hash_sha256_BYTES];
    const uint32_t magic = cpu_to_le32(MTIA_FW_SIG_MAGIC);
    const uint16_t alg = cpu_to_le16(MTIA_FW_SIG_ALG_ED25519);

    fw_rehash(img, len, MTIA_FW_SIG_SIZE);
    memset(sig, 0, MTIA_FW_SIG_SIZE);
    memcpy(sig + offsetof(struct mtia_fw_sig, magic), &magic, 4);
    memcpy(sig + offsetof(struct mtia_fw_sig, alg), &alg, 2);
    crypto_hash_sha256(id, pk, crypto_sign_PUBLICKEYBYTES);
    memcpy(sig + offsetof(struct mtia_fw_sig, key_id), id, MTIA_FW_KEY_ID_SIZE);
    crypto_sign_detached(sig + offsetof(struct mtia_fw_sig, signature), NULL,
                         img, MTIA_FW_HEADER_SIZE, sk);
}

static void fw_sign(uint8_t *img, size_t len)
{
    fw_sign_with(img, len, qt_pk, qt_sk);
}

/* Stage @img at device-memory offset @off, then boot; FW_BOOT_STATUS. */
static uint32_t fw_boot(Mtia *m, QPCIBar bar2, uint64_t off, const uint8_t *img,
                        size_t len, uint32_t stage_size)
{
    qpci_memwrite(m->dev, bar2, off, img, len);
    wr(m, MTIA_REG_FW_STAGE_LO, (uint32_t)off);
    wr(m, MTIA_REG_FW_STAGE_HI, off >> 32);
    wr(m, MTIA_REG_FW_STAGE_SIZE, stage_size);
    wr(m, MTIA_REG_FW_BOOT, MTIA_FW_BOOT_KEY);
    return rd(m, MTIA_REG_FW_BOOT_STATUS);
}

static uint32_t fw_boot_good(Mtia *m, QPCIBar bar2, uint32_t flags)
{
    uint8_t img[512];
    size_t len = fw_image(img, flags);

    fw_sign(img, len);
    return fw_boot(m, bar2, 0, img, len, len);
}

/* Poll until (reg & mask) == val; the core runs on its own thread. */
static bool wait_reg(Mtia *m, uint32_t reg, uint32_t mask, uint32_t val)
{
    int i;

    for (i = 0; i < 5000; i++) {
        if ((rd(m, reg) & mask) == val) {
            return true;
        }
        g_usleep(1000);
    }
    return false;
}

/* Messages from the core thread land asynchronously: only clear the slot
 * once one is there (msi_landed()'s read-then-clear could erase a message
 * landing in between). */
static bool wait_msi(Mtia *m)
{
    int i;

    for (i = 0; i < 5000; i++) {
        if (qtest_readl(m->qts, MSI_ADDR) == MSI_DATA) {
            qtest_writel(m->qts, MSI_ADDR, 0);
            return true;
        }
        g_usleep(1000);
    }
    return false;
}

/* A good image boots; READY arrives as an MSI-X (sent from the core thread
 * through the bottom half); heartbeat and mailbox work. */
static void test_fw_boot(void)
{
    Mtia m;
    QPCIBar bar2;
    uint32_t hb, i;

    mtia_start(&m, "devmem-size=64M");
    bar2 = qpci_iomap(m.dev, MTIA_BAR_DEVMEM, NULL);
    qpci_msix_enable(m.dev);
    msix_program(&m, MTIA_MSIX_VEC_ADMIN, MSI_ADDR);
    qtest_writel(m.qts, MSI_ADDR, 0);
    wr(&m, MTIA_REG_IRQ_MASK, 0);

    g_assert_cmphex(rd(&m, MTIA_REG_FW_BOOT_STATUS), ==, MTIA_BOOT_IDLE);
    g_assert_cmphex(fw_boot_good(&m, bar2, 0), ==, MTIA_BOOT_RUNNING);
    g_assert(wait_reg(&m, MTIA_REG_FW_STATUS, ~0u, MTIA_FW_STATUS_READY));
    g_assert_cmphex(rd(&m, MTIA_REG_FW_VERSION), ==, 0x010203);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, 0);
    /* The boot itself raised FW_EVENT (from the vCPU, directly)... */
    g_assert(rd(&m, MTIA_REG_IRQ_STATUS) & MTIA_IRQ_FW_EVENT);
    msi_landed(&m);
    wr(&m, MTIA_REG_IRQ_STATUS, ~0u);

    hb = rd(&m, MTIA_REG_FW_HEARTBEAT);
    for (i = 0; i < 5000 && rd(&m, MTIA_REG_FW_HEARTBEAT) == hb; i++) {
        g_usleep(1000);
    }
    g_assert_cmphex(rd(&m, MTIA_REG_FW_HEARTBEAT), !=, hb);
    for (i = 0; i < 5000 && rd(&m, MTIA_REG_FW_INSTRET_LO) == 0; i++) {
        g_usleep(1000);
    }
    g_assert_cmphex(rd(&m, MTIA_REG_FW_INSTRET_LO), !=, 0);

    /* ...the mailbox response comes from the core thread, via the BH. */
    for (i = 1; i <= 3; i++) {
        wr(&m, MTIA_REG_MBOX_CMD, mtia_mbox_word0(MTIA_ADMIN_PING, i));
        wr(&m, MTIA_REG_MBOX_CMD + 8, 0x1000 * i);
        wr(&m, MTIA_REG_MBOX_DOORBELL, 1);
        g_assert(wait_msi(&m));
        g_assert(rd(&m, MTIA_REG_IRQ_STATUS) & MTIA_IRQ_MBOX);
        g_assert_cmphex(rd(&m, MTIA_REG_MBOX_RESP), ==, mtia_mbox_word0(MTIA_ADMIN_PING, i));
        g_assert_cmphex(rd(&m, MTIA_REG_MBOX_RESP + 4), ==, MTIA_ADMIN_STATUS_OK);
        g_assert_cmphex(rd(&m, MTIA_REG_MBOX_RESP + 8), ==, 0x1000 * i + 1);
        g_assert_cmphex(rd(&m, MTIA_REG_MBOX_DOORBELL), ==, 0);
        wr(&m, MTIA_REG_IRQ_STATUS, MTIA_IRQ_MBOX);
    }
    /* The host cannot forge firmware state. */
    wr(&m, MTIA_REG_FW_STATUS, MTIA_FW_STATUS_ERROR);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, MTIA_ERR_BAD_WRITE);
    g_assert_cmphex(rd(&m, MTIA_REG_FW_STATUS), ==, MTIA_FW_STATUS_READY);
    mtia_stop(&m);
}

/* Every boot ROM check over real MMIO, then a retry that works. */
static void test_fw_bad_images(void)
{
    uint8_t other_pk[crypto_sign_PUBLICKEYBYTES], other_sk[crypto_sign_SECRETKEYBYTES];
    Mtia m;
    QPCIBar bar2;
    uint8_t img[512];
    struct mtia_fw_header *h = (struct mtia_fw_header *)img;
    size_t len;

    mtia_start(&m, "devmem-size=64M");
    bar2 = qpci_iomap(m.dev, MTIA_BAR_DEVMEM, NULL);

#define BAD(expr, resign, code) do {                                        \
        len = fw_image(img, 0);                                             \
        fw_sign(img, len);                                                  \
        expr;                                                               \
        if (resign) {                                                       \
            fw_sign(img, len);                                              \
        }                                                                   \
        g_assert_cmphex(fw_boot(&m, bar2, 0, img, len, len), ==, code);     \
    } while (0)

    BAD(h->magic = 0x12345678, true, MTIA_BOOT_ERR_BAD_MAGIC);
    BAD(h->format_version = 9, true, MTIA_BOOT_ERR_BAD_FORMAT);
    BAD(h->header_size = 16, true, MTIA_BOOT_ERR_BAD_HEADER);
    BAD(h->reserved[0] = 1, true, MTIA_BOOT_ERR_BAD_HEADER);
    BAD(h->flags = 0x100, true, MTIA_BOOT_ERR_BAD_HEADER);
    BAD(h->payload_size += 8, true, MTIA_BOOT_ERR_TRUNCATED);
    BAD((h->load_addr = MTIA_CC_SRAM_BASE + MTIA_CC_SRAM_SIZE - 8, h->entry = h->load_addr),
        true, MTIA_BOOT_ERR_BAD_LOAD);
    BAD((h->load_addr = 0, h->entry = 0), true, MTIA_BOOT_ERR_BAD_LOAD);
    BAD(h->entry = FW_LOAD + sizeof(test_fw), true, MTIA_BOOT_ERR_BAD_ENTRY);
    BAD(h->entry = FW_LOAD + 2 + 1, true, MTIA_BOOT_ERR_BAD_ENTRY);
    BAD(img[sizeof(*h) + 17] ^= 1, false, MTIA_BOOT_ERR_BAD_DIGEST);
    BAD(h->fw_version ^= 1, false, MTIA_BOOT_ERR_BAD_DIGEST);
    BAD(h->sha256[0] ^= 1, false, MTIA_BOOT_ERR_BAD_DIGEST);
    /* The signature, checked after the digest (docs/firmware.md). */
    crypto_sign_keypair(other_pk, other_sk);
    BAD((h->sig_size = 0, len -= MTIA_FW_SIG_SIZE, fw_rehash(img, len, 0)), false,
        MTIA_BOOT_ERR_UNSIGNED);
    BAD(fw_sign_with(img, len, other_pk, other_sk), false, MTIA_BOOT_ERR_UNTRUSTED_KEY);
    BAD((img[sizeof(*h) + 17] ^= 1, fw_rehash(img, len, MTIA_FW_SIG_SIZE)), false,
        MTIA_BOOT_ERR_BAD_SIGNATURE);
    BAD(img[len - 1] ^= 1, false, MTIA_BOOT_ERR_BAD_SIGNATURE);
#undef BAD
    g_assert_cmphex(rd(&m, MTIA_REG_FW_STATUS), ==, MTIA_FW_STATUS_OFF);

    /* Stage bounds, including a 64-bit offset that wraps. */
    len = fw_image(img, 0);
    fw_sign(img, len);
    g_assert_cmphex(fw_boot(&m, bar2, 0, img, len, len - 1), ==,
                    MTIA_BOOT_ERR_TRUNCATED);
    g_assert_cmphex(fw_boot(&m, bar2, 0, img, len, 0x4000001), ==,
                    MTIA_BOOT_ERR_BAD_STAGE);
    wr(&m, MTIA_REG_FW_STAGE_LO, 0xfffff000);
    wr(&m, MTIA_REG_FW_STAGE_HI, 0xffffffff);
    wr(&m, MTIA_REG_FW_STAGE_SIZE, 0x2000);
    wr(&m, MTIA_REG_FW_BOOT, MTIA_FW_BOOT_KEY);
    g_assert_cmphex(rd(&m, MTIA_REG_FW_BOOT_STATUS), ==, MTIA_BOOT_ERR_BAD_STAGE);
    wr(&m, MTIA_REG_FW_STAGE_LO, 0);
    wr(&m, MTIA_REG_FW_STAGE_HI, 1);   /* 4 GiB: past 64M of device memory */
    wr(&m, MTIA_REG_FW_BOOT, MTIA_FW_BOOT_KEY);
    g_assert_cmphex(rd(&m, MTIA_REG_FW_BOOT_STATUS), ==, MTIA_BOOT_ERR_BAD_STAGE);
    /* Wrong key: a bad write, nothing booted. */
    wr(&m, MTIA_REG_FW_BOOT, 1);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS) & MTIA_ERR_BAD_WRITE, ==,
                    MTIA_ERR_BAD_WRITE);
    g_assert_cmphex(rd(&m, MTIA_REG_FW_BOOT_STATUS), ==, MTIA_BOOT_ERR_BAD_STAGE);

    /* Retry with a good image, staged somewhere else in device memory. */
    g_assert_cmphex(fw_boot(&m, bar2, 0x10000, img, len, len), ==,
                    MTIA_BOOT_RUNNING);
    g_assert(wait_reg(&m, MTIA_REG_FW_STATUS, ~0u, MTIA_FW_STATUS_READY));
    /* Busy: the running core is left alone. */
    g_assert_cmphex(fw_boot(&m, bar2, 0, img, len, len), ==, MTIA_BOOT_ERR_BUSY);
    g_assert_cmphex(rd(&m, MTIA_REG_FW_STATUS), ==, MTIA_FW_STATUS_READY);
    mtia_stop(&m);
}

/*
 * Without fw-pubkey a device trusts the development key (the real images'),
 * so an image signed with this run's key is "another key"; a fw-pubkey that
 * is not a key is refused at realize (run-qtests.sh: bad_prop).
 */
static void test_fw_default_key(void)
{
    Mtia m;
    QPCIBar bar2;

    mtia_start_key(&m, "devmem-size=64M", NULL);
    bar2 = qpci_iomap(m.dev, MTIA_BAR_DEVMEM, NULL);
    g_assert_cmphex(fw_boot_good(&m, bar2, 0), ==, MTIA_BOOT_ERR_UNTRUSTED_KEY);
    g_assert_cmphex(rd(&m, MTIA_REG_FW_STATUS), ==, MTIA_FW_STATUS_OFF);
    mtia_stop(&m);
}

/* An illegal instruction with no trap handler halts the core. */
static void test_fw_trap(void)
{
    Mtia m;
    QPCIBar bar2;
    uint32_t st;

    mtia_start(&m, "devmem-size=64M");
    bar2 = qpci_iomap(m.dev, MTIA_BAR_DEVMEM, NULL);
    st = fw_boot_good(&m, bar2, MTIA_FW_FLAG_TEST_TRAP);
    g_assert(st == MTIA_BOOT_RUNNING || st == MTIA_BOOT_HALTED);
    g_assert(wait_reg(&m, MTIA_REG_FW_BOOT_STATUS, ~0u, MTIA_BOOT_HALTED));
    g_assert_cmphex(rd(&m, MTIA_REG_FW_TRAP_CAUSE), ==, 2);
    g_assert_cmphex(rd(&m, MTIA_REG_FW_TRAP_PC), ==, FW_LOAD + TEST_FW_TRAP_OFF);
    g_assert_cmphex(rd(&m, MTIA_REG_FW_TRAP_TVAL), ==, 0);
    g_assert(rd(&m, MTIA_REG_IRQ_STATUS) & MTIA_IRQ_FW_EVENT);
    /* Halted is not running: boot again. */
    g_assert_cmphex(fw_boot_good(&m, bar2, 0), ==, MTIA_BOOT_RUNNING);
    g_assert(wait_reg(&m, MTIA_REG_FW_STATUS, ~0u, MTIA_FW_STATUS_READY));
    mtia_stop(&m);
}

/* Register and machine reset stop a running core. */
static void test_fw_reset_running(void)
{
    Mtia m;
    QPCIBar bar2;

    mtia_start(&m, "devmem-size=64M");
    bar2 = qpci_iomap(m.dev, MTIA_BAR_DEVMEM, NULL);
    g_assert_cmphex(fw_boot_good(&m, bar2, 0), ==, MTIA_BOOT_RUNNING);
    g_assert(wait_reg(&m, MTIA_REG_FW_STATUS, ~0u, MTIA_FW_STATUS_READY));
    wr(&m, MTIA_REG_RESET, MTIA_RESET_KEY);
    g_assert_cmphex(rd(&m, MTIA_REG_FW_BOOT_STATUS), ==, MTIA_BOOT_IDLE);
    g_assert_cmphex(rd(&m, MTIA_REG_FW_STATUS), ==, MTIA_FW_STATUS_OFF);
    g_usleep(20 * 1000);
    g_assert_cmphex(rd(&m, MTIA_REG_FW_HEARTBEAT), ==, 0);

    g_assert_cmphex(fw_boot_good(&m, bar2, 0), ==, MTIA_BOOT_RUNNING);
    g_assert(wait_reg(&m, MTIA_REG_FW_STATUS, ~0u, MTIA_FW_STATUS_READY));
    qtest_qmp_assert_success(m.qts, "{ 'execute': 'system_reset' }");
    qtest_qmp_eventwait(m.qts, "RESET");
    qpci_device_enable(m.dev);
    m.bar0 = qpci_iomap(m.dev, MTIA_BAR_REGS, NULL);
    g_assert_cmphex(rd(&m, MTIA_REG_FW_BOOT_STATUS), ==, MTIA_BOOT_IDLE);
    g_assert_cmphex(rd(&m, MTIA_REG_FW_HEARTBEAT), ==, 0);
    /* And it boots again after the machine reset. */
    bar2 = qpci_iomap(m.dev, MTIA_BAR_DEVMEM, NULL);
    g_assert_cmphex(fw_boot_good(&m, bar2, 0), ==, MTIA_BOOT_RUNNING);
    g_assert(wait_reg(&m, MTIA_REG_FW_STATUS, ~0u, MTIA_FW_STATUS_READY));
    /* Quit with the core running: must not hang or crash. */
    mtia_stop(&m);
}

/* ---- hardware queues ------------------------------------------------------ */

/*
 * Dispatch-loop firmware, RV32I (riscv64-unknown-elf-as -march=rv32i):
 * READY, then poll Q_PENDING; fetch from the lowest pending queue; NOP and
 * FENCE are completed by firmware (Q_COMPLETE, OK: the device orders the
 * completion behind the queue's engine work), everything else goes to the
 * engine (Q_DISPATCH), which also rejects bad opcodes and fields.
 */
static const uint32_t queue_fw[] = {
    0x20000437, /* 00 lui   s0, 0x20000 */
    0x00200293, /* 04 li    t0, 2 */
    0x10542a23, /* 08 sw    t0, FW_STATUS(s0)      READY */
    0x42042283, /* 0c loop: lw t0, Q_PENDING(s0) */
    0xfe028ee3, /* 10 beqz  t0, loop */
    0x00000313, /* 14 li    t1, 0 */
    0x0012f393, /* 18 find: andi t2, t0, 1 */
    0x00039863, /* 1c bnez  t2, found */
    0x0012d293, /* 20 srli  t0, t0, 1 */
    0x00130313, /* 24 addi  t1, t1, 1 */
    0xff1ff06f, /* 28 j     find */
    0x42642223, /* 2c found: sw t1, Q_FETCH(s0) */
    0x42842383, /* 30 lw    t2, Q_FETCH_STATUS(s0) */
    0xfc039ce3, /* 34 bnez  t2, loop */
    0x48044e03, /* 38 lbu   t3, SQE(s0)          opcode */
    0x000e0a63, /* 3c beqz  t3, nop */
    0xffde0e93, /* 40 addi  t4, t3, -3           FENCE */
    0x000e8663, /* 44 beqz  t4, nop */
    0x42642623, /* 48 sw    t1, Q_DISPATCH(s0) */
    0xfc1ff06f, /* 4c j     loop */
    0x42642823, /* 50 nop:  sw t1, Q_COMPLETE(s0)  q | OK << 16 */
    0xfb9ff06f, /* 54 j     loop */
};

#define QT_SQ       0x1000000ULL   /* guest RAM: queue 1's rings and buffers */
#define QT_CQ       0x1010000ULL
#define QT_SRC      0x1020000ULL
#define QT_DST      0x1030000ULL
#define QT_TS       0x1040000ULL
#define QT_SGT      0x1050000ULL
#define QT_VEC      3
#define QT_MSI_ADDR (MSI_ADDR + 0x100)

static void q_cmd(Mtia *m, unsigned slot, uint8_t op, uint16_t cid,
                  uint64_t len, uint64_t src, uint64_t dst, uint64_t value)
{
    struct mtia_cmd c = {
        .opcode = op, .cid = cid, .len = len, .value = value,
        .src = { .addr = src }, .dst = { .addr = dst },
    };

    qtest_memwrite(m->qts, QT_SQ + slot * sizeof(c), &c, sizeof(c));
}

/* Waits for CQ entry @slot to carry @phase; false after 5 s. */
static bool q_wait_cqe(Mtia *m, unsigned slot, unsigned phase,
                       struct mtia_cqe *e)
{
    int i;

    for (i = 0; i < 5000; i++) {
        qtest_memread(m->qts, QT_CQ + slot * sizeof(*e), e, sizeof(*e));
        if (mtia_cqe_phase(e->status) == phase) {
            return true;
        }
        g_usleep(1000);
    }
    return false;
}

static bool wait_msi_at(Mtia *m, uint64_t addr)
{
    int i;

    for (i = 0; i < 5000; i++) {
        if (qtest_readl(m->qts, addr) == MSI_DATA) {
            qtest_writel(m->qts, addr, 0);
            return true;
        }
        g_usleep(1000);
    }
    return false;
}

/*
 * Real MMIO round trip: queue 1 in guest RAM, commands behind the doorbell,
 * a dispatch-loop firmware (hand-assembled, or the real one given by
 * $MTIA_FW_IMAGE), CQEs with the phase bit, the queue's own MSI-X vector,
 * data in guest RAM and BAR2, errors as statuses, bus mastering off.
 */
/* @props: the device's properties; @key_prop: the key it trusts
 * (mtia_start_key()). */
static void run_queue_roundtrip(const uint8_t *img, size_t len, const char *props,
                                const char *key_prop)
{
    Mtia m;
    QPCIBar bar2;
    uint8_t src[4096], back[4096];
    struct mtia_cqe e[8];
    struct mtia_sgt t = { MTIA_SGT_MAGIC, 2, 4096 };
    struct mtia_sg_entry ents[2] = { { QT_DST + 0x8000, 1000 }, { QT_DST + 0xa000, 3096 } };
    uint64_t ts;
    unsigned i;

    mtia_start_key(&m, props, key_prop);
    g_assert_cmphex(rd(&m, MTIA_REG_MSIX_VECTORS), ==, 1 + MTIA_NUM_QUEUES);
    bar2 = qpci_iomap(m.dev, MTIA_BAR_DEVMEM, NULL);
    qpci_msix_enable(m.dev);
    msix_program(&m, QT_VEC, QT_MSI_ADDR);
    qtest_writel(m.qts, QT_MSI_ADDR, 0);

    wr(&m, MTIA_REG_Q(1, MTIA_Q_SQ_BASE_LO), (uint32_t)QT_SQ);
    wr(&m, MTIA_REG_Q(1, MTIA_Q_SQ_BASE_HI), 0);
    wr(&m, MTIA_REG_Q(1, MTIA_Q_CQ_BASE_LO), (uint32_t)QT_CQ);
    wr(&m, MTIA_REG_Q(1, MTIA_Q_CQ_BASE_HI), 0);
    wr(&m, MTIA_REG_Q(1, MTIA_Q_SIZE), mtia_q_size(4, 3));          /* SQ 16, CQ 8 */
    wr(&m, MTIA_REG_Q(1, MTIA_Q_CTRL), mtia_q_ctrl(1, 0, QT_VEC));
    g_assert_cmphex(rd(&m, MTIA_REG_Q(1, MTIA_Q_STATUS)), ==, MTIA_Q_STATUS_ENABLED);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, 0);
    qtest_memset(m.qts, QT_CQ, 0, 0x1000);

    for (i = 0; i < sizeof(src); i++) {
        src[i] = i * 13 + 5;
    }
    qtest_memwrite(m.qts, QT_SRC, src, sizeof(src));
    qtest_memwrite(m.qts, QT_SGT, &t, sizeof(t));
    qtest_memwrite(m.qts, QT_SGT + sizeof(t), ents, sizeof(ents));
    q_cmd(&m, 0, MTIA_CMD_COPY, 10, 4096, QT_SRC, MTIA_ADDR_DEVMEM | 0x200000, 0);
    q_cmd(&m, 1, MTIA_CMD_FILL, 11, 64, 0, MTIA_ADDR_DEVMEM | 0x300000, 0xa5);
    q_cmd(&m, 2, MTIA_CMD_COPY, 12, 4096, MTIA_ADDR_DEVMEM | 0x200000,
          MTIA_ADDR_SGT | QT_SGT, 0);
    q_cmd(&m, 3, MTIA_CMD_NOP, 13, 0, 0, 0, 0);
    q_cmd(&m, 4, MTIA_CMD_TIMESTAMP, 14, 8, 0, QT_TS, 0);
    /* Not RAM (no memory there): DMA_ERROR, the VM carries on. */
    q_cmd(&m, 5, MTIA_CMD_COPY, 15, 64, 0x40000000000ULL, MTIA_ADDR_DEVMEM, 0);
    q_cmd(&m, 6, MTIA_CMD_COPY, 16, 64, MTIA_ADDR_DEVMEM | (64 << 20), QT_DST, 0);
    q_cmd(&m, 7, MTIA_CMD_FENCE, 17, 0, 0, 0, 0);
    wr(&m, MTIA_REG_DB(1, MTIA_DB_SQ_TAIL), 8);
    g_assert_cmphex(rd(&m, MTIA_REG_Q(1, MTIA_Q_SQ_TAIL)), ==, 8);
    /* Out of range doorbell: ignored, flagged in STATUS. */
    wr(&m, MTIA_REG_DB(1, MTIA_DB_SQ_TAIL), 16);
    g_assert_cmphex(rd(&m, MTIA_REG_Q(1, MTIA_Q_STATUS)) & MTIA_Q_STATUS_BAD_DB, ==,
                    MTIA_Q_STATUS_BAD_DB);
    g_assert_cmphex(rd(&m, MTIA_REG_Q(1, MTIA_Q_SQ_TAIL)), ==, 8);

    /* Firmware boots after the doorbell: the work was waiting for it. */
    qpci_memwrite(m.dev, bar2, 0, img, len);
    wr(&m, MTIA_REG_FW_STAGE_LO, 0);
    wr(&m, MTIA_REG_FW_STAGE_HI, 0);
    wr(&m, MTIA_REG_FW_STAGE_SIZE, len);
    wr(&m, MTIA_REG_FW_BOOT, MTIA_FW_BOOT_KEY);
    g_assert_cmphex(rd(&m, MTIA_REG_FW_BOOT_STATUS), ==, MTIA_BOOT_RUNNING);

    /* CQ of 8 holds 7: the FENCE's completion waits for room. */
    for (i = 0; i < 7; i++) {
        g_assert(q_wait_cqe(&m, i, 1, &e[i]));
        g_assert_cmpuint(e[i].cid, ==, 10 + i);
        g_assert_cmpuint(e[i].sq_id, ==, 1);
        g_assert_cmpuint(e[i].sq_head, ==, i + 1);
    }
    g_assert(wait_msi_at(&m, QT_MSI_ADDR));
    g_assert_cmpuint(mtia_cqe_status(e[0].status), ==, MTIA_CQE_OK);
    g_assert_cmpuint(e[0].result, ==, 4096);
    g_assert_cmpuint(mtia_cqe_status(e[1].status), ==, MTIA_CQE_OK);
    g_assert_cmpuint(mtia_cqe_status(e[2].status), ==, MTIA_CQE_OK);
    g_assert_cmpuint(mtia_cqe_status(e[3].status), ==, MTIA_CQE_OK);
    g_assert_cmpuint(mtia_cqe_status(e[4].status), ==, MTIA_CQE_OK);
    g_assert_cmpuint(mtia_cqe_status(e[5].status), ==, MTIA_CQE_DMA_ERROR);
    g_assert_cmpuint(mtia_cqe_status(e[6].status), ==, MTIA_CQE_BAD_ADDRESS);
    qpci_memread(m.dev, bar2, 0x200000, back, sizeof(back));
    g_assert_cmpmem(src, sizeof(src), back, sizeof(back));
    qtest_memread(m.qts, QT_DST + 0x8000, back, 1000);
    qtest_memread(m.qts, QT_DST + 0xa000, back + 1000, 3096);
    g_assert_cmpmem(src, sizeof(src), back, sizeof(back));
    g_assert_cmphex(qpci_io_readl(m.dev, bar2, 0x30003c), ==, 0xa5a5a5a5);
    ts = qtest_readq(m.qts, QT_TS);
    g_assert_cmphex(ts, ==, e[4].result);
    g_assert_cmphex(ts, !=, 0);

    /* Consuming releases the held FENCE completion into slot 7. */
    wr(&m, MTIA_REG_DB(1, MTIA_DB_CQ_HEAD), 7);
    g_assert(q_wait_cqe(&m, 7, 1, &e[7]));
    g_assert_cmpuint(e[7].cid, ==, 17);
    g_assert_cmpuint(mtia_cqe_status(e[7].status), ==, MTIA_CQE_OK);
    g_assert(wait_msi_at(&m, QT_MSI_ADDR));
    g_assert_cmphex(rd(&m, MTIA_REG_Q(1, MTIA_Q_CQ_TAIL)), ==, 0);

    /* The next lap of the CQ uses phase 0. */
    q_cmd(&m, 8, MTIA_CMD_NOP, 18, 0, 0, 0, 0);
    wr(&m, MTIA_REG_DB(1, MTIA_DB_CQ_HEAD), 0);
    wr(&m, MTIA_REG_DB(1, MTIA_DB_SQ_TAIL), 9);
    g_assert(q_wait_cqe(&m, 0, 0, &e[0]));
    g_assert_cmpuint(e[0].cid, ==, 18);

    /* Bus mastering off: the engine's and the rings' DMA fail; the queue
     * stops with STATUS.ERROR, QEMU does not mind. */
    qpci_config_writew(m.dev, PCI_COMMAND,
                       qpci_config_readw(m.dev, PCI_COMMAND) & ~PCI_COMMAND_MASTER);
    q_cmd(&m, 9, MTIA_CMD_COPY, 19, 64, QT_SRC, MTIA_ADDR_DEVMEM, 0);
    wr(&m, MTIA_REG_DB(1, MTIA_DB_SQ_TAIL), 10);
    g_assert(wait_reg(&m, MTIA_REG_Q(1, MTIA_Q_STATUS), MTIA_Q_STATUS_ERROR,
                      MTIA_Q_STATUS_ERROR));
    g_assert_cmphex(rd(&m, MTIA_REG_MAGIC), ==, MTIA_MAGIC_VALUE);
    qpci_config_writew(m.dev, PCI_COMMAND,
                       qpci_config_readw(m.dev, PCI_COMMAND) | PCI_COMMAND_MASTER);

    /* Disable and register reset leave a clean queue block. */
    wr(&m, MTIA_REG_Q(1, MTIA_Q_CTRL), 0);
    g_assert_cmphex(rd(&m, MTIA_REG_Q(1, MTIA_Q_STATUS)) & (MTIA_Q_STATUS_ENABLED | MTIA_Q_STATUS_ERROR),
                    ==, MTIA_Q_STATUS_ERROR);
    wr(&m, MTIA_REG_RESET, MTIA_RESET_KEY);
    g_assert_cmphex(rd(&m, MTIA_REG_Q(1, MTIA_Q_STATUS)), ==, 0);
    g_assert_cmphex(rd(&m, MTIA_REG_Q(1, MTIA_Q_SQ_BASE_LO)), ==, 0);
    mtia_stop(&m);
}

static void test_queue_roundtrip(void)
{
    uint8_t img[512];
    size_t len = fw_image_of(img, queue_fw, sizeof(queue_fw), 0);

    fw_sign(img, len);
    run_queue_roundtrip(img, len, "devmem-size=64M", QT_KEY_PROP);
}

/*
 * The same with x-fork-safe (QEMU's fuzzer, tests/fuzz/run-qemu-fuzz.sh):
 * the engine's workers and the telemetry thread start at the first BAR0
 * access, completion interrupts go through the bottom half; nothing else
 * may differ.
 */
static void test_queue_roundtrip_fork_safe(void)
{
    uint8_t img[512];
    size_t len = fw_image_of(img, queue_fw, sizeof(queue_fw), 0);

    fw_sign(img, len);
    run_queue_roundtrip(img, len, "devmem-size=64M,x-fork-safe=on", QT_KEY_PROP);
}

/*
 * COMPUTE over real MMIO: a program in guest RAM (relu, then add) over an
 * arena in BAR2, results read back through BAR2; a bad program and an arena
 * in guest RAM are reported, not fatal.
 */
static void test_queue_compute(void)
{
    static const float in[8] = { -2, -1, 0, 1, 2, 3, -4, 5 };
    const uint64_t arena = 0x400000;
    struct mtia_op prog[2];
    struct mtia_cqe e[3];
    uint8_t img[512];
    size_t len = fw_image_of(img, queue_fw, sizeof(queue_fw), 0);
    float out[8];
    QPCIBar bar2;
    Mtia m;
    unsigned i;

    fw_sign(img, len);
    memset(prog, 0, sizeof(prog));
    for (i = 0; i < 2; i++) {
        struct mtia_tensor_desc t = { .dtype = MTIA_DTYPE_F32, .ndim = 1, .dims = { 8 } };

        prog[i].n_in = i ? 2 : 1;
        prog[i].in[0] = t;
        prog[i].in[0].offset = i ? 64 : 0;
        if (i) {
            prog[i].in[1] = t;                 /* relu(x) + x */
        }
        prog[i].out = t;
        prog[i].out.offset = i ? 128 : 64;
    }
    prog[0].opcode = MTIA_OP_ACT;
    prog[0].act = MTIA_ACT_RELU;
    prog[1].opcode = MTIA_OP_BINARY;
    prog[1].attrs[MTIA_BINARY_KIND] = MTIA_BINARY_ADD;

    mtia_start(&m, "devmem-size=64M");
    bar2 = qpci_iomap(m.dev, MTIA_BAR_DEVMEM, NULL);
    wr(&m, MTIA_REG_Q(1, MTIA_Q_SQ_BASE_LO), (uint32_t)QT_SQ);
    wr(&m, MTIA_REG_Q(1, MTIA_Q_SQ_BASE_HI), 0);
    wr(&m, MTIA_REG_Q(1, MTIA_Q_CQ_BASE_LO), (uint32_t)QT_CQ);
    wr(&m, MTIA_REG_Q(1, MTIA_Q_CQ_BASE_HI), 0);
    wr(&m, MTIA_REG_Q(1, MTIA_Q_SIZE), mtia_q_size(4, 3));
    wr(&m, MTIA_REG_Q(1, MTIA_Q_CTRL), MTIA_Q_CTRL_ENABLE);
    qtest_memset(m.qts, QT_CQ, 0, 0x1000);
    qpci_memwrite(m.dev, bar2, arena, in, sizeof(in));
    qtest_memwrite(m.qts, QT_SRC, prog, sizeof(prog));
    prog[1].out.offset = 4096;                 /* outside a 4 KiB arena */
    qtest_memwrite(m.qts, QT_SRC + sizeof(prog), prog, sizeof(prog));
    q_cmd(&m, 0, MTIA_CMD_COMPUTE, 20, sizeof(prog), QT_SRC, MTIA_ADDR_DEVMEM | arena, 4096);
    q_cmd(&m, 1, MTIA_CMD_COMPUTE, 21, sizeof(prog), QT_SRC + sizeof(prog),
          MTIA_ADDR_DEVMEM | arena, 4096);
    q_cmd(&m, 2, MTIA_CMD_COMPUTE, 22, sizeof(prog), QT_SRC, QT_DST, 4096);
    wr(&m, MTIA_REG_DB(1, MTIA_DB_SQ_TAIL), 3);
    qpci_memwrite(m.dev, bar2, 0, img, len);
    wr(&m, MTIA_REG_FW_STAGE_LO, 0);
    wr(&m, MTIA_REG_FW_STAGE_HI, 0);
    wr(&m, MTIA_REG_FW_STAGE_SIZE, len);
    wr(&m, MTIA_REG_FW_BOOT, MTIA_FW_BOOT_KEY);
    for (i = 0; i < 3; i++) {
        g_assert(q_wait_cqe(&m, i, 1, &e[i]));
        g_assert_cmpuint(e[i].cid, ==, 20 + i);
    }
    g_assert_cmpuint(mtia_cqe_status(e[0].status), ==, MTIA_CQE_OK);
    g_assert_cmpuint(e[0].result, >, 0);       /* the timing model's ns */
    g_assert_cmpuint(mtia_cqe_status(e[1].status), ==, MTIA_CQE_BAD_PROGRAM);
    g_assert_cmpuint(e[1].result, ==, 1);      /* the bad op's index */
    g_assert_cmpuint(mtia_cqe_status(e[2].status), ==, MTIA_CQE_BAD_ADDRESS);
    qpci_memread(m.dev, bar2, arena + 128, out, sizeof(out));
    for (i = 0; i < 8; i++) {
        g_assert_cmpfloat(out[i], ==, in[i] + (in[i] > 0 ? in[i] : 0));
    }
    g_assert_cmphex(rd(&m, MTIA_REG_MAGIC), ==, MTIA_MAGIC_VALUE);
    mtia_stop(&m);
}

/*
 * The same with the real firmware (make firmware), if run-qtests.sh found it:
 * signed with the development key, the device's default.
 */
static void test_queue_real_fw(void)
{
    const char *path = getenv("MTIA_FW_IMAGE");
    g_autofree gchar *img = NULL;
    gsize len = 0;

    if (!path || !g_file_get_contents(path, &img, &len, NULL)) {
        g_test_skip("MTIA_FW_IMAGE not set or unreadable (make firmware)");
        return;
    }
    run_queue_roundtrip((const uint8_t *)img, len, "devmem-size=64M", NULL);
}

/* Queue registers and doorbells over MMIO, and that bad values are harmless. */
/*
 * The device's trace events (-trace 'mtia_*', logged with -D) and guest
 * errors (-d guest_errors) for a command's path and for failed commands:
 * a COPY (doorbell, fetch, dispatch, CQE), a COPY from memory that is not
 * there and a bad opcode (both failed in the engine), a NOP (completed by
 * firmware).
 */
static void test_trace_events(void)
{
    Mtia m;
    QPCIBar bar2;
    uint8_t img[512];
    size_t len = fw_image_of(img, queue_fw, sizeof(queue_fw), 0);
    struct mtia_cqe e;
    g_autofree char *log = NULL, *text = NULL;
    int fd;
    unsigned i;

    fw_sign(img, len);
    fd = g_file_open_tmp("mtia-trace-XXXXXX", &log, NULL);
    g_assert(fd >= 0);
    close(fd);
    m.qts = qtest_initf("-machine q35 -device mtia,addr=%d.0,devmem-size=64M,%s "
                        "-trace 'mtia_*' -d guest_errors -D %s", MTIA_SLOT, QT_KEY_PROP, log);
    m.bus = qpci_new_pc(m.qts, NULL);
    m.dev = qpci_device_find(m.bus, MTIA_DEVFN);
    g_assert(m.dev != NULL);
    qpci_device_enable(m.dev);
    m.bar0 = qpci_iomap(m.dev, MTIA_BAR_REGS, NULL);
    bar2 = qpci_iomap(m.dev, MTIA_BAR_DEVMEM, NULL);

    wr(&m, MTIA_REG_Q(1, MTIA_Q_SQ_BASE_LO), (uint32_t)QT_SQ);
    wr(&m, MTIA_REG_Q(1, MTIA_Q_SQ_BASE_HI), 0);
    wr(&m, MTIA_REG_Q(1, MTIA_Q_CQ_BASE_LO), (uint32_t)QT_CQ);
    wr(&m, MTIA_REG_Q(1, MTIA_Q_CQ_BASE_HI), 0);
    wr(&m, MTIA_REG_Q(1, MTIA_Q_SIZE), 4 | 4 << 8);
    wr(&m, MTIA_REG_Q(1, MTIA_Q_CTRL), MTIA_Q_CTRL_ENABLE);
    qtest_memset(m.qts, QT_CQ, 0, 0x1000);
    qtest_memset(m.qts, QT_SRC, 0x3c, 4096);
    q_cmd(&m, 0, MTIA_CMD_COPY, 10, 4096, QT_SRC, MTIA_ADDR_DEVMEM | 0x200000, 0);
    q_cmd(&m, 1, MTIA_CMD_COPY, 11, 64, 0x40000000000ULL, MTIA_ADDR_DEVMEM, 0);
    q_cmd(&m, 2, 0x7f, 12, 0, 0, 0, 0);
    q_cmd(&m, 3, MTIA_CMD_NOP, 13, 0, 0, 0, 0);
    wr(&m, MTIA_REG_DB(1, MTIA_DB_SQ_TAIL), 4);

    qpci_memwrite(m.dev, bar2, 0, img, len);
    wr(&m, MTIA_REG_FW_STAGE_LO, 0);
    wr(&m, MTIA_REG_FW_STAGE_HI, 0);
    wr(&m, MTIA_REG_FW_STAGE_SIZE, len);
    wr(&m, MTIA_REG_FW_BOOT, MTIA_FW_BOOT_KEY);
    for (i = 0; i < 4; i++) {
        g_assert(q_wait_cqe(&m, i, 1, &e));
        g_assert_cmpuint(e.cid, ==, 10 + i);
    }
    wr(&m, MTIA_REG_DB(1, MTIA_DB_CQ_HEAD), 4);
    mtia_stop(&m);  /* QEMU exits: the log is complete */

    g_assert(g_file_get_contents(log, &text, NULL, NULL));
    unlink(log);
    g_assert_nonnull(strstr(text, "mtia_doorbell queue 1 SQ_TAIL doorbell 4"));
    g_assert_nonnull(strstr(text, "mtia_sqe_fetch queue 1 SQ[0] cid 10 COPY (0x1)"));
    g_assert_nonnull(strstr(text, "mtia_dispatch queue 1 cid 10 COPY (0x1) to the engine"));
    g_assert_nonnull(strstr(text, "mtia_cqe_posted queue 1 CQ[0] cid 10 OK (0) result 4096"));
    g_assert_nonnull(strstr(text, "mtia_cmd_error queue 1 cid 11 COPY (0x1) failed: "
                                  "DMA_ERROR (4), found by engine"));
    g_assert_nonnull(strstr(text, "mtia_cqe_posted queue 1 CQ[1] cid 11 DMA_ERROR (4)"));
    g_assert_nonnull(strstr(text, "mtia_cmd_error queue 1 cid 12 ? (0x7f) failed: "
                                  "BAD_OPCODE (1), found by engine"));
    g_assert_nonnull(strstr(text, "mtia: queue 1: command cid 12 ? (0x7f) failed: "
                                  "BAD_OPCODE, found by engine"));
    g_assert_nonnull(strstr(text, "mtia_cqe_posted queue 1 CQ[3] cid 13 OK (0)"));
    g_assert_nonnull(strstr(text, "mtia_doorbell queue 1 CQ_HEAD doorbell 4"));
    /* In order: doorbell, fetch, dispatch, CQE of the first COPY. */
    g_assert(strstr(text, "SQ_TAIL doorbell 4") < strstr(text, "SQ[0] cid 10"));
    g_assert(strstr(text, "SQ[0] cid 10") < strstr(text, "cid 10 COPY (0x1) to the engine"));
    g_assert(strstr(text, "cid 10 COPY (0x1) to the engine") < strstr(text, "CQ[0] cid 10"));
}

static void test_queue_regs(void)
{
    Mtia m;
    unsigned q;

    mtia_start(&m, "devmem-size=64M,msix-vectors=32");
    for (q = 0; q < MTIA_NUM_QUEUES; q++) {
        g_assert_cmphex(rd(&m, MTIA_REG_Q(q, MTIA_Q_CTRL)), ==, 0);
        g_assert_cmphex(rd(&m, MTIA_REG_DB(q, MTIA_DB_SQ_TAIL)), ==, 0);
    }
    wr(&m, MTIA_REG_Q(7, MTIA_Q_SQ_BASE_LO), 0x123);      /* unaligned */
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, MTIA_ERR_BAD_WRITE);
    wr(&m, MTIA_REG_ERR_STATUS, ~0u);
    wr(&m, MTIA_REG_Q(7, MTIA_Q_SIZE), mtia_q_size(12, 12));
    wr(&m, MTIA_REG_Q(7, MTIA_Q_CTRL), mtia_q_ctrl(1, MTIA_PRIO_HIGH, 31));
    g_assert_cmphex(rd(&m, MTIA_REG_Q(7, MTIA_Q_CTRL)), ==,
                    mtia_q_ctrl(1, MTIA_PRIO_HIGH, 31));
    wr(&m, MTIA_REG_Q(7, MTIA_Q_SIZE), mtia_q_size(2, 2));       /* locked */
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, MTIA_ERR_BAD_WRITE);
    wr(&m, MTIA_REG_ERR_STATUS, ~0u);
    wr(&m, MTIA_REG_DB(7, MTIA_DB_CQ_HEAD), 4096);       /* == size */
    g_assert_cmphex(rd(&m, MTIA_REG_Q(7, MTIA_Q_STATUS)), ==,
                    MTIA_Q_STATUS_ENABLED | MTIA_Q_STATUS_BAD_DB);
    rd(&m, MTIA_REG_DB(7, 0x800));                       /* inside the page */
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_STATUS), ==, MTIA_ERR_BAD_OFFSET);
    g_assert_cmphex(rd(&m, MTIA_REG_ERR_ADDR), ==, MTIA_REG_DB(7, 0x800));
    mtia_stop(&m);
}

static const char *qmp_status(QTestState *qts, const char *cmd)
{
    static char status[64];
    QDict *rsp = qtest_qmp(qts, "{ 'execute': %s }", cmd);
    QDict *ret;

    g_assert(qdict_haskey(rsp, "return"));
    ret = qdict_get_qdict(rsp, "return");
    g_strlcpy(status, qdict_haskey(ret, "status") ?
              qdict_get_str(ret, "status") : "", sizeof(status));
    qobject_unref(rsp);
    return status;
}

/* The core's registers and device memory survive a migration. */
static void test_migration(void)
{
    Mtia m;
    QTestState *dst;
    QPCIBus *bus;
    QPCIDevice *dev;
    g_autofree char *tmpdir = g_dir_make_tmp("mtia-test-XXXXXX", NULL);
    g_autofree char *file = g_strdup_printf("%s/state", tmpdir);
    g_autofree char *uri = NULL;
    const char *st;
    uint32_t count;
    QPCIBar bar2;
    int i;

    g_assert(tmpdir);
    mtia_start(&m, "devmem-size=64M,msix-vectors=2");
    bar2 = qpci_iomap(m.dev, MTIA_BAR_DEVMEM, NULL);
    wr(&m, MTIA_REG_RESET, MTIA_RESET_KEY);
    count = rd(&m, MTIA_REG_RESET_COUNT);
    wr(&m, MTIA_REG_SCRATCH, 0x5a5aa5a5);
    /* The device MMU's registers (snapshot version 5). */
    wr(&m, MTIA_REG_MMU_CTX_TABLE_LO, 0x7000);
    wr(&m, MTIA_REG_MMU_CTX_COUNT, 5);
    wr(&m, MTIA_REG_MMU_CTRL, MTIA_MMU_CTRL_ENABLE);
    wr(&m, MTIA_REG_IRQ_MASK, MTIA_IRQ_ERROR);
    wr(&m, MTIA_REG_IRQ_TEST, 1);
    rd(&m, 0x3000);                       /* ERR_STATUS, ERR_ADDR */
    qpci_io_writel(m.dev, bar2, 0x100, 0xfeedface);
    /* A running control core migrates too (staged at 0x10000: see above). */
    {
        uint8_t img[512];
        size_t len = fw_image(img, 0);

        fw_sign(img, len);
        g_assert_cmphex(fw_boot(&m, bar2, 0x10000, img, len, len), ==,
                        MTIA_BOOT_RUNNING);
        g_assert(wait_reg(&m, MTIA_REG_FW_STATUS, ~0u, MTIA_FW_STATUS_READY));
    }

    uri = g_strdup_printf("exec:cat > %s", file);
    qtest_qmp_assert_success(m.qts, "{ 'execute': 'migrate',"
                             "  'arguments': { 'uri': %s } }", uri);
    for (i = 0; i < 1000; i++) {
        st = qmp_status(m.qts, "query-migrate");
        if (!strcmp(st, "completed") || !strcmp(st, "failed")) {
            break;
        }
        g_usleep(10 * 1000);
    }
    g_assert_cmpstr(st, ==, "completed");

    dst = qtest_initf("-machine q35 -device mtia,addr=%d.0,"
                      "devmem-size=64M,msix-vectors=2,%s -incoming 'exec:cat %s'",
                      MTIA_SLOT, QT_KEY_PROP, file);
    for (i = 0; i < 1000; i++) {
        st = qmp_status(dst, "query-status");
        if (strcmp(st, "inmigrate")) {
            break;
        }
        g_usleep(10 * 1000);
    }
    g_assert_cmpstr(st, !=, "inmigrate");

    /* The BAR addresses came over in config space: reuse them as they are. */
    bus = qpci_new_pc(dst, NULL);
    dev = qpci_device_find(bus, MTIA_DEVFN);
    g_assert(dev);
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_MAGIC), ==,
                    MTIA_MAGIC_VALUE);
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_SCRATCH), ==,
                    0x5a5aa5a5);
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_MMU_CTRL), ==,
                    MTIA_MMU_CTRL_ENABLE);
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_MMU_CTX_TABLE_LO), ==,
                    0x7000);
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_MMU_CTX_COUNT), ==, 5);
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_RESET_COUNT), ==,
                    count);
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_IRQ_MASK), ==,
                    MTIA_IRQ_ERROR);
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_IRQ_STATUS), ==,
                    MTIA_IRQ_TEST | MTIA_IRQ_ERROR | MTIA_IRQ_FW_EVENT);
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_ERR_STATUS), ==,
                    MTIA_ERR_BAD_OFFSET);
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_ERR_ADDR), ==, 0x3000);
    g_assert_cmphex(qpci_io_readl(dev, bar2, 0x100), ==, 0xfeedface);
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_FW_BOOT_STATUS), ==,
                    MTIA_BOOT_RUNNING);
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_FW_STATUS), ==,
                    MTIA_FW_STATUS_READY);
    count = qpci_io_readl(dev, m.bar0, MTIA_REG_FW_HEARTBEAT);
    for (i = 0; i < 5000; i++) {
        if (qpci_io_readl(dev, m.bar0, MTIA_REG_FW_HEARTBEAT) != count) {
            break;
        }
        g_usleep(1000);
    }
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_FW_HEARTBEAT), !=, count);
    qpci_io_writel(dev, m.bar0, MTIA_REG_MBOX_CMD + 8, 41);
    qpci_io_writel(dev, m.bar0, MTIA_REG_MBOX_DOORBELL, 1);
    for (i = 0; i < 5000; i++) {
        if (qpci_io_readl(dev, m.bar0, MTIA_REG_MBOX_DOORBELL) == 0) {
            break;
        }
        g_usleep(1000);
    }
    g_assert_cmphex(qpci_io_readl(dev, m.bar0, MTIA_REG_MBOX_RESP + 8), ==, 42);

    g_free(dev);
    qpci_free_pc(bus);
    qtest_quit(dst);
    mtia_stop(&m);
    g_unlink(file);
    g_rmdir(tmpdir);
}

/* qom-get of a fault-* property of the device "m0": its "return" value. */
static QDict *mtia_qom_get(Mtia *m, const char *prop)
{
    return qtest_qmp(m->qts, "{ 'execute': 'qom-get', 'arguments': {"
                     " 'path': '/machine/peripheral/m0', 'property': %s } }",
                     prop);
}

static int64_t mtia_fault_uint(Mtia *m, const char *prop)
{
    QDict *rsp = mtia_qom_get(m, prop);
    int64_t v;

    g_assert(qdict_haskey(rsp, "return"));
    v = qdict_get_int(rsp, "return");
    qobject_unref(rsp);
    return v;
}

static bool mtia_fault_bool(Mtia *m, const char *prop)
{
    QDict *rsp = mtia_qom_get(m, prop);
    bool v;

    g_assert(qdict_haskey(rsp, "return"));
    v = qdict_get_bool(rsp, "return");
    qobject_unref(rsp);
    return v;
}

/* qom-set of a number or a bool; true if QEMU accepted it. */
static bool mtia_qmp_ok(QDict *rsp)
{
    bool ok = qdict_haskey(rsp, "return");

    qobject_unref(rsp);
    return ok;
}

static bool mtia_fault_set(Mtia *m, const char *prop, int64_t v)
{
    return mtia_qmp_ok(qtest_qmp(m->qts, "{ 'execute': 'qom-set', "
                       "'arguments': { 'path': '/machine/peripheral/m0', "
                       "'property': %s, 'value': %" PRId64 " } }", prop, v));
}

static bool mtia_fault_set_bool(Mtia *m, const char *prop, bool v)
{
    if (v) {
        return mtia_qmp_ok(qtest_qmp(m->qts, "{ 'execute': 'qom-set', "
                           "'arguments': { 'path': '/machine/peripheral/m0',"
                           " 'property': %s, 'value': true } }", prop));
    }
    return mtia_qmp_ok(qtest_qmp(m->qts, "{ 'execute': 'qom-set', "
                       "'arguments': { 'path': '/machine/peripheral/m0', "
                       "'property': %s, 'value': false } }", prop));
}

/*
 * Fault injection (docs/fault-injection.md): the fault-* properties are
 * settable at run time over QMP and HMP, read back what is armed, refuse
 * bad values, and take effect (link down: BAR0 reads all-ones); a device
 * reset ends fault-hang; the counters are read-only.
 */
static void test_fault_props(void)
{
    Mtia m;
    QDict *rsp;

    mtia_start(&m, "id=m0,devmem-size=64M");
    g_assert_cmpint(mtia_fault_uint(&m, "fault-dma-error"), ==, 0);
    g_assert_true(mtia_fault_set(&m, "fault-dma-error", 3));
    g_assert_cmpint(mtia_fault_uint(&m, "fault-dma-error"), ==, 3);
    g_assert_false(mtia_fault_set(&m, "fault-latency-us", 99999999));
    g_assert_false(mtia_fault_set(&m, "fault-hang", 1));  /* not a bool */
    g_assert_false(mtia_fault_set(&m, "fault-dma-error-injected", 1));
    g_assert_cmpint(mtia_fault_uint(&m, "fault-dma-error-injected"), ==, 0);

    rsp = qtest_qmp(m.qts, "{ 'execute': 'human-monitor-command', "
                    "'arguments': { 'command-line': 'qom-set "
                    "/machine/peripheral/m0 fault-hang true' } }");
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    g_assert_true(mtia_fault_bool(&m, "fault-hang"));
    wr(&m, MTIA_REG_RESET, MTIA_RESET_KEY);
    g_assert_false(mtia_fault_bool(&m, "fault-hang"));

    wr(&m, MTIA_REG_SCRATCH, 0x1234);
    g_assert_true(mtia_fault_set_bool(&m, "fault-link-down", true));
    g_assert_cmphex(rd(&m, MTIA_REG_MAGIC), ==, 0xffffffff);
    wr(&m, MTIA_REG_SCRATCH, 0x5678);
    g_assert_true(mtia_fault_set_bool(&m, "fault-link-down", false));
    g_assert_cmphex(rd(&m, MTIA_REG_MAGIC), ==, MTIA_MAGIC_VALUE);
    g_assert_cmphex(rd(&m, MTIA_REG_SCRATCH), ==, 0x1234);
    g_assert_cmpint(mtia_fault_uint(&m, "fault-link-down-injected"), ==, 1);
    mtia_stop(&m);
}

int main(int argc, char **argv)
{
    const char *arch = qtest_get_arch();

    g_test_init(&argc, &argv, NULL);
    if (strcmp(arch, "x86_64") && strcmp(arch, "i386")) {
        g_test_message("mtia-test: q35 only, skipping on %s", arch);
        return 0;
    }
    qt_key_init();
    qtest_add_func("/mtia/pci-config", test_pci_config);
    qtest_add_func("/mtia/identity/default", test_identity_default);
    qtest_add_func("/mtia/identity/props", test_identity_props);
    qtest_add_func("/mtia/scratch", test_scratch);
    qtest_add_func("/mtia/bad-access", test_bad_access);
    qtest_add_func("/mtia/irq/status-mask", test_irq_status_mask);
    qtest_add_func("/mtia/irq/msix", test_msix);
    qtest_add_func("/mtia/irq/msix-error", test_msix_error_irq);
    qtest_add_func("/mtia/reset/register", test_reset);
    qtest_add_func("/mtia/reset/system", test_system_reset);
    qtest_add_func("/mtia/devmem", test_devmem);
    qtest_add_func("/mtia/migration", test_migration);
    qtest_add_func("/mtia/fw/boot", test_fw_boot);
    qtest_add_func("/mtia/fw/bad-images", test_fw_bad_images);
    qtest_add_func("/mtia/fw/default-key", test_fw_default_key);
    qtest_add_func("/mtia/fw/trap", test_fw_trap);
    qtest_add_func("/mtia/fw/reset-running", test_fw_reset_running);
    qtest_add_func("/mtia/queue/regs", test_queue_regs);
    qtest_add_func("/mtia/queue/roundtrip", test_queue_roundtrip);
    qtest_add_func("/mtia/queue/roundtrip-fork-safe",
                   test_queue_roundtrip_fork_safe);
    qtest_add_func("/mtia/queue/compute", test_queue_compute);
    qtest_add_func("/mtia/queue/real-fw", test_queue_real_fw);
    qtest_add_func("/mtia/trace/events", test_trace_events);
    qtest_add_func("/mtia/fault/props", test_fault_props);
    return g_test_run();
}
