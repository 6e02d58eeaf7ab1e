//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import Testing

/// A workload of a real client library (a Python script under `Tests/clients`) run against the
/// proxy under test; it must exit 0 and print its `OK: …` summary line.
enum ClientWorkload {
    /// Runs `Tests/clients/<wrapper>` with the proxy's port (and `arguments`) and checks the outcome.
    static func run(
        _ wrapper: String,
        port: Int,
        arguments: [String] = [],
        summaryPrefix: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let logPath = NSTemporaryDirectory() + "slotgate-\(wrapper)-\(port).log"
        let (status, output) = try ScriptRunner.run(
            LocalCluster.repositoryRoot + "/Tests/clients/" + wrapper,
            [String(port)] + arguments,
            logPath: logPath
        )
        #expect(status == 0, "\(wrapper) exited \(status):\n\(output)", sourceLocation: sourceLocation)
        #expect(output.contains(summaryPrefix), "no summary line in:\n\(output)", sourceLocation: sourceLocation)
        if status == 0 {
            try? FileManager.default.removeItem(atPath: logPath)
        }
    }
}
