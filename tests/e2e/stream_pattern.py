"""The byte pattern of name_server.py's GET /stream and stream_client.py's check: `size`
bytes determined by `seed` alone (Python's Mersenne Twister, the same in both processes), so a
lost, duplicated or reordered segment shows as a mismatch."""
import random


def pattern(seed, size):
    return random.Random(seed).randbytes(size)
