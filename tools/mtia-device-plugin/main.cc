// SPDX-License-Identifier: MIT
// mtia-device-plugin: a Kubernetes device plugin (kubelet device plugin API
// v1beta1) for mtia devices; docs/kubernetes.md. One thread, this one,
// polls sysfs (plugin_devices.h), applies the health rules
// (plugin_health.h), publishes changes to the ListAndWatch streams
// (plugin_service.h) and keeps us registered with the kubelet
// (plugin_registrar.h); gRPC's threads serve the kubelet's calls. SIGTERM
// and SIGINT are taken synchronously by the poll's wait (sigtimedwait), so
// the exit is clean: the server stopped, our socket removed, exit 0.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include <CLI/CLI.hpp>

#include "plugin_devices.h"
#include "plugin_health.h"
#include "plugin_registrar.h"
#include "plugin_service.h"

namespace {

constexpr const char *kDevicePluginPath = "/var/lib/kubelet/device-plugins/";  // constants.go DevicePluginPath
constexpr const char *kKubeletSocket = "kubelet.sock";                         // constants.go KubeletSocket

// Waits up to @ms for SIGTERM/SIGINT (blocked in every thread); the signal
// number, or 0 on timeout.
int wait_signal(const sigset_t &set, unsigned ms)
{
    timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1000000L};
    for (;;) {
        int sig = sigtimedwait(&set, nullptr, &ts);
        if (sig > 0) return sig;
        if (errno == EAGAIN) return 0;
        // EINTR: another signal; wait again (the poll then comes a little late).
    }
}

}  // namespace

int main(int argc, char **argv)
{
    using namespace mtia::dp;
    std::string kubelet_socket = std::string(kDevicePluginPath) + kKubeletSocket;
    std::string socket_dir;
    std::string socket_name = "mtia.sock";
    std::string resource_name = "meta.com/mtia";
    unsigned poll_ms = 1000;
    unsigned heartbeat_stall_ms = 0;
    DeviceRoots roots = DeviceRoots::from_env();

    CLI::App app{"Kubernetes device plugin for mtia devices (kubelet device plugin API v1beta1)"};
    app.set_version_flag("--version", std::string("mtia-device-plugin ") + MTIA_DEVICE_PLUGIN_VERSION);
    app.add_option("--kubelet-socket", kubelet_socket, "the kubelet's Registration socket")->capture_default_str();
    app.add_option("--socket-dir", socket_dir, "where to create our socket (default: the kubelet socket's directory)");
    app.add_option("--socket-name", socket_name, "our socket's name in --socket-dir (the endpoint)")
        ->capture_default_str();
    app.add_option("--resource-name", resource_name, "the extended resource to advertise")->capture_default_str();
    app.add_option("--poll-ms", poll_ms, "sysfs poll and kubelet check interval, ms")
        ->check(CLI::Range(10u, 600000u))
        ->capture_default_str();
    app.add_option("--heartbeat-stall-ms", heartbeat_stall_ms,
                   "Unhealthy when the firmware heartbeat (debugfs fw_regs) does not move for this long; 0 = leave "
                   "heartbeat checks to the driver's watchdog (reading it keeps the device from autosuspending)")
        ->capture_default_str();
    app.add_option("--debugfs-dir", roots.debugfs_dir, "the driver's debugfs directory (for the heartbeat)")
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    if (socket_dir.empty()) socket_dir = kubelet_socket.substr(0, kubelet_socket.rfind('/') + 1);
    if (socket_dir.size() > 1 && socket_dir.back() == '/') socket_dir.pop_back();
    if (socket_dir.empty()) socket_dir = ".";
    if (resource_name.find('/') == std::string::npos || resource_name.front() == '/' || resource_name.back() == '/') {
        std::fprintf(stderr,
                     "mtia-device-plugin: --resource-name must be an extended resource, domain/name, not '%s'\n",
                     resource_name.c_str());
        return 2;
    }
    if (socket_name.empty() || socket_name.find('/') != std::string::npos) {
        std::fprintf(stderr, "mtia-device-plugin: --socket-name must be a file name, not '%s'\n", socket_name.c_str());
        return 2;
    }

    // Before any thread exists, so every gRPC thread inherits the mask.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    signal(SIGPIPE, SIG_IGN);

    if (heartbeat_stall_ms && access(roots.debugfs_dir.c_str(), R_OK | X_OK) != 0) {
        std::fprintf(stderr,
                     "mtia-device-plugin: warning: cannot read %s (%s): no heartbeat checks until it can "
                     "(debugfs mounted? root?)\n",
                     roots.debugfs_dir.c_str(), std::strerror(errno));
    }
    DeviceScanner scanner(roots);
    HealthTracker health{std::chrono::milliseconds(heartbeat_stall_ms)};
    DeviceHub hub;
    Registrar registrar({kubelet_socket, socket_dir + "/" + socket_name, resource_name}, hub);
    std::fprintf(stderr, "mtia-device-plugin: devices from %s, nodes in %s, poll %u ms, heartbeat check %s\n",
                 roots.pci_dir.c_str(), roots.accel_dir.c_str(), poll_ms,
                 heartbeat_stall_ms ? (std::to_string(heartbeat_stall_ms) + " ms").c_str() : "off");

    bool first = true;
    int sig = 0;
    while (!sig) {
        std::vector<std::string> log;
        bool changed = health.update(scanner.scan(heartbeat_stall_ms != 0), HealthTracker::Clock::now(), &log);
        for (auto &line : log) std::fprintf(stderr, "mtia-device-plugin: %s\n", line.c_str());
        if (changed || first) hub.publish(health.devices());
        first = false;
        registrar.tick();
        sig = wait_signal(sigs, poll_ms);
    }
    std::fprintf(stderr, "mtia-device-plugin: %s: stopping\n", strsignal(sig));
    registrar.stop_server();
    return 0;
}
