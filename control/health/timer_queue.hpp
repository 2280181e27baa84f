// The health engine's timers: a min-heap of (time, what) with lazy cancellation. Each
// entry names its owner by id and carries the owner's generation at arming; an owner
// re-arms by bumping its generation, which makes its older entries stale, and a stale or
// orphaned entry is skipped when it comes out. Entries are numbered in arming order so
// that one pass of the engine handles only the timers that existed when it began (a
// zero delay cannot make it loop).
//
// Threading: a value, used by one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

namespace dplb::health {

enum class TimerKind : uint8_t {
    checker,  // a checker's next attempt, or its running attempt's deadline
    passive,  // the end of a real server's passive down time
};

struct Timer {
    std::chrono::steady_clock::time_point at;
    uint64_t seq = 0;
    TimerKind kind = TimerKind::checker;
    uint64_t owner = 0;
    uint64_t generation = 0;
};

class TimerQueue {
public:
    void arm(std::chrono::steady_clock::time_point at, TimerKind kind, uint64_t owner, uint64_t generation) {
        heap_.push(Timer{at, next_seq_++, kind, owner, generation});
    }
    // The earliest entry (perhaps stale: the caller then wakes up early, for nothing).
    std::optional<std::chrono::steady_clock::time_point> earliest() const {
        if (heap_.empty()) return std::nullopt;
        return heap_.top().at;
    }
    // For a pass over the due timers: entries armed from now on wait for the next pass.
    uint64_t pass_mark() const { return next_seq_; }
    // The earliest entry due at `now` and armed before `mark`.
    std::optional<Timer> pop_due(std::chrono::steady_clock::time_point now, uint64_t mark) {
        if (heap_.empty() || heap_.top().at > now || heap_.top().seq >= mark) return std::nullopt;
        Timer t = heap_.top();
        heap_.pop();
        return t;
    }
    void clear() { heap_ = {}; }
    std::size_t size() const { return heap_.size(); }

private:
    struct Later {
        bool operator()(const Timer& a, const Timer& b) const {
            return a.at != b.at ? a.at > b.at : a.seq > b.seq;
        }
    };
    std::priority_queue<Timer, std::vector<Timer>, Later> heap_;
    uint64_t next_seq_ = 0;
};

}  // namespace dplb::health
