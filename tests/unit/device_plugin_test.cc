// SPDX-License-Identifier: MIT
// The device plugin's sysfs scan, health rules and allocation answers
// (tools/mtia-device-plugin): the scan against a fake tree laid out as the
// PCI core and the driver lay out theirs (functions under their bridges,
// /sys/bus/pci/devices as symlinks), the rules and answers on plain data.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "plugin_alloc.h"
#include "plugin_devices.h"
#include "plugin_health.h"

namespace {

namespace fs = std::filesystem;
using namespace mtia::dp;
using Clock = HealthTracker::Clock;
using std::chrono::milliseconds;

void put(const fs::path &p, const std::string &s)
{
    fs::create_directories(p.parent_path());
    std::ofstream(p) << s << "\n";
}

class DevicePluginScan : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/dp-sysfs-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        root = tmpl;
        fs::create_directories(root / "bus");
        roots.pci_dir = (root / "bus").string();
        roots.accel_dir = "/dev/accel";
        roots.debugfs_dir = (root / "debug").string();
    }
    void TearDown() override { fs::remove_all(root); }

    // An mtia function @bdf under bridge @bridge, bound as accel@minor.
    fs::path add(const std::string &bridge, const std::string &bdf, int minor, const std::string &serial, int numa)
    {
        fs::path dir = root / "devices" / "pci0000:00" / bridge / bdf;
        put(dir / "vendor", "0x1d9b");
        put(dir / "device", "0x0a01");
        put(dir / "numa_node", std::to_string(numa));
        fs::create_directories(dir / "accel" / ("accel" + std::to_string(minor)));
        put(dir / "mtia" / "serial", serial);
        put(dir / "mtia" / "fw_status", "ready");
        put(dir / "mtia" / "gone", "0");
        fs::create_symlink(dir, root / "bus" / bdf);
        return dir;
    }

    fs::path root;
    DeviceRoots roots;
};

TEST_F(DevicePluginScan, ScanReadsMtiaFunctionsOnly)
{
    add("0000:00:1c.0", "0000:01:00.0", 1, "4d54494100000002", 1);
    add("0000:00:1b.0", "0000:02:00.0", 0, "4d54494100000001", -1);
    fs::path other = root / "devices" / "pci0000:00" / "0000:00:02.0";
    put(other / "vendor", "0x8086");
    put(other / "device", "0x0a01");
    fs::create_symlink(other, root / "bus" / "0000:00:02.0");

    DeviceScanner scanner(roots);
    auto s = scanner.scan(false);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].bus_id, "0000:01:00.0");
    EXPECT_EQ(s[0].serial, "4d54494100000002");
    EXPECT_EQ(s[0].node, "accel1");
    EXPECT_EQ(s[0].dev_path, "/dev/accel/accel1");
    EXPECT_EQ(s[0].numa_node, 1);
    EXPECT_EQ(s[0].parent, "0000:00:1c.0");
    EXPECT_EQ(s[0].fw_status, "ready");
    EXPECT_FALSE(s[0].gone);
    EXPECT_FALSE(s[0].heartbeat);
    EXPECT_EQ(s[1].numa_node, -1);
    EXPECT_EQ(s[1].parent, "0000:00:1b.0");
}

TEST_F(DevicePluginScan, ScanUnboundFunctionHasNoNodeNorSerial)
{
    fs::path dir = add("0000:00:1c.0", "0000:01:00.0", 0, "4d54494100000002", 0);
    fs::remove_all(dir / "accel");
    fs::remove_all(dir / "mtia");
    auto s = DeviceScanner(roots).scan(false);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].node, "");
    EXPECT_EQ(s[0].serial, "");
    EXPECT_EQ(s[0].dev_path, "");
}

TEST_F(DevicePluginScan, ScanReadsHeartbeatOnlyWhenAskedAndReady)
{
    fs::path dir = add("0000:00:1c.0", "0000:01:00.0", 0, "4d54494100000002", 0);
    put(root / "debug" / "0000:01:00.0" / "fw_regs", "state: ready\nFW_STATUS: 1\nFW_HEARTBEAT: 4711\nFW_INSTRET: 9");
    DeviceScanner scanner(roots);
    EXPECT_FALSE(scanner.scan(false)[0].heartbeat);
    EXPECT_EQ(scanner.scan(true)[0].heartbeat, 4711u);
    put(dir / "mtia" / "fw_status", "suspended");
    EXPECT_FALSE(scanner.scan(true)[0].heartbeat);  // reading it would resume the device
}

TEST(DevicePluginHeartbeat, Parse)
{
    EXPECT_EQ(parse_heartbeat("a: 1\nFW_HEARTBEAT: 12\n"), 12u);
    EXPECT_FALSE(parse_heartbeat("FW_HEARTBEAT: x\n"));
    EXPECT_FALSE(parse_heartbeat("FW_STATUS: 1\n"));
}

DeviceSnapshot snap(const std::string &bdf, const std::string &serial, const std::string &status = "ready")
{
    DeviceSnapshot d;
    d.bus_id = bdf;
    d.serial = serial;
    d.node = serial.empty() ? "" : "accel0";
    d.dev_path = d.node.empty() ? "" : "/dev/accel/" + d.node;
    d.fw_status = serial.empty() ? "" : status;
    d.numa_node = 0;
    return d;
}

TEST(DevicePluginHealth, FirmwareStatusRules)
{
    HealthTracker h{milliseconds(0)};
    auto t = Clock::now();
    EXPECT_TRUE(h.update({snap("b1", "s1")}, t));
    ASSERT_EQ(h.devices().size(), 1u);
    EXPECT_TRUE(h.devices()[0].healthy);
    EXPECT_FALSE(h.update({snap("b1", "s1")}, t));  // nothing changed: no new list
    EXPECT_FALSE(h.update({snap("b1", "s1", "suspended")}, t));
    for (const char *bad : {"recovering", "dead", "booting", "off"}) {
        std::vector<std::string> log;
        EXPECT_TRUE(h.update({snap("b1", "s1", bad)}, t, &log)) << bad;
        EXPECT_FALSE(h.devices()[0].healthy) << bad;
        ASSERT_EQ(log.size(), 1u);
        EXPECT_NE(log[0].find(std::string("Unhealthy: firmware status ") + bad), std::string::npos) << log[0];
        EXPECT_TRUE(h.update({snap("b1", "s1")}, t)) << bad;
        EXPECT_TRUE(h.devices()[0].healthy) << bad;
    }
    auto gone = snap("b1", "s1");
    gone.gone = true;
    EXPECT_TRUE(h.update({gone}, t));
    EXPECT_EQ(h.devices()[0].reason, "given up by the driver (gone)");
}

TEST(DevicePluginHealth, UnboundAndRemovedDevicesStayAdvertisedUnhealthy)
{
    HealthTracker h{milliseconds(0)};
    auto t = Clock::now();
    h.update({snap("b1", "s1"), snap("b2", "s2")}, t);
    EXPECT_TRUE(h.update({snap("b1", ""), snap("b2", "s2")}, t));  // unbound: no serial, matched by bus id
    ASSERT_EQ(h.devices().size(), 2u);
    EXPECT_EQ(h.devices()[0].id, "s1");
    EXPECT_FALSE(h.devices()[0].healthy);
    EXPECT_EQ(h.devices()[0].dev_path, "");
    EXPECT_FALSE(h.update({snap("b2", "s2")}, t));  // b1 off the bus: still Unhealthy, same list
    EXPECT_EQ(h.devices()[0].reason, "no longer on the PCI bus");
    EXPECT_TRUE(h.update({snap("b1", "s1"), snap("b2", "s2")}, t));  // back
    EXPECT_TRUE(h.devices()[0].healthy);
    EXPECT_EQ(h.devices().size(), 2u);
    // A function never seen with a driver has no ID to advertise.
    EXPECT_FALSE(h.update({snap("b1", "s1"), snap("b2", "s2"), snap("b3", "")}, t));
    EXPECT_EQ(h.devices().size(), 2u);
}

TEST(DevicePluginHealth, HeartbeatStall)
{
    HealthTracker h{milliseconds(1000)};
    auto t = Clock::now();
    auto d = snap("b1", "s1");
    d.heartbeat = 5;
    EXPECT_TRUE(h.update({d}, t));
    EXPECT_FALSE(h.update({d}, t + milliseconds(999)));
    EXPECT_TRUE(h.devices()[0].healthy);
    EXPECT_TRUE(h.update({d}, t + milliseconds(1000)));
    EXPECT_FALSE(h.devices()[0].healthy);
    EXPECT_NE(h.devices()[0].reason.find("heartbeat stuck at 5"), std::string::npos);
    d.heartbeat = 6;
    EXPECT_TRUE(h.update({d}, t + milliseconds(1100)));
    EXPECT_TRUE(h.devices()[0].healthy);
    // Suspended: no heartbeat read, and the clock starts over afterwards.
    auto s = snap("b1", "s1", "suspended");
    EXPECT_FALSE(h.update({s}, t + milliseconds(5000)));
    EXPECT_FALSE(h.update({d}, t + milliseconds(5001)));
    EXPECT_TRUE(h.devices()[0].healthy);
}

PluginDevice dev(const std::string &id, const std::string &parent, int numa, const std::string &node = "accel0")
{
    PluginDevice d;
    d.id = id;
    d.bus_id = "bus-" + id;
    d.dev_path = node.empty() ? "" : "/tmp/fake-accel/" + node;
    d.parent = parent;
    d.numa_node = numa;
    d.healthy = true;
    return d;
}

TEST(DevicePluginAllocate, PathsAndVisibleDevices)
{
    std::vector<PluginDevice> devs = {dev("s0", "p0", 0, "accel0"), dev("s1", "p0", 0, "accel1"),
                                      dev("s2", "p1", 0, "")};
    ContainerDevices c;
    EXPECT_EQ(allocate_container(devs, {"s1", "s0"}, &c), "");
    EXPECT_EQ(c.host_paths, (std::vector<std::string>{"/tmp/fake-accel/accel1", "/tmp/fake-accel/accel0"}));
    EXPECT_EQ(c.container_paths, (std::vector<std::string>{"/dev/accel/accel1", "/dev/accel/accel0"}));
    EXPECT_EQ(c.visible_devices, "s1,s0");
    EXPECT_EQ(allocate_container(devs, {"s9"}, &c), "unknown device ID 's9'");
    EXPECT_EQ(allocate_container(devs, {"s0", "s0"}, &c), "device ID 's0' requested twice");
    EXPECT_NE(allocate_container(devs, {"s2"}, &c).find("has no accel node"), std::string::npos);
    EXPECT_NE(allocate_container(devs, {}, &c), "");
}

TEST(DevicePluginAllocate, PreferredKeepsToBridgeThenNuma)
{
    // a0 a1 under bridge A (NUMA 0); b0 under B (NUMA 0); c0 c1 c2 under C (NUMA 1).
    std::vector<PluginDevice> devs = {dev("a0", "A", 0), dev("b0", "B", 0), dev("c0", "C", 1),
                                      dev("a1", "A", 0), dev("c1", "C", 1), dev("c2", "C", 1)};
    std::vector<std::string> all = {"a0", "b0", "c0", "a1", "c1", "c2"};
    std::vector<std::string> out;
    EXPECT_EQ(preferred_allocation(devs, all, {"a1"}, 2, &out), "");
    EXPECT_EQ(out, (std::vector<std::string>{"a1", "a0"}));
    EXPECT_EQ(preferred_allocation(devs, all, {"a1"}, 3, &out), "");
    EXPECT_EQ(out, (std::vector<std::string>{"a1", "a0", "b0"}));  // then NUMA 0
    EXPECT_EQ(preferred_allocation(devs, all, {}, 3, &out), "");
    EXPECT_EQ(out, (std::vector<std::string>{"c0", "c1", "c2"}));  // the largest bridge group
    EXPECT_EQ(preferred_allocation(devs, {"a0", "b0", "c0"}, {"c0"}, 2, &out), "");
    EXPECT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0], "c0");
    EXPECT_EQ(preferred_allocation(devs, all, {"b0", "c0"}, 2, &out), "");
    EXPECT_EQ(out, (std::vector<std::string>{"b0", "c0"}));
}

TEST(DevicePluginAllocate, PreferredRejectsBadRequests)
{
    std::vector<PluginDevice> devs = {dev("a0", "A", 0), dev("a1", "A", 0)};
    std::vector<std::string> out;
    EXPECT_NE(preferred_allocation(devs, {"a0", "zz"}, {}, 1, &out), "");
    EXPECT_NE(preferred_allocation(devs, {"a0"}, {"a1"}, 1, &out), "");
    EXPECT_NE(preferred_allocation(devs, {"a0", "a1"}, {}, 3, &out), "");
    EXPECT_NE(preferred_allocation(devs, {"a0", "a1"}, {}, 0, &out), "");
    EXPECT_NE(preferred_allocation(devs, {"a0", "a1"}, {"a0", "a1"}, 1, &out), "");
}

}  // namespace
