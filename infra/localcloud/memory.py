"""Giving big request bodies' memory back to the OS (glibc only; elsewhere the allocator
decides).

moto reads each upload part into memory and joins a multipart upload's parts into one
buffer: a 200 MB video passes through ~400 MB of short-lived buffers. glibc raises its mmap
threshold each time such a buffer is freed (up to 32 MB), after which big buffers come from
the heap and stay with the process. Measured on the endpoint after one 200 MB multipart
upload: +395 MB RSS with glibc's adaptive threshold, +107-130 MB with a fixed one
(`malloc_trim` after the upload gave nothing more: what remains is not free heap).
"""

from __future__ import annotations

import contextlib
import ctypes

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def return_big_buffers() -> None:
    """Allocations of 1 MB and more get pages of their own, given back when freed (a fixed
    threshold turns glibc's adaptation off)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: its allocator decides
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, 1 << 20)
