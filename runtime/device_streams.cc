// SPDX-License-Identifier: MIT
// Device-wide stream operations: the per-device default stream and
// Device::synchronize over every stream this process made on the device
// (each StreamState registers itself in its DeviceState, weakly).
#include "runtime_internal.h"

namespace mtia {

Stream Device::default_stream()
{
    detail::DeviceUse use(state_, "default stream");
    std::lock_guard<std::mutex> l(state_->default_mu);
    if (!default_stream_) default_stream_ = Stream(*this).state();
    return Stream(default_stream_);
}

void Device::synchronize()
{
    std::vector<std::shared_ptr<detail::StreamState>> live;
    {
        detail::DeviceUse use(state_, "device synchronize");
        std::lock_guard<std::mutex> l(state_->streams_mu);
        for (auto &w : state_->streams) {
            if (auto s = w.lock()) live.push_back(std::move(s));
        }
    }
    // Every stream is waited for even if an earlier one failed.
    std::string first;
    for (auto &s : live) {
        try {
            detail::synchronize_stream(s);
        } catch (const Error &e) {
            if (first.empty()) first = e.what();
        }
    }
    if (!first.empty()) throw Error(MTIA_ERROR_IO, first);
}

}  // namespace mtia
