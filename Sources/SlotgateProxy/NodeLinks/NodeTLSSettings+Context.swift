//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOSSL
import SlotgateConfiguration

/// The TLS context node links and the topology monitor use, made from the configuration's plain
/// values (the configuration module knows no TLS library).
extension NodeTLSSettings {
    /// The client TLS context for the nodes; `nil` when TLS is off. Nodes are reached by the
    /// addresses the cluster gives, so their certificates are checked against the CA, not a host name.
    func makeContext() throws -> NIOSSLContext? {
        guard self.enabled else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .noHostnameVerification
        if !self.caCertificateFile.isEmpty {
            configuration.trustRoots = .file(self.caCertificateFile)
        }
        if !self.certificateFile.isEmpty || !self.keyFile.isEmpty {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(self.certificateFile).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: self.keyFile, format: .pem))
        }
        return try NIOSSLContext(configuration: configuration)
    }
}
