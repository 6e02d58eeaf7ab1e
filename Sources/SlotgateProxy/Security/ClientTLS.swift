//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers
import NIOSSL
import SlotgateConfiguration

/// The TLS context of the client port: built from ``ClientTLSSettings`` at start, built again
/// from the files on a reload (`SIGHUP`), so a renewed certificate is served to new clients
/// without a restart while connected clients keep their sessions.
final class ClientTLS: Sendable {
    private let context: NIOLockedValueBox<NIOSSLContext>

    init(_ settings: ClientTLSSettings) throws {
        self.context = NIOLockedValueBox(try Self.makeContext(settings))
    }

    /// Reads the certificate, key and CA files again; on an error the old context stays.
    func reload(_ settings: ClientTLSSettings) throws {
        let fresh = try Self.makeContext(settings)
        self.context.withLockedValue { $0 = fresh }
    }

    /// The handler that speaks TLS to one new client.
    func makeHandler() -> NIOSSLServerHandler {
        NIOSSLServerHandler(context: self.context.withLockedValue { $0 })
    }

    private static func makeContext(_ settings: ClientTLSSettings) throws -> NIOSSLContext {
        guard !settings.certificateFile.isEmpty, !settings.keyFile.isEmpty else {
            throw ConfigurationError("tls-port needs tls-cert-file and tls-key-file")
        }
        let chain = try NIOSSLCertificate.fromPEMFile(settings.certificateFile).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: settings.keyFile, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        if !settings.caCertificateFile.isEmpty {
            configuration.trustRoots = .file(settings.caCertificateFile)
        }
        switch settings.clientAuthentication {
        case .yes: configuration.certificateVerification = .noHostnameVerification
        case .optional: configuration.certificateVerification = .optionalVerification
        case .no: configuration.certificateVerification = .none
        }
        // `tls-protocols` names TLSv1.2, TLSv1.3 or both (the parser takes no other).
        configuration.minimumTLSVersion = settings.protocols.contains("TLSv1.2") ? .tlsv12 : .tlsv13
        configuration.maximumTLSVersion = settings.protocols.contains("TLSv1.3") ? .tlsv13 : .tlsv12
        if !settings.ciphers.isEmpty {
            configuration.cipherSuites = settings.ciphers
        }
        return try NIOSSLContext(configuration: configuration)
    }
}
