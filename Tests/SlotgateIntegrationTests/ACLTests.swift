//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import SlotgateConfiguration
import SlotgateProxy
import SlotgateRESP
import Testing

extension LiveClusterSuite {
    /// ACL users checked by Slotgate (`acl-mode proxy`): `user` lines in the configuration, in
    /// Redis's syntax; every command is checked against the client's user, with Redis's `NOPERM`
    /// texts, while the nodes keep the one user Slotgate's links sign in as.
    @Suite struct ACLTests {
        private static let users = [
            "alice on >alice-pw ~app:* &news +@read +@write +@pubsub +@transaction +acl|whoami -flushall",
            "reader on #\(Self.sha256Hex("reader-pw")) %R~* +@read +acl|whoami",
            "off-user off >pw ~* +@all",
        ]

        private static func sha256Hex(_ text: String) -> String {
            // The digest Redis's `#` rule takes: SHA-256 of the password, in hex.
            let (status, output) = (try? TestCertificates.shell("printf %s \"$1\" | sha256sum", [text])) ?? (1, "")
            return status == 0 ? String(output.prefix(64)) : ""
        }

        private static func withACLProxy(_ body: (ProxyUnderTest) async throws -> Void) async throws {
            let users = try ProxyConfiguration(parsing: Self.users.map { "user " + $0 }.joined(separator: "\n"), fileName: "acl.conf").users
            try await withOwnProxy({
                $0.users = users
                $0.requirePassword = "default-pw"
            }) { try await body($0) }
        }

        @Test func eachUserRunsOnlyWhatItsRulesAllow() async throws {
            try await Self.withACLProxy { proxy in
                let client = try proxy.connect()
                #expect(try client.command(["GET", "app:1"]) == .error("NOAUTH Authentication required."))
                #expect(try client.command(["AUTH", "alice", "wrong"]) == .error("WRONGPASS invalid username-password pair or user is disabled."))
                #expect(try client.command(["AUTH", "off-user", "pw"]) == .error("WRONGPASS invalid username-password pair or user is disabled."))
                #expect(try client.command(["AUTH", "alice", "alice-pw"]) == .simpleString("OK"))
                #expect(try client.command(["ACL", "WHOAMI"]).string == "alice")
                #expect(try client.command(["SET", "app:1", "v"]) == .simpleString("OK"))
                #expect(try client.command(["GET", "app:1"]).string == "v")
                let noKey = RESPValue.error("NOPERM this user has no permissions to access one of the keys used as arguments")
                #expect(try client.command(["SET", "other:1", "v"]) == noKey)
                #expect(try client.command(["MSET", "app:2", "v", "other:2", "v"]) == noKey)
                #expect(try client.command(["FLUSHALL"]) == .error("NOPERM this user has no permissions to run the 'flushall' command"))
                #expect(try client.command(["PUBLISH", "news", "hi"]).int != nil)
                #expect(
                    try client.command(["PUBLISH", "gossip", "hi"])
                        == .error("NOPERM this user has no permissions to access one of the channels used as arguments")
                )
                // Refused inside MULTI: EXEC aborts, as in Redis.
                #expect(try client.command(["MULTI"]) == .simpleString("OK"))
                #expect(try client.command(["SET", "app:3", "v"]) == .simpleString("QUEUED"))
                #expect(try client.command(["SET", "other:3", "v"]) == noKey)
                #expect(try client.command(["EXEC"]) == .error("EXECABORT Transaction discarded because of previous errors."))
                #expect(try client.command(["EXISTS", "app:3"]) == .integer(0))

                // A read-only user with a hashed password: reads anywhere, writes nowhere.
                #expect(try client.command(["AUTH", "reader", "reader-pw"]) == .simpleString("OK"))
                #expect(try client.command(["GET", "app:1"]).string == "v")
                #expect(try client.command(["SET", "app:1", "w"]) == .error("NOPERM this user has no permissions to run the 'set' command"))
                #expect(try client.command(["ACL", "WHOAMI"]).string == "reader")

                // The default user has every permission, with requirepass as its password.
                #expect(try client.command(["AUTH", "default-pw"]) == .simpleString("OK"))
                #expect(try client.command(["SET", "other:1", "v"]) == .simpleString("OK"))
                let list = try #require(try client.command(["ACL", "LIST"]).array?.compactMap(\.string))
                #expect(
                    list.count == 4 && list.contains { $0.hasPrefix("user alice on #") } && list.contains { $0.hasPrefix("user default on #") },
                    "\(list)"
                )
                #expect(try client.command(["ACL", "CAT"]).array?.contains(.bulkString(Array("read".utf8))) == true)
                #expect(try client.command(["ACL", "CAT", "nosuch"]) == .error("ERR Unknown category 'nosuch'"))
                #expect(
                    try client.command(["ACL", "SETUSER", "x"]).errorText?.hasPrefix("ERR 'ACL SETUSER' is not available through Slotgate") == true
                )
            }
        }

        /// redis-py signs in with a user and password (`username=`), in RESP2 and RESP3 (HELLO 3 AUTH).
        @Test func redisPySignsInAsAUser() async throws {
            try await Self.withACLProxy { proxy in
                try ClientWorkload.run(
                    "run_acl_user_workload.sh",
                    port: proxy.port,
                    arguments: ["alice", "alice-pw", "app:"],
                    summaryPrefix: "OK: redis-py signed in as alice"
                )
            }
        }
    }
}
