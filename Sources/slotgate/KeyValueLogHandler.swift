//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import FoundationEssentials
import Logging

#if canImport(Glibc)
    import Glibc
#endif

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
        Self.writeToStandardError(fields.joined(separator: " ") + "\n")
    }

    /// Writes all of `line` with `write(2)`: one call for a line, as the unbuffered stream it is.
    private static func writeToStandardError(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && errno != EINTR { return }
                offset += max(written, 0)
            }
        }
    }

    /// The value as is when it has no space, quote or `=`; otherwise in double quotes, escaped.
    private static func quoted(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) else { return value }
        // By scalar, not by Character: a "\r\n" is one Character, and its "\n" must be escaped too.
        var quoted = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\", "\"": quoted += "\\\(scalar)"
            case "\n": quoted += "\\n"
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }
}
