//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Logging
import Synchronization

/// The log level in force, changeable while the proxy runs (`SIGHUP` reload, `PROXY CONFIG SET
/// log-level`). swift-log fixes a handler's level when a logger is made; ``LevelControlledLogHandler``
/// asks this instead on every message.
public final class LogLevelControl: Sendable {
    public static let shared = LogLevelControl()
    private let raw = Atomic<Int>(Logger.Level.allCases.firstIndex(of: .info)!)

    public var level: Logger.Level {
        get { Logger.Level.allCases[self.raw.load(ordering: .relaxed)] }
        set { self.raw.store(Logger.Level.allCases.firstIndex(of: newValue)!, ordering: .relaxed) }
    }
}

/// A log handler whose level is ``LogLevelControl/shared``'s, whatever a logger sets.
public struct LevelControlledLogHandler: LogHandler {
    private var inner: any LogHandler

    public init(wrapping inner: any LogHandler) {
        self.inner = inner
    }

    public var logLevel: Logger.Level {
        get { LogLevelControl.shared.level }
        set {}
    }

    public var metadata: Logger.Metadata {
        get { self.inner.metadata }
        set { self.inner.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.inner[metadataKey: key] }
        set { self.inner[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        self.inner.log(event: event)
    }
}
