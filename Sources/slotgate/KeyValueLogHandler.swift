//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import Logging

/// Writes one line per event to standard error as `key=value` pairs — `ts=… level=… msg="…"`
/// then the event's metadata — which journald, grep and log shippers all read without a parser
/// of their own.
struct KeyValueLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String) {
        self.label = label
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = [
            "ts=\(Date().formatted(.iso8601))", "level=\(event.level.rawValue)", "msg=\(Self.quoted(event.message.description))",
        ]
        let merged = self.metadata.merging(event.metadata ?? [:]) { $1 }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            fields.append("\(key)=\(Self.quoted(value.description))")
        }
        fields.append("module=\(event.source)")
        FileHandle.standardError.write(Data((fields.joined(separator: " ") + "\n").utf8))
    }

    /// The value as is when it has no space, quote or `=`; otherwise in double quotes, escaped.
    private static func quoted(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) else { return value }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return "\"\(escaped)\""
    }
}
