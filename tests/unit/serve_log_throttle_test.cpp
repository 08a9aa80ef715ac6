// serve_log_throttle_test.cpp: the one-line-per-interval gate both
// listeners use for accept failures and refused connections: the first
// event is logged, the flood after it is counted, not logged.
#include <gtest/gtest.h>

#include <chrono>

#include "log_throttle.hpp"

namespace sealpost {
namespace {

TEST(ServeLogThrottle, TheFirstEventIsLoggedAndTheFloodAfterItIsOnlyCounted) {
    LogThrottle t(std::chrono::hours(1));
    std::size_t events = 0;
    EXPECT_TRUE(t.allow(events));
    EXPECT_EQ(events, 1u);
    int logged = 0;
    for (int i = 0; i < 100000; ++i) logged += t.allow(events) ? 1 : 0;
    EXPECT_EQ(logged, 0) << "no line within the interval, however many events";
}

TEST(ServeLogThrottle, WhenTheIntervalHasPassedTheNextEventIsLoggedAgain) {
    LogThrottle t(std::chrono::seconds(0));  // every call is past the interval
    std::size_t events = 0;
    EXPECT_TRUE(t.allow(events));
    EXPECT_EQ(events, 1u);
    EXPECT_TRUE(t.allow(events));
    EXPECT_EQ(events, 1u) << "nothing was suppressed in between";
}

}  // namespace
}  // namespace sealpost
