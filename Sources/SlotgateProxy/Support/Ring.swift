//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// A first-in, first-out queue for the hot path that moves elements in and out rather than
/// copying them.
///
/// swift-collections' `Deque` copies an element as it appends it, and NIO's `CircularBuffer`
/// copies on removal too. For the elements queued per request — a request in flight, a place in
/// a client's reply line — each holding buffers and class references, every copy is a pair of
/// atomic reference-count operations. The ring is a class, owned by one session or one node link
/// on one event loop; its storage is allocated on first use, doubles when full, and is kept.
final class Ring<Element> {
    private var storage: UnsafeMutablePointer<Element>?
    /// A power of two, or 0 before the first element.
    private var capacity = 0
    /// Where the front element is.
    private var head = 0
    private(set) var count = 0

    init() {}

    deinit {
        self.removeAll()
        self.storage?.deallocate()
    }

    var isEmpty: Bool { self.count == 0 }

    /// Puts `element` at the back.
    func append(_ element: consuming Element) {
        if self.count == self.capacity {
            self.grow()
        }
        (self.storage! + ((self.head &+ self.count) & (self.capacity &- 1))).initialize(to: element)
        self.count &+= 1
    }

    /// Takes the front element out; `nil` when empty.
    func popFirst() -> Element? {
        guard self.count > 0 else { return nil }
        let element = (self.storage! + self.head).move()
        self.head = (self.head &+ 1) & (self.capacity &- 1)
        self.count &-= 1
        return element
    }

    /// The element `offset` places behind the front.
    subscript(offset: Int) -> Element {
        get {
            precondition(offset >= 0 && offset < self.count, "ring offset out of range")
            return self.slot(offset).pointee
        }
        _modify {
            precondition(offset >= 0 && offset < self.count, "ring offset out of range")
            yield &self.slot(offset).pointee
        }
    }

    /// Destroys every element; the storage is kept.
    func removeAll() {
        while self.popFirst() != nil {}
        self.head = 0
    }

    private func slot(_ offset: Int) -> UnsafeMutablePointer<Element> {
        self.storage! + ((self.head &+ offset) & (self.capacity &- 1))
    }

    private func grow() {
        let newCapacity = max(4, self.capacity * 2)
        let newStorage = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        if let storage = self.storage {
            // The elements, front first, may wrap around the end of the old storage.
            let firstRun = min(self.count, self.capacity - self.head)
            (newStorage).moveInitialize(from: storage + self.head, count: firstRun)
            (newStorage + firstRun).moveInitialize(from: storage, count: self.count - firstRun)
            storage.deallocate()
        }
        self.storage = newStorage
        self.capacity = newCapacity
        self.head = 0
    }
}
