//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import CGlibcMalloc

/// Gives memory back to the system once a burst is over.
///
/// glibc's allocator keeps the memory that was freed (the buffers of a benchmark's pipelines,
/// ten thousand clients that came and left) for reuse, so the process's resident size stays at
/// its peak for good. Every few seconds the event loops check how much freed memory the
/// allocator holds, and when it is more than ``threshold`` they ask it to return what it can.
enum FreeMemoryReturn {
    /// Freed bytes the allocator may keep without being asked to give them back.
    static let threshold = 4 * 1024 * 1024

    /// Returns freed memory to the system if the allocator holds more than ``threshold`` of it.
    static func returnIfWorthIt() {
        guard mallinfo2().fordblks > Self.threshold else { return }
        malloc_trim(0)
    }
}
