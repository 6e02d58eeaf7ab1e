//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// The client port that speaks TLS (`tls-port` and the other `tls-*` directives, named as in
/// redis.conf), as plain values.
///
/// Managed Redis services turn TLS on by default, and their clients expect it: with a `tls-port`,
/// `redis-cli --tls` and every TLS client reach Slotgate as they would reach such a server.
public struct ClientTLSSettings: Sendable, Equatable {
    /// Whether a client must show a certificate the CA signed (`tls-auth-clients`).
    public enum ClientAuthentication: String, Sendable, CaseIterable {
        /// A client without a valid certificate is refused during the handshake (mutual TLS).
        case yes
        /// No client certificate is asked for.
        case no
        /// A certificate is checked if the client shows one; a client without one is let in.
        case optional
    }

    /// The TLS port; 0 for none.
    public var port: Int
    /// PEM files: the server's certificate chain, its private key, and the CA that signs client
    /// certificates (also sent as the acceptable issuer).
    public var certificateFile: String
    public var keyFile: String
    public var caCertificateFile: String
    public var clientAuthentication: ClientAuthentication
    /// The protocol versions accepted, of `TLSv1.2` and `TLSv1.3` (`tls-protocols`).
    public var protocols: [String]
    /// The TLS 1.2 cipher list in OpenSSL's syntax; empty for the TLS library's default (`tls-ciphers`).
    public var ciphers: String

    public init(
        port: Int = 0,
        certificateFile: String = "",
        keyFile: String = "",
        caCertificateFile: String = "",
        clientAuthentication: ClientAuthentication = .yes,
        protocols: [String] = ClientTLSSettings.knownProtocols,
        ciphers: String = ""
    ) {
        self.port = port
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.caCertificateFile = caCertificateFile
        self.clientAuthentication = clientAuthentication
        self.protocols = protocols
        self.ciphers = ciphers
    }

    /// The protocol names `tls-protocols` takes, oldest first.
    public static let knownProtocols = ["TLSv1.2", "TLSv1.3"]

    /// Whether the TLS port is on.
    public var isEnabled: Bool { self.port != 0 }
}
