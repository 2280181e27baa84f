#include "control/state/crc32c.hpp"

#include <cstring>

#ifdef __SSE4_2__
#include <nmmintrin.h>
#endif

namespace dplb::state {

uint32_t crc32c(std::string_view data, uint32_t crc) {
    uint32_t c = ~crc;
    const char* p = data.data();
    std::size_t n = data.size();
#ifdef __SSE4_2__
    uint64_t c64 = c;
    while (n >= 8) {
        uint64_t word;
        std::memcpy(&word, p, 8);  // unaligned-safe
        c64 = _mm_crc32_u64(c64, word);
        p += 8;
        n -= 8;
    }
    c = uint32_t(c64);
    while (n > 0) {
        c = _mm_crc32_u8(c, uint8_t(*p++));
        --n;
    }
#else
    while (n > 0) {
        c ^= uint8_t(*p++);
        for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        --n;
    }
#endif
    return ~c;
}

}  // namespace dplb::state
