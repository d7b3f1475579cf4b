// SPDX-License-Identifier: MIT
// Writes the seed inputs of the firmware fuzz targets (fw_mailbox_fuzz.c,
// fw_command_fuzz.c: their input formats are described there) into
// tests/fuzz/corpus/fw_mailbox/ and fw_command/: every admin opcode with
// good and bad arguments, and every case of the command corpus
// (tests/unit/cmd_corpus.h) alone and all together on two queues. Run
// from the repository's top after changing either:
//   g++ -std=c++17 -Iinclude -o /tmp/fw_seeds tests/fuzz/fw_seeds.cc && /tmp/fw_seeds
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../unit/cmd_corpus.h"

namespace {

using Bytes = std::vector<uint8_t>;

void write(const std::string &path, const Bytes &b)
{
    FILE *f = std::fopen(path.c_str(), "wb");
    if (!f || std::fwrite(b.data(), 1, b.size(), f) != b.size() || std::fclose(f) != 0) {
        std::perror(path.c_str());
        std::exit(1);
    }
}

template <typename T>
void append(Bytes &b, const T &v)
{
    const auto *p = reinterpret_cast<const uint8_t *>(&v);
    b.insert(b.end(), p, p + sizeof(v));
}

// One mailbox record: control 0 (mbox_irq, doorbell rung), the message.
Bytes mbox(uint16_t opcode, uint16_t seq, std::vector<uint32_t> args, uint8_t control = 0)
{
    mtia_mbox_msg m{};
    m.opcode = opcode;
    m.seq = seq;
    for (size_t i = 0; i < args.size() && i < 14; i++) m.args[i] = args[i];
    Bytes b{control};
    append(b, m);
    return b;
}

// Queue 0 enabled at NORMAL priority, queue 1 at HIGH.
Bytes queues_header()
{
    Bytes b(MTIA_NUM_QUEUES, 0);
    b[0] = 1 | MTIA_PRIO_NORMAL << 1;
    b[1] = 1 | MTIA_PRIO_HIGH << 1;
    return b;
}

void command(Bytes &b, unsigned q, const mtia_cmd &c, uint8_t control_bits = 0)
{
    b.push_back(static_cast<uint8_t>(q | control_bits));
    b.push_back(0);
    append(b, c);
}

}  // namespace

int main()
{
    const std::string dir = "tests/fuzz/corpus/";
    const std::vector<std::pair<std::string, Bytes>> mboxes = {
        {"ping", mbox(MTIA_ADMIN_PING, 1, {1, 2, 3, 0xffffffffu})},
        {"get_version", mbox(MTIA_ADMIN_GET_VERSION, 2, {})},
        {"get_heartbeat", mbox(MTIA_ADMIN_GET_PARAM, 3, {MTIA_PARAM_HEARTBEAT_MS})},
        {"get_log_level", mbox(MTIA_ADMIN_GET_PARAM, 4, {MTIA_PARAM_LOG_LEVEL})},
        {"get_unknown_param", mbox(MTIA_ADMIN_GET_PARAM, 5, {9})},
        {"set_heartbeat", mbox(MTIA_ADMIN_SET_PARAM, 6, {MTIA_PARAM_HEARTBEAT_MS, 50}, 1)},
        {"set_heartbeat_too_low", mbox(MTIA_ADMIN_SET_PARAM, 7, {MTIA_PARAM_HEARTBEAT_MS, 9})},
        {"set_log_debug", mbox(MTIA_ADMIN_SET_PARAM, 8, {MTIA_PARAM_LOG_LEVEL, 3})},
        {"set_log_too_high", mbox(MTIA_ADMIN_SET_PARAM, 9, {MTIA_PARAM_LOG_LEVEL, 4})},
        {"qstats", mbox(MTIA_ADMIN_GET_QSTATS, 10, {7})},
        {"qstats_bad_queue", mbox(MTIA_ADMIN_GET_QSTATS, 11, {MTIA_NUM_QUEUES})},
        {"debug_hang", mbox(MTIA_ADMIN_DEBUG_HANG, 12, {})},
        {"debug_trap", mbox(MTIA_ADMIN_DEBUG_TRAP, 13, {}, 2)},
        {"unknown_opcode", mbox(0x77, 14, {1})},
        {"no_doorbell", mbox(MTIA_ADMIN_PING, 15, {}, 4)},
    };
    Bytes all;
    for (const auto &[name, b] : mboxes) {
        write(dir + "fw_mailbox/" + name, b);
        if (name != "debug_hang" && name != "debug_trap") all.insert(all.end(), b.begin(), b.end());
    }
    write(dir + "fw_mailbox/all_opcodes", all);

    Bytes mixed = queues_header();
    unsigned n = 0;
    for (const auto &c : corpus::cases()) {
        Bytes b = queues_header();
        command(b, 0, c.cmd);
        char name[32];
        std::snprintf(name, sizeof(name), "case%02u", n);
        write(dir + "fw_command/" + name, b);
        command(mixed, n % 2, c.cmd, n % 3 ? 8 : 0);  // two queues, the core runs every 3rd
        n++;
    }
    write(dir + "fw_command/all_cases", mixed);
    // A FENCE behind engine work, then more on both queues.
    Bytes fence = queues_header();
    command(fence, 0, corpus::copy(16));
    command(fence, 0, corpus::fence());
    command(fence, 0, corpus::nop());
    command(fence, 1, corpus::nop());
    command(fence, 0, corpus::nop(), 0x10);  // one engine command done first
    write(dir + "fw_command/fence_parks", fence);
    std::printf("%zu mailbox seeds, %u command cases\n", mboxes.size() + 1, n);
    return 0;
}
