//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

/// TLS to the cluster's nodes (`cluster-tls` and its files), as plain values.
///
/// Nodes run with Redis's `tls-port` and `tls-cluster yes` accept only TLS; every connection
/// Slotgate makes to them — node links and the topology monitor's — then speaks TLS, showing
/// the client certificate when the nodes ask for one (`tls-auth-clients`, on by default in Redis).
public struct NodeTLSSettings: Sendable, Equatable {
    public var enabled: Bool
    /// PEM files: Slotgate's client certificate and key (empty for none), and the CA that signed
    /// the nodes' certificates (empty for the system's trusted CAs).
    public var certificateFile: String
    public var keyFile: String
    public var caCertificateFile: String

    public init(enabled: Bool = false, certificateFile: String = "", keyFile: String = "", caCertificateFile: String = "") {
        self.enabled = enabled
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.caCertificateFile = caCertificateFile
    }
}
