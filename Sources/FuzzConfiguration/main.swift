//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import FuzzSupport
import SlotgateConfiguration

/// libFuzzer's entry point: the configuration file parser, fed a file's text.
///
/// It exists because the parser runs on every start and every reload, and a file it accepts
/// must never bring the proxy down. A configuration it accepts, written back one `directive
/// value` line per directive (as `PROXY CONFIG GET` reports them), must parse to the same
/// configuration, so that a written-back file reloads unchanged.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let configuration = try? ProxyConfiguration(parsing: text, fileName: "fuzz.conf") else { return 0 }
    let written = ProxyConfiguration.directiveNames.compactMap { name in
        let value = configuration.value(of: name)
        return value.isEmpty ? nil : "\(name) \(value)"
    }
    let reread = try? ProxyConfiguration(parsing: written.joined(separator: "\n"), fileName: "written.conf")
    precondition(reread == configuration, "a written-back configuration reads differently")
    return 0
}

runLibFuzzer { data, size in data.map { fuzz($0, size) } ?? 0 }
