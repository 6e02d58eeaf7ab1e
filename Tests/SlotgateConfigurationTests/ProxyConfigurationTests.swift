//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import NIOCore
import SlotgateACL
import SlotgateCluster
@testable import SlotgateConfiguration
import Testing

/// Protects the configuration file: defaults, the redis.conf-style syntax, the repeatable
/// `cluster` directive, sizes with units, and errors that name the file and line at fault.
@Suite("ProxyConfiguration")
struct ProxyConfigurationTests {
    static func parse(_ text: String) throws(ConfigurationError) -> ProxyConfiguration {
        try ProxyConfiguration(parsing: text, fileName: "conf")
    }

    /// The error `text` is rejected with, or `nil` if it is accepted.
    static func rejection(_ text: String) -> String? {
        do throws(ConfigurationError) {
            _ = try self.parse(text)
            return nil
        } catch {
            return error.description
        }
    }

    @Test("defaults")
    func defaults() {
        let configuration = ProxyConfiguration()
        #expect(configuration.bind == "127.0.0.1")
        #expect(configuration.port == 7777)
        #expect(configuration.seeds == [NodeAddress(host: "127.0.0.1", port: 7000)])
        #expect(configuration.threads == 0)
        #expect(configuration.eventLoopThreads == System.coreCount)
        #expect(configuration.logLevel == .info)
        #expect(configuration.topologyRefreshInterval == .seconds(10))
        #expect(configuration.topologyMinimumRefreshInterval == .milliseconds(200))
        #expect(configuration.connectTimeout == .seconds(1))
        #expect(configuration.maxRedirects == 5)
        #expect(configuration.protoMaxBulkLength == 512 * 1024 * 1024)
    }

    @Test("empty text, blank lines and comments leave the defaults")
    func emptyText() throws {
        #expect(try Self.parse("") == ProxyConfiguration())
        #expect(try Self.parse("\n\n   \n\t\n# port 1\n   # threads 3\n") == ProxyConfiguration())
    }

    @Test("a file with every directive, comments and blank lines")
    func fullFile() throws {
        let text = """
            # Slotgate configuration

            bind 0.0.0.0
            port 7001
              threads 4\t
            log-level DEBUG
            # seeds
            cluster 10.0.0.1:7000 10.0.0.2:7000
            cluster [::1]:7002
            topology-refresh-interval 5000
            topology-refresh-min-interval 0
            connect-timeout 250
            max-redirects 0
            proto-max-bulk-len 64mb
            failover-hold 2500
            failover-hold-max-memory 1mb
            request-timeout 0
            read-from Prefer-Replica
            replica-max-lag 3
            """
        let configuration = try Self.parse(text)
        #expect(configuration.bind == "0.0.0.0")
        #expect(configuration.port == 7001)
        #expect(configuration.threads == 4)
        #expect(configuration.logLevel == .debug)
        #expect(
            configuration.seeds == [
                NodeAddress(host: "10.0.0.1", port: 7000), NodeAddress(host: "10.0.0.2", port: 7000), NodeAddress(host: "::1", port: 7002),
            ]
        )
        #expect(configuration.topologyRefreshInterval == .seconds(5))
        #expect(configuration.topologyMinimumRefreshInterval == .zero)
        #expect(configuration.connectTimeout == .milliseconds(250))
        #expect(configuration.maxRedirects == 0)
        #expect(configuration.protoMaxBulkLength == 64 * 1024 * 1024)
        #expect(configuration.failoverHold == .milliseconds(2500))
        #expect(configuration.failoverHoldMaxMemory == 1024 * 1024)
        #expect(configuration.requestTimeout == .zero)
        #expect(configuration.readPolicy == .preferReplica)
        #expect(configuration.replicaMaxLag == 3)
    }

    @Test("every directive's value reads back as the file writes it, and parses to the same configuration")
    func valuesRoundTrip() throws {
        var configuration = try Self.parse(
            "port 7001\nfailover-hold 2500\nread-from nearest\nadmin-password s3cret\ncluster a:1 b:2\nuser alice on >pw ~a:*\nuser bob off\n"
        )
        configuration.clusterPassword = ""
        let text = ProxyConfiguration.directiveNames.map { "\($0) \(configuration.value(of: $0))" }.joined(separator: "\n")
        #expect(try Self.parse(text) == configuration)
        #expect(configuration.value(of: "failover-hold") == "2500")
        #expect(configuration.value(of: "cluster") == "a:1 b:2")
        #expect(configuration.value(of: "admin-password") == "s3cret")
        #expect(ProxyConfiguration().value(of: "failover-hold") == "auto")
        #expect(Set(ProxyConfiguration.directiveNames).isSuperset(of: ProxyConfiguration.restartOnlyDirectives))
    }

    @Test("failover-hold takes auto or milliseconds; read-from names a policy")
    func failoverHoldAndReadFrom() throws {
        #expect(try Self.parse("failover-hold AUTO\n").failoverHold == nil)
        #expect(try Self.parse("failover-hold 0\n").failoverHold == .zero)
        #expect(Self.rejection("failover-hold soon\n") == "conf:1: 'soon' is not a whole number from 0 to 3600000")
        #expect(
            Self.rejection("read-from slaves\n") == "conf:1: 'slaves' is not a read-from policy (master, prefer-replica, replica, nearest)"
        )
    }

    @Test("seeds from the file replace the default seed; repeated cluster lines add up")
    func clusterRepeated() throws {
        let one = try Self.parse("cluster 10.0.0.9:6379\n")
        #expect(one.seeds == [NodeAddress(host: "10.0.0.9", port: 6379)])
        let three = try Self.parse("cluster a:1\nport 1\ncluster b:2 c:3\n")
        #expect(three.seeds == [NodeAddress(host: "a", port: 1), NodeAddress(host: "b", port: 2), NodeAddress(host: "c", port: 3)])
    }

    @Test("directive names are case-insensitive; a repeated directive's last value wins")
    func caseAndRepeats() throws {
        let configuration = try Self.parse("PORT 7001\nPort 7002\nLOG-LEVEL warning\nCluster h:1\n")
        #expect(configuration.port == 7002)
        #expect(configuration.logLevel == .warning)
        #expect(configuration.seeds == [NodeAddress(host: "h", port: 1)])
    }

    @Test(
        "sizes take k, kb, m, mb, g, gb (any case) or plain bytes",
        arguments: [
            ("512mb", 536_870_912), ("1gb", 1_073_741_824), ("64kb", 65_536), ("100k", 100_000), ("2m", 2_000_000),
            ("1g", 1_000_000_000), ("1024", 1024), ("2048b", 2048), ("1MB", 1_048_576), ("3Gb", 3_221_225_472),
        ] as [(String, Int)]
    )
    func sizes(text: String, bytes: Int) throws {
        #expect(try Self.parse("proto-max-bulk-len \(text)").protoMaxBulkLength == bytes)
    }

    @Test("sizes that are not sizes or out of range are rejected", arguments: ["1023", "0", "-1kb", "4gb", "ten", "10kib", "mb", "1.5mb", ""])
    func badSizes(text: String) throws {
        let message = try #require(Self.rejection("proto-max-bulk-len \(text)"))
        #expect(message.hasPrefix("conf:1: "))
    }

    @Test("an unknown directive names the file, the line and the directive")
    func unknownDirective() {
        #expect(Self.rejection("port 7001\n\nnope 1\n") == "conf:3: unknown directive 'nope'")
        #expect(Self.rejection("# comment\nNoPe\n") == "conf:2: unknown directive 'NoPe'")
    }

    @Test(
        "bad values are rejected with file:line",
        arguments: [
            ("port 70000", "conf:1: '70000' is not a whole number from 0 to 65535"),
            ("port -1", "conf:1: '-1' is not a whole number from 0 to 65535"),
            ("port http", "conf:1: 'http' is not a whole number from 0 to 65535"),
            ("threads -1", "conf:1: '-1' is not a whole number from 0 to 1024"),
            ("max-redirects 101", "conf:1: '101' is not a whole number from 0 to 100"),
            ("connect-timeout 0", "conf:1: '0' is not a whole number from 1 to 600000"),
            ("topology-refresh-interval 99", "conf:1: '99' is not a whole number from 100 to 86400000"),
        ] as [(String, String)]
    )
    func badValues(line: String, expected: String) {
        #expect(Self.rejection(line) == expected)
        // The same line further down the file reports its own line number.
        #expect(Self.rejection("bind 0.0.0.0\n# x\n\(line)\n") == expected.replacingOccurrences(of: "conf:1:", with: "conf:3:"))
    }

    @Test("an unknown log level lists the known ones")
    func badLogLevel() throws {
        let message = try #require(Self.rejection("port 1\nlog-level loud"))
        #expect(message.hasPrefix("conf:2: 'loud' is not a log level ("))
        for level in ["trace", "debug", "info", "notice", "warning", "error", "critical"] {
            #expect(message.contains(level))
        }
    }

    @Test(
        "log levels parse in any case",
        arguments: [("trace", Logger.Level.trace), ("NOTICE", .notice), ("Error", .error), ("critical", .critical)]
    )
    func logLevels(text: String, level: Logger.Level) throws {
        #expect(try Self.parse("log-level \(text)").logLevel == level)
    }

    @Test("a single-valued directive with no value or two values is rejected")
    func valueCount() {
        #expect(Self.rejection("port") == "conf:1: 'port' takes one value, got 0")
        #expect(Self.rejection("port 1 2") == "conf:1: 'port' takes one value, got 2")
    }

    @Test("a value in double quotes may hold spaces; \"\" is the empty value; quotes must balance")
    func quotedValues() throws {
        #expect(try Self.parse("tls-protocols \"TLSv1.3 TLSv1.2\"").tls.protocols == ["TLSv1.2", "TLSv1.3"])
        #expect(try Self.parse("tls-protocols TLSv1.3").tls.protocols == ["TLSv1.3"])
        #expect(try Self.parse("requirepass \"two words\"").requirePassword == "two words")
        #expect(try Self.parse("requirepass \"\"").requirePassword == "")
        #expect(Self.rejection("requirepass \"open") == "conf:1: unbalanced quotes")
        #expect(Self.rejection("requirepass \"a\"b") == "conf:1: closing quote must be followed by a space")
        // Found by FuzzConfiguration: a quoted value holding a tab must be written back quoted.
        let tabbed = try Self.parse("cluster-password \"a\tb\"")
        #expect(tabbed.clusterPassword == "a\tb")
        #expect(try Self.parse("cluster-password \(tabbed.value(of: "cluster-password"))").clusterPassword == "a\tb")
        #expect(Self.rejection("tls-protocols \"TLSv1.1 TLSv1.2\"") == "conf:1: 'TLSv1.1 TLSv1.2' is not a list of TLS versions (TLSv1.2, TLSv1.3)")
    }

    @Test("user lines make ACL users, in order, and read back as ACL LIST writes them")
    func userLines() throws {
        let configuration = try Self.parse("user alice on >pw ~app:* +@read\nuser bob off")
        #expect(configuration.users.map(\.name) == ["alice", "bob"])
        let written = "user " + configuration.value(of: "user")
        #expect(try Self.parse(written) == configuration)
        // Found by FuzzConfiguration: a quoted rule with a space would not read back the same.
        #expect(Self.rejection("user carol on \"~a b\"") == "conf:1: an ACL user's name and rules cannot hold spaces (only a >password can)")
        #expect(Self.rejection("user \"\" on") == "conf:1: an ACL user's name cannot be empty")
        #expect(try Self.parse("user carol on \">two words\"").users.first?.accepts(password: ByteBuffer(string: "two words")) == true)
        // The keyword in any case, the rules read by the ACL module's parser.
        let quoted = try Self.parse("User dave on \">pass word\" ~app:* +get").users
        #expect(quoted.map { $0.aclListEntry.split(separator: " ").prefix(3).joined(separator: " ") } == ["user dave on"])
        #expect(quoted.first?.accepts(password: ByteBuffer(string: "pass word")) == true)
        #expect(Self.rejection("user carol on +@nosuchcategory")?.hasPrefix("conf:1: Error in ACL SETUSER modifier '+@nosuchcategory'") == true)
    }

    @Test("acl-mode passthrough takes no user lines and no requirepass")
    func aclMode() throws {
        #expect(try Self.parse("").aclMode == .proxy)
        let passthrough = try Self.parse("acl-mode passthrough\npassthrough-idle-timeout 5")
        #expect(passthrough.aclMode == .passthrough && passthrough.passthroughIdleTimeout == 5)
        let conflict = "conf: acl-mode passthrough has the cluster check users and passwords; it takes no user lines and no requirepass"
        #expect(Self.rejection("acl-mode passthrough\nuser alice on") == conflict)
        #expect(Self.rejection("requirepass pw\nacl-mode passthrough") == conflict)
        #expect(Self.rejection("acl-mode both") == "conf:1: 'both' is not a mode for acl-mode (proxy, passthrough)")
        #expect(Self.rejection("passthrough-idle-timeout 0")?.hasPrefix("conf:1: ") == true)
    }

    @Test("the TLS port's directives")
    func tlsDirectives() throws {
        let tls = try Self.parse(
            "tls-port 6380\ntls-cert-file /etc/s.crt\ntls-key-file /etc/s.key\ntls-ca-cert-file /etc/ca.crt\ntls-auth-clients optional\ntls-ciphers HIGH:!aNULL"
        ).tls
        #expect(
            tls
                == ClientTLSSettings(
                    port: 6380,
                    certificateFile: "/etc/s.crt",
                    keyFile: "/etc/s.key",
                    caCertificateFile: "/etc/ca.crt",
                    clientAuthentication: .optional,
                    ciphers: "HIGH:!aNULL"
                )
        )
        #expect(Self.rejection("tls-auth-clients maybe") == "conf:1: 'maybe' is not a tls-auth-clients value (yes, no, optional)")
    }

    @Test("cluster needs host:port addresses")
    func badCluster() {
        #expect(Self.rejection("cluster") == "conf:1: 'cluster' needs at least one host:port")
        #expect(Self.rejection("\ncluster a:1 nope") == "conf:2: 'nope' is not host:port")
        #expect(Self.rejection("cluster a:0") == "conf:1: 'a:0' is not host:port")
    }

    // redis.conf, which this format follows, trims " \t\r\n" from each line, so a file saved
    // with Windows line ends loads. Swift treats "\r\n" as a single Character, so splitting the
    // text on "\n" never splits a CRLF file.
    // BUG (Sources/SlotgateProxy/ProxyConfiguration+File.swift:34-35): a CRLF file is one "line".
    // If it starts with a comment, as below, the whole file is silently ignored and the defaults
    // are used; otherwise it is rejected with a misleading "conf:1: 'port' takes one value, got 2"
    // (and `trimmingCharacters(in: .whitespaces)` would not remove a "\r" either).
    @Test("a file with CRLF line ends parses like one with LF")
    func crlfLineEnds() throws {
        let configuration = try Self.parse("# comment\r\nport 7001\r\nthreads 2\r\n\r\ncluster h:1\r\n")
        #expect(configuration.port == 7001)
        #expect(configuration.threads == 2)
        #expect(configuration.seeds == [NodeAddress(host: "h", port: 1)])
        #expect(Self.rejection("port 7001\r\nthreads 2\r\n") == nil)
    }

    @Test("set(_:_:) applies one directive, as the command line does")
    func setDirective() throws {
        var configuration = ProxyConfiguration()
        try configuration.set("port", ["6380"])
        try configuration.set("LOG-LEVEL", ["error"])
        #expect(configuration.port == 6380)
        #expect(configuration.logLevel == .error)
        #expect(throws: ConfigurationError.self) { try configuration.set("threads", ["-1"]) }
        do throws(ConfigurationError) {
            try configuration.set("nope", ["1"])
            Issue.record("nope was accepted")
        } catch {
            #expect(error.description == "unknown directive 'nope'")
        }
        #expect(configuration.threads == ProxyConfiguration().threads)
    }

    @Test("parseSeeds reads host:port lists")
    func parseSeeds() throws {
        #expect(try ProxyConfiguration.parseSeeds(["a:1", "[::1]:2"]) == [NodeAddress(host: "a", port: 1), NodeAddress(host: "::1", port: 2)])
        #expect(throws: ConfigurationError.self) { try ProxyConfiguration.parseSeeds([]) }
        #expect(throws: ConfigurationError.self) { try ProxyConfiguration.parseSeeds(["a"]) }
    }

    @Test("a file on disk is read; a missing file is an error naming it")
    func contentsOfFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("slotgate-unit-\(UUID().uuidString).conf").path
        try "port 7100\ncluster 10.0.0.1:7000\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = try ProxyConfiguration(contentsOfFile: path)
        #expect(configuration.port == 7100)
        #expect(configuration.seeds == [NodeAddress(host: "10.0.0.1", port: 7000)])

        try "port 7100\nbogus 1\n".write(toFile: path, atomically: true, encoding: .utf8)
        do throws(ConfigurationError) {
            _ = try ProxyConfiguration(contentsOfFile: path)
            Issue.record("bogus was accepted")
        } catch {
            #expect(error.description == "\(path):2: unknown directive 'bogus'")
        }

        let missing = path + ".missing"
        do throws(ConfigurationError) {
            _ = try ProxyConfiguration(contentsOfFile: missing)
            Issue.record("a missing file was read")
        } catch {
            #expect(error.description.hasPrefix("\(missing): cannot read"))
        }
    }

    /// The example shipped at the repository root documents every directive with its default:
    /// as shipped (all commented out) and with every `# directive value` line uncommented, it
    /// parses to exactly the defaults in code, and it names every directive there is.
    @Test("proxy.conf.example parses to exactly the defaults")
    func exampleFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let example = root.appendingPathComponent("proxy.conf.example").path
        #expect(FileManager.default.fileExists(atPath: example), "missing \(example)")
        #expect(try ProxyConfiguration(contentsOfFile: example) == ProxyConfiguration())

        let text = try String(contentsOfFile: example, encoding: .utf8)
        let shownDefaults = text.split(separator: "\n").filter { $0.hasPrefix("# ") && $0.dropFirst(2).first?.isLowercase == true }
            .map { String($0.dropFirst(2)) }
            .filter { line in
                // A directive and one value, which may be a quoted string with spaces.
                let words = line.split(separator: " ")
                let oneValue = words.count == 2 || (words.count > 2 && words[1].hasPrefix("\"") && line.hasSuffix("\""))
                return oneValue && words[0].allSatisfy { $0.isLowercase || $0 == "-" }
            }
        let directives = Set(shownDefaults.map { String($0.split(separator: " ")[0]) })
        // `user` lines have no default (none); the example shows them indented, as examples.
        #expect(directives == Set(ProxyConfiguration.directiveNames).subtracting(["user"]))
        #expect(text.contains("#   user alice on "))
        #expect(try ProxyConfiguration(parsing: shownDefaults.joined(separator: "\n"), fileName: "uncommented") == ProxyConfiguration())
    }
}
